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

/// Makes a struct a model of one table. See the `strata` crate for the attribute keys.
#[proc_macro_attribute]
pub fn schema(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand(args.into(), item.into()).into()
}

/// Makes a struct the rows of a view: `#[strata::view("analytics", sql = "SELECT …")]`,
/// or `sql_file = "…"`, and `materialized` for a materialized view. See the
/// `strata` crate.
#[proc_macro_attribute]
pub fn view(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::expand_view(args.into(), item.into()).into()
}
