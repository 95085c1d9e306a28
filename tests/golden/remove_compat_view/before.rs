#[strata::schema("tenant_shared", table = "products", moved_from = "public", compat_view)]
pub struct Product {
    #[column(primary_key, identity)]
    pub id: i64,
}
