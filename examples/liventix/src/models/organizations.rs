//! `organizations`: Organisations and who belongs to them.

#[allow(unused_imports)]
use strata::sqlx::types::chrono::{DateTime, NaiveDate, Utc};

#[allow(unused_imports)]
use super::{
    analytics::*, campaigns::*, events::*, messaging::*, ml::*, payments::*, public::*,
    reference::*, sponsorship::*, ticketing::*, users::*,
};

/// An organisation that runs events.
#[strata::schema(
    "organizations",
    table = "organizations",
    moved_from = "public",
    compat_view,
    rls
)]
#[policy(
    name = "orgs_of_member",
    for = "select",
    to = "liventix_app",
    using = "id IN (SELECT public.user_orgs())"
)]
#[grant(select, to = "liventix_app")]
#[derive(Debug, Clone)]
pub struct Organization {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(unique)]
    pub slug: String,
    pub name: String,
    #[column(default = "now()")]
    pub created_at: DateTime<Utc>,
}

/// A person's membership of an organisation.
#[strata::schema(
    "organizations",
    table = "members",
    moved_from = "public",
    renamed_from = "org_members",
    compat_view,
    rls
)]
#[policy(
    name = "members_self",
    for = "select",
    to = "liventix_app",
    using = "user_id = (SELECT public.current_user_id())"
)]
#[grant(select, to = "liventix_app")]
#[derive(Debug, Clone)]
pub struct Member {
    #[column(primary_key, references = Organization)]
    pub org_id: i64,
    #[column(primary_key, references = Profile, index)]
    pub user_id: i64,
    #[column(type = "varchar(16)", default = "'member'")]
    pub role: String,
    #[column(default = "now()")]
    pub joined_at: DateTime<Utc>,
}

/// An invitation to join an organisation.
#[strata::schema(
    "organizations",
    table = "invitations",
    moved_from = "public",
    renamed_from = "org_invitations"
)]
#[derive(Debug, Clone)]
pub struct Invitation {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Organization, index)]
    pub org_id: i64,
    pub email: String,
    pub expires_at: DateTime<Utc>,
}

/// An organisation's plan.
#[strata::schema(
    "organizations",
    table = "settings",
    moved_from = "public",
    renamed_from = "org_settings"
)]
#[derive(Debug, Clone)]
pub struct OrgSetting {
    #[column(primary_key, references = Organization)]
    pub org_id: i64,
    #[column(type = "varchar(16)", default = "'free'")]
    pub plan: String,
    #[column(default = "5")]
    pub seats: i32,
}
