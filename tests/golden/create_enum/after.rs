#[strata::schema("shop")]
pub enum OrderStatus {
    Pending,
    Paid,
    Shipped,
}

#[strata::schema("shop", table = "orders")]
pub struct Order {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(default = "'pending'")]
    pub status: OrderStatus,
}
