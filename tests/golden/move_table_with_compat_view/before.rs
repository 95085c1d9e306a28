#[strata::schema("public", table = "products")]
pub struct Product {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(unique, type = "varchar(64)")]
    pub sku: String,
}

#[strata::schema("public", table = "product_variants")]
pub struct ProductVariant {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Product, index)]
    pub product_id: i64,
}
