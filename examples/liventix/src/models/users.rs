//! `users`: People and their accounts.

#[allow(unused_imports)]
use strata::sqlx::types::chrono::{DateTime, NaiveDate, Utc};

#[allow(unused_imports)]
use super::{
    analytics::*, campaigns::*, events::*, messaging::*, ml::*, organizations::*, payments::*,
    public::*, reference::*, sponsorship::*, ticketing::*,
};

/// A person with an account.
#[strata::schema(
    "users",
    table = "profiles",
    moved_from = "public",
    renamed_from = "user_profiles",
    compat_view
)]
#[grant(select, to = "liventix_app")]
#[derive(Debug, Clone)]
pub struct Profile {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(unique, type = "varchar(255)")]
    pub email: String,
    pub display_name: String,
    #[column(references = Country, type = "varchar(2)")]
    pub country_code: Option<String>,
    #[column(default = "now()")]
    pub created_at: DateTime<Utc>,
}

/// A person's preferences.
#[strata::schema(
    "users",
    table = "settings",
    moved_from = "public",
    renamed_from = "user_settings"
)]
#[derive(Debug, Clone)]
pub struct UserSetting {
    #[column(primary_key, references = Profile, on_delete = "cascade")]
    pub user_id: i64,
    #[column(default = "'en'")]
    pub locale: String,
    #[column(default = "false")]
    pub marketing_opt_in: bool,
}

/// A signed-in session.
#[strata::schema(
    "users",
    table = "sessions",
    moved_from = "public",
    renamed_from = "user_sessions"
)]
#[derive(Debug, Clone)]
pub struct Session {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Profile, on_delete = "cascade", index)]
    pub user_id: i64,
    #[column(default = "now()")]
    pub started_at: DateTime<Utc>,
    pub user_agent: Option<String>,
}

/// One person following another.
#[strata::schema(
    "users",
    table = "follows",
    moved_from = "public",
    renamed_from = "user_follows"
)]
#[derive(Debug, Clone)]
pub struct Follow {
    #[column(primary_key, references = Profile)]
    pub follower_id: i64,
    #[column(primary_key, references = Profile)]
    pub followee_id: i64,
    #[column(default = "now()")]
    pub created_at: DateTime<Utc>,
}
