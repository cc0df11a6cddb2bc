//! A small-vector that keeps up to `N` items inline and spills to the heap
//! beyond, and (unlike `smallvec::SmallVec`) is covariant in its item type,
//! so that parsed views with different borrow lifetimes compare and mix
//! freely.

use std::fmt;
use std::ops::Deref;

use arrayvec::ArrayVec;

/// Up to `N` items inline, more on the heap. Derefs to a slice.
#[derive(Clone)]
pub struct List<T, const N: usize>(Repr<T, N>);

#[derive(Clone)]
enum Repr<T, const N: usize> {
    Inline(ArrayVec<T, N>),
    Heap(Vec<T>),
}

impl<T, const N: usize> List<T, N> {
    /// An empty list.
    pub const fn new() -> Self {
        List(Repr::Inline(ArrayVec::new_const()))
    }

    /// Appends an item, moving to the heap when the inline space is full.
    pub fn push(&mut self, item: T) {
        match &mut self.0 {
            Repr::Inline(items) => {
                if let Err(full) = items.try_push(item) {
                    let mut heap = Vec::with_capacity(N * 2 + 1);
                    heap.extend(items.drain(..));
                    heap.push(full.element());
                    self.0 = Repr::Heap(heap);
                }
            }
            Repr::Heap(items) => items.push(item),
        }
    }
}

impl<T, const N: usize> Default for List<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T, const N: usize> Deref for List<T, N> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        match &self.0 {
            Repr::Inline(items) => items,
            Repr::Heap(items) => items,
        }
    }
}

impl<T: fmt::Debug, const N: usize> fmt::Debug for List<T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T: PartialEq, const N: usize> PartialEq for List<T, N> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<T: Eq, const N: usize> Eq for List<T, N> {}

impl<T, const N: usize> FromIterator<T> for List<T, N> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut list = Self::new();
        for item in iter {
            list.push(item);
        }
        list
    }
}

impl<'l, T, const N: usize> IntoIterator for &'l List<T, N> {
    type Item = &'l T;
    type IntoIter = std::slice::Iter<'l, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::List;

    #[test]
    fn spills_to_the_heap_keeping_order() {
        let mut l: List<u32, 2> = List::new();
        for i in 0..5 {
            l.push(i);
            assert_eq!(&*l, (0..=i).collect::<Vec<_>>().as_slice());
        }
        let m: List<u32, 2> = (0..5).collect();
        assert_eq!(l, m);
        assert_ne!(l, (0..4).collect());
    }
}
