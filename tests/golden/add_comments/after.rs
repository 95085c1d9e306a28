/// What the shop sells; one row per product, whatever its size.
#[strata::schema("shop", table = "products")]
pub struct Product {
    #[column(primary_key, identity)]
    pub id: i64,
    /// The name customers see.
    pub name: String,
    /// Added later, with its comment.
    pub note: Option<String>,
}
