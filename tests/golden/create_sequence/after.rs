#[strata::schema("shop", table = "orders")]
pub struct Order {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(default = "nextval('shop.order_no')")]
    pub number: i64,
}
