//! Server and User-Agent (RFC 3261 §20.35, §20.41): products and comments.

use smallvec::SmallVec;

use crate::sip::lex;
use crate::sip::{ValueError, ValueErrorKind, ValueLimits};

use super::value_type;

/// A product: `name[/version]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Product<'a> {
    /// The product name.
    pub name: &'a str,
    /// The product version.
    pub version: Option<&'a str>,
}

/// One element of a Server or User-Agent value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductItem<'a> {
    /// A product.
    Product(Product<'a>),
    /// The raw inside of a comment `( ... )`, escapes and nesting kept.
    Comment(&'a str),
}

/// `Server: HomeServer/2.1 (OMA IM) libfoo/1.0`.
///
/// ```
/// use oma_im::sip::{Product, ProductItem, ProductList};
/// let p = ProductList::parse("Softphone/Beta1.5 (Linux; x) Lib").unwrap();
/// assert_eq!(p.items[0], ProductItem::Product(Product { name: "Softphone", version: Some("Beta1.5") }));
/// assert_eq!(p.items[1], ProductItem::Comment("Linux; x"));
/// assert_eq!(p.products().count(), 2);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductList<'a> {
    /// Products and comments in order.
    pub items: SmallVec<[ProductItem<'a>; 4]>,
}

impl<'a> ProductList<'a> {
    /// Parses `( product / comment ) *( LWS ( product / comment ) )`.
    pub fn parse_with(value: &'a str, limits: &ValueLimits) -> Result<Self, ValueError> {
        let b = value.as_bytes();
        let mut items = SmallVec::new();
        let mut i = lex::skip_lws(value, 0);
        if i >= b.len() {
            return Err(ValueError::new(ValueErrorKind::Empty, i));
        }
        while i < b.len() {
            if items.len() >= limits.max_products {
                return Err(ValueError::new(ValueErrorKind::TooManyItems, i));
            }
            let end = if b.get(i) == Some(&b'(') {
                let (c, end) = lex::comment(value, i, limits.max_comment_depth)?;
                items.push(ProductItem::Comment(c));
                end
            } else {
                let (name, end) = lex::token(value, i)?;
                let j = lex::skip_lws(value, end);
                if b.get(j) == Some(&b'/') {
                    let (version, end) = lex::token(value, lex::skip_lws(value, j + 1))?;
                    items.push(ProductItem::Product(Product {
                        name,
                        version: Some(version),
                    }));
                    end
                } else {
                    items.push(ProductItem::Product(Product {
                        name,
                        version: None,
                    }));
                    end
                }
            };
            let next = lex::skip_lws(value, end);
            if next == end && next < b.len() && b.get(next) != Some(&b'(') {
                return Err(ValueError::new(ValueErrorKind::UnexpectedCharacter, next));
            }
            i = next;
        }
        Ok(ProductList { items })
    }

    /// The products, comments skipped.
    pub fn products(&self) -> impl Iterator<Item = &Product<'a>> {
        self.items.iter().filter_map(|i| match i {
            ProductItem::Product(p) => Some(p),
            ProductItem::Comment(_) => None,
        })
    }

    /// Appends the items separated by SP (line folds in comments unfolded).
    pub fn write(&self, out: &mut Vec<u8>) {
        for (k, item) in self.items.iter().enumerate() {
            if k > 0 {
                out.push(b' ');
            }
            match item {
                ProductItem::Product(p) => {
                    out.extend_from_slice(p.name.as_bytes());
                    if let Some(v) = p.version {
                        out.push(b'/');
                        out.extend_from_slice(v.as_bytes());
                    }
                }
                ProductItem::Comment(c) => {
                    out.push(b'(');
                    lex::write_unfolded(c, out);
                    out.push(b')');
                }
            }
        }
    }
}

value_type!(ProductList<'a>);
