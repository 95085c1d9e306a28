#[strata::schema("analytics", partition_by = "range(occurred_at)", partition_interval = "month")]
pub struct Event {
    #[column(primary_key, identity)]
    pub id: i64,
    pub occurred_at: chrono::DateTime<chrono::Utc>,
}

fn main() {}
