//! `analytics`: What people did, and its rollups.

#[allow(unused_imports)]
use strata::sqlx::types::chrono::{DateTime, NaiveDate, Utc};

#[allow(unused_imports)]
use super::{
    campaigns::*, events::*, messaging::*, ml::*, organizations::*, payments::*, public::*,
    reference::*, sponsorship::*, ticketing::*, users::*,
};

/// What people did, partitioned by month.
#[strata::schema(
    "analytics",
    table = "events",
    moved_from = "public",
    renamed_from = "analytics_events",
    partition_by = "range(occurred_at)",
    partition_interval = "month",
    partitions_ahead = 3
)]
#[grant(select, insert, to = "liventix_app")]
#[derive(Debug, Clone)]
pub struct AnalyticsEvent {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(primary_key)]
    pub occurred_at: DateTime<Utc>,
    pub org_id: i64,
    pub event_id: Option<i64>,
    pub user_id: Option<i64>,
    #[column(type = "varchar(32)", index)]
    pub name: String,
}

/// A day's totals for an organisation.
#[strata::schema(
    "analytics",
    table = "daily_rollups",
    moved_from = "public",
    renamed_from = "analytics_daily"
)]
#[derive(Debug, Clone)]
pub struct DailyRollup {
    #[column(primary_key)]
    pub day: NaiveDate,
    #[column(primary_key, references = Organization)]
    pub org_id: i64,
    pub views: i64,
    pub sales: i64,
}

/// A funnel an organisation watches.
#[strata::schema(
    "analytics",
    table = "funnels",
    moved_from = "public",
    renamed_from = "analytics_funnels"
)]
#[derive(Debug, Clone)]
pub struct Funnel {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Organization, index)]
    pub org_id: i64,
    pub name: String,
}

/// A page someone opened.
#[strata::schema("analytics", table = "page_views", moved_from = "public")]
#[derive(Debug, Clone)]
pub struct PageView {
    #[column(primary_key, identity)]
    pub id: i64,
    pub path: String,
    #[column(default = "now()")]
    pub viewed_at: DateTime<Utc>,
}
