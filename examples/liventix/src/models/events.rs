//! `events`: Events, their venues, posts and comments.

#[allow(unused_imports)]
use strata::sqlx::types::chrono::{DateTime, NaiveDate, Utc};

#[allow(unused_imports)]
use super::{
    analytics::*, campaigns::*, messaging::*, ml::*, organizations::*, payments::*, public::*,
    reference::*, sponsorship::*, ticketing::*, users::*,
};

/// A place events are held.
#[strata::schema("events", table = "venues", moved_from = "public", compat_view)]
#[grant(select, to = "liventix_app")]
#[derive(Debug, Clone)]
pub struct Venue {
    #[column(primary_key, identity)]
    pub id: i64,
    pub name: String,
    pub city: String,
    #[column(references = Country, type = "varchar(2)")]
    pub country_code: String,
}

/// An event an organisation holds.
#[strata::schema("events", table = "events", moved_from = "public", compat_view, rls)]
#[policy(
    name = "events_of_org",
    for = "select",
    to = "liventix_app",
    using = "org_id = (SELECT public.current_org_id())"
)]
#[policy(
    name = "events_written_for_org",
    for = "insert",
    to = "liventix_app",
    with_check = "org_id = (SELECT public.current_org_id())"
)]
#[grant(select, insert, update, to = "liventix_app")]
#[derive(Debug, Clone)]
pub struct Event {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Organization, index)]
    pub org_id: i64,
    #[column(references = Category)]
    pub category_id: Option<i64>,
    #[column(references = Venue)]
    pub venue_id: Option<i64>,
    pub title: String,
    pub starts_at: DateTime<Utc>,
    #[column(default = "false")]
    pub published: bool,
}

/// A post on an event's page.
#[strata::schema(
    "events",
    table = "posts",
    moved_from = "public",
    renamed_from = "event_posts",
    compat_view,
    rls
)]
#[policy(
    name = "posts_of_org",
    to = "liventix_app",
    using = "org_id = (SELECT public.current_org_id())",
    with_check = "org_id = (SELECT public.current_org_id())"
)]
#[grant(select, insert, update, delete, to = "liventix_app")]
#[derive(Debug, Clone)]
pub struct Post {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Organization, index)]
    pub org_id: i64,
    #[column(references = Event, on_delete = "cascade", index)]
    pub event_id: i64,
    #[column(references = Profile)]
    pub author_id: i64,
    pub body: String,
    #[column(default = "now()")]
    pub created_at: DateTime<Utc>,
}

/// A comment on a post.
#[strata::schema(
    "events",
    table = "comments",
    moved_from = "public",
    renamed_from = "post_comments",
    compat_view,
    rls
)]
#[policy(
    name = "comments_of_org",
    to = "liventix_app",
    using = "org_id = (SELECT public.current_org_id())",
    with_check = "org_id = (SELECT public.current_org_id())"
)]
#[grant(select, insert, update, delete, to = "liventix_app")]
#[derive(Debug, Clone)]
pub struct Comment {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Organization, index)]
    pub org_id: i64,
    #[column(references = Post, on_delete = "cascade", index)]
    pub post_id: i64,
    #[column(references = Profile)]
    pub author_id: i64,
    pub body: String,
    #[column(default = "now()")]
    pub created_at: DateTime<Utc>,
}

/// A tag on an event.
#[strata::schema(
    "events",
    table = "tags",
    moved_from = "public",
    renamed_from = "event_tags"
)]
#[derive(Debug, Clone)]
pub struct EventTag {
    #[column(primary_key, references = Event, on_delete = "cascade")]
    pub event_id: i64,
    #[column(primary_key, type = "varchar(32)")]
    pub tag: String,
}

/// A picture or video of an event.
#[strata::schema(
    "events",
    table = "media",
    moved_from = "public",
    renamed_from = "event_media"
)]
#[derive(Debug, Clone)]
pub struct EventMedia {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Event, on_delete = "cascade", index)]
    pub event_id: i64,
    pub url: String,
    #[column(type = "varchar(16)")]
    pub kind: String,
}
