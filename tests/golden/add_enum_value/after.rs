#[strata::schema("shop")]
pub enum OrderStatus {
    Pending,
    Paid,
    #[value(renamed_from = "shipped")]
    Sent,
    Refunded,
}

#[strata::schema("shop", table = "orders")]
pub struct Order {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(default = "'pending'")]
    pub status: OrderStatus,
}
