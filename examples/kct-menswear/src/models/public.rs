//! `public`: what stays behind, staff accounts and the AI assistant's log.

use strata::sqlx::types::chrono::{DateTime, Utc};
use strata::sqlx::types::JsonValue;

#[strata::schema("public", table = "users")]
#[derive(Debug, Clone)]
pub struct User {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(unique, type = "varchar(255)")]
    pub email: String,
    #[column(type = "varchar(16)", default = "'staff'")]
    pub role: String,
}

/// A mixed-case table name from the shop's first framework; it stays exactly so.
#[strata::schema("public", table = "AiAction")]
#[derive(Debug, Clone)]
pub struct AiAction {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(type = "varchar(64)")]
    pub action: String,
    pub payload: JsonValue,
    #[column(default = "now()")]
    pub created_at: DateTime<Utc>,
}
