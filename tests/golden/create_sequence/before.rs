#[strata::schema("shop", table = "orders")]
pub struct Order {
    #[column(primary_key, identity)]
    pub id: i64,
}
