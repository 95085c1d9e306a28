//! `audit`: who changed what, append-only.

use strata::sqlx::types::chrono::{DateTime, Utc};
use strata::sqlx::types::JsonValue;

#[strata::schema("audit", table = "change_log")]
#[derive(Debug, Clone)]
pub struct ChangeLog {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(type = "varchar(128)")]
    pub entity: String,
    pub entity_id: i64,
    #[column(type = "varchar(16)")]
    pub action: String,
    pub changes: JsonValue,
    #[column(default = "now()")]
    pub changed_at: DateTime<Utc>,
}
