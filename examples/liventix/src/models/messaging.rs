//! `messaging`: Messages to people, queued and sent.

#[allow(unused_imports)]
use strata::sqlx::types::chrono::{DateTime, NaiveDate, Utc};

#[allow(unused_imports)]
use super::{
    analytics::*, campaigns::*, events::*, ml::*, organizations::*, payments::*, public::*,
    reference::*, sponsorship::*, ticketing::*, users::*,
};

/// A message waiting to be sent.
#[strata::schema(
    "messaging",
    table = "message_jobs",
    moved_from = "public",
    compat_view,
    rls
)]
#[policy(
    name = "jobs_of_org",
    to = "liventix_app",
    using = "org_id = (SELECT public.current_org_id())",
    with_check = "org_id = (SELECT public.current_org_id())"
)]
#[grant(select, insert, update, delete, to = "liventix_app")]
#[derive(Debug, Clone)]
pub struct MessageJob {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Organization, index)]
    pub org_id: i64,
    #[column(type = "varchar(16)")]
    pub channel: String,
    pub recipient: String,
    #[column(type = "varchar(16)", default = "'queued'")]
    pub status: String,
    pub scheduled_at: DateTime<Utc>,
}

/// A message an organisation reuses.
#[strata::schema(
    "messaging",
    table = "templates",
    moved_from = "public",
    renamed_from = "message_templates"
)]
#[derive(Debug, Clone)]
pub struct Template {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Organization, index)]
    pub org_id: i64,
    pub name: String,
    pub body: String,
}

/// A thread between an organisation and people.
#[strata::schema("messaging", table = "conversations", moved_from = "public")]
#[derive(Debug, Clone)]
pub struct Conversation {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Organization, index)]
    pub org_id: i64,
    pub subject: String,
}

/// One message of a conversation.
#[strata::schema("messaging", table = "messages", moved_from = "public", compat_view)]
#[derive(Debug, Clone)]
pub struct Message {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Conversation, on_delete = "cascade", index)]
    pub conversation_id: i64,
    #[column(references = Profile)]
    pub sender_id: i64,
    pub body: String,
    #[column(default = "now()")]
    pub sent_at: DateTime<Utc>,
}
