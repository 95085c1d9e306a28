//! The `#[schema]` attribute of strata: a thin shell over `strata-build`'s parser.
//!
//! ```ignore
//! #[strata::schema("tenant_kct", table = "customers")]
//! pub struct Customer {
//!     #[column(primary_key, identity)]
//!     pub id: i64,
//!     pub note: Option<String>,
//! }
//! ```
#![deny(missing_docs)]

mod expand;

use proc_macro::TokenStream;

// The reference is a file of its own so that `strata-tests` compiles its
// examples as doc tests (this crate cannot: they need the runtime).
#[cfg_attr(not(doctest), doc = include_str!("schema.md"))]
#[cfg_attr(
    doctest,
    doc = "Makes a struct the model of one table (reference: schema.md)."
)]
#[proc_macro_attribute]
pub fn schema(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(args.into(), item.into()).into()
}

#[cfg_attr(not(doctest), doc = include_str!("view.md"))]
#[cfg_attr(
    doctest,
    doc = "Makes a struct the rows of a view (reference: view.md)."
)]
#[proc_macro_attribute]
pub fn view(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand_view(args.into(), item.into()).into()
}
