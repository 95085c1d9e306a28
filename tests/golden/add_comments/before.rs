#[strata::schema("shop", table = "products")]
pub struct Product {
    #[column(primary_key, identity)]
    pub id: i64,
    pub name: String,
}
