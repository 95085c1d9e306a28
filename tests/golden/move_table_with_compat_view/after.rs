#[strata::schema("tenant_shared", table = "products", moved_from = "public", compat_view)]
pub struct Product {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(unique, type = "varchar(64)")]
    pub sku: String,
}

#[strata::schema("tenant_shared", table = "product_variants", moved_from = "public")]
pub struct ProductVariant {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Product, index)]
    pub product_id: i64,
}
