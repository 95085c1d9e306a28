//! `analytics`: derived data, rebuilt by batch jobs.

use strata::sqlx::types::chrono::{DateTime, Utc};

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
