#[strata::schema("shop", table = "orders")]
pub struct ShopOrder {
    #[column(primary_key, identity)]
    pub id: i64,
    pub customer_id: i64,
    pub cents: i32,
}

#[strata::view(
    "analytics",
    sql = "SELECT customer_id, sum(cents)::bigint AS total FROM shop.orders GROUP BY customer_id"
)]
#[derive(Debug, PartialEq)]
pub struct CustomerTotals {
    pub customer_id: i64,
    pub total: i64,
}

#[strata::view(
    "analytics",
    sql = "SELECT customer_id FROM analytics.customer_totals WHERE total > 1000"
)]
#[derive(Debug, PartialEq)]
pub struct BigCustomers {
    pub customer_id: i64,
}

#[strata::view(
    "analytics",
    sql = "SELECT count(*) AS orders, coalesce(sum(cents), 0)::bigint AS cents FROM shop.orders",
    materialized = true
)]
#[index(columns = ["orders"], unique, name = "revenue_one_row")]
#[derive(Debug, PartialEq)]
pub struct Revenue {
    pub orders: i64,
    pub cents: i64,
}
