//! `analytics`: derived data, rebuilt by batch jobs.

use strata::sqlx::types::chrono::{DateTime, NaiveDate, Utc};

#[strata::schema("analytics", table = "customer_segments", moved_from = "public")]
#[derive(Debug, Clone)]
pub struct CustomerSegment {
    #[column(primary_key, identity)]
    pub id: i32,
    #[column(unique, type = "varchar(64)")]
    pub name: String,
    pub rule: String,
    #[column(default = "0")]
    pub member_count: i32,
    #[column(default = "now()")]
    pub refreshed_at: DateTime<Utc>,
}

/// Revenue per day from the orders not returned; refreshed by the shop,
/// concurrently (readers are never blocked) thanks to its unique index.
#[strata::view(
    "analytics",
    sql = "SELECT placed_at::date AS day, count(*) AS orders, sum(total_cents)::bigint AS revenue_cents
           FROM tenant_kct.orders WHERE status <> 'returned' GROUP BY 1",
    materialized = true
)]
#[index(columns = ["day"], unique, name = "daily_revenue_day")]
#[derive(Debug, Clone)]
pub struct DailyRevenue {
    pub day: NaiveDate,
    pub orders: i64,
    pub revenue_cents: i64,
}
