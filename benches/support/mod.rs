//! Shared benchmark support: a counting global allocator and a timing loop.
//!
//! Each bench binary includes this file with `mod support;` and installs the
//! allocator with `#[global_allocator] static A: support::Counting = support::Counting;`.
//! Figures are printed, never asserted: timing belongs in benchmarks, not tests.
#![allow(dead_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);
static LIVE: AtomicU64 = AtomicU64::new(0);
static PEAK: AtomicU64 = AtomicU64::new(0);

fn grow(n: u64) {
    let live = LIVE.fetch_add(n, Ordering::Relaxed) + n;
    PEAK.fetch_max(live, Ordering::Relaxed);
}

fn shrink(n: u64) {
    LIVE.fetch_sub(n, Ordering::Relaxed);
}

/// Bytes allocated and not yet freed.
pub fn live_bytes() -> u64 {
    LIVE.load(Ordering::Relaxed)
}

/// Starts a new peak: the highest [`live_bytes`] from now on is [`peak_bytes`].
pub fn reset_peak() {
    PEAK.store(LIVE.load(Ordering::Relaxed), Ordering::Relaxed);
}

/// The highest [`live_bytes`] since the last [`reset_peak`].
pub fn peak_bytes() -> u64 {
    PEAK.load(Ordering::Relaxed)
}

/// The system allocator, counting every allocation and reallocation.
pub struct Counting;

// SAFETY: every call is forwarded unchanged to `System`, which upholds the
// `GlobalAlloc` contract; the counters are plain atomics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        grow(layout.size() as u64);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        shrink(layout.size() as u64);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(layout.size() as u64, Ordering::Relaxed);
        grow(layout.size() as u64);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        BYTES.fetch_add(new_size as u64, Ordering::Relaxed);
        if new_size >= layout.size() {
            grow((new_size - layout.size()) as u64);
        } else {
            shrink((layout.size() - new_size) as u64);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Allocations and allocated bytes so far.
pub fn allocation_counts() -> (u64, u64) {
    (
        ALLOCATIONS.load(Ordering::Relaxed),
        BYTES.load(Ordering::Relaxed),
    )
}

/// One measured operation.
pub struct Measurement {
    /// Best (lowest) mean time per operation over the rounds, in nanoseconds.
    pub ns_per_op: f64,
    /// Allocations per operation (from the counting allocator).
    pub allocs_per_op: f64,
    /// Allocated bytes per operation.
    pub bytes_per_op: f64,
}

/// Runs `op` `iters` times per round over `rounds` rounds after a warm-up, and
/// reports the best round's time per operation and the allocations per
/// operation. The result of `op` goes through `black_box`.
pub fn measure<R>(name: &str, rounds: u32, iters: u64, mut op: impl FnMut() -> R) -> Measurement {
    for _ in 0..iters.min(1000) {
        black_box(op());
    }
    let mut best = f64::INFINITY;
    let (a0, b0) = allocation_counts();
    for _ in 0..rounds {
        let start = Instant::now();
        for _ in 0..iters {
            black_box(op());
        }
        let ns = start.elapsed().as_nanos() as f64 / iters as f64;
        best = best.min(ns);
    }
    let (a1, b1) = allocation_counts();
    let ops = (u64::from(rounds) * iters) as f64;
    let m = Measurement {
        ns_per_op: best,
        allocs_per_op: (a1 - a0) as f64 / ops,
        bytes_per_op: (b1 - b0) as f64 / ops,
    };
    println!(
        "{name:<48} {:>12.1} ns/op {:>8.2} allocs/op {:>10.1} bytes/op",
        m.ns_per_op, m.allocs_per_op, m.bytes_per_op
    );
    m
}
