//! `public`: System tables, kept in `public`.

#[allow(unused_imports)]
use strata::sqlx::types::chrono::{DateTime, NaiveDate, Utc};

#[allow(unused_imports)]
use super::{
    analytics::*, campaigns::*, events::*, messaging::*, ml::*, organizations::*, payments::*,
    reference::*, sponsorship::*, ticketing::*, users::*,
};

/// A setting of the whole application.
#[strata::schema("public", table = "app_settings")]
#[derive(Debug, Clone)]
pub struct AppSetting {
    #[column(primary_key)]
    pub key: String,
    pub value: String,
}

/// Who changed what.
#[strata::schema("public", table = "audit_log")]
#[derive(Debug, Clone)]
pub struct AuditLog {
    #[column(primary_key, identity)]
    pub id: i64,
    pub actor: Option<String>,
    pub action: String,
    #[column(default = "now()")]
    pub at: DateTime<Utc>,
}
