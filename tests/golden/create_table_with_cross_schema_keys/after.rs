#[strata::schema("tenant_kct", table = "customers")]
pub struct Customer {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(unique, type = "varchar(255)")]
    pub email: String,
    pub note: Option<String>,
}

#[strata::schema("tenant_shared", table = "products")]
pub struct Product {
    #[column(primary_key, identity)]
    pub id: i64,
    pub name: String,
}

#[strata::schema("tenant_kct", table = "orders")]
pub struct Order {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Customer, on_delete = "cascade")]
    pub customer_id: i64,
    #[column(references = Product, on_update = "cascade")]
    pub product_id: i64,
}
