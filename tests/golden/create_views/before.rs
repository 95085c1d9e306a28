#[strata::schema("shop", table = "orders")]
pub struct ShopOrder {
    #[column(primary_key, identity)]
    pub id: i64,
    pub customer_id: i64,
    pub cents: i32,
}

