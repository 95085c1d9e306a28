//! `ticketing`: Tickets and the orders that buy them.

#[allow(unused_imports)]
use strata::sqlx::types::chrono::{DateTime, NaiveDate, Utc};

#[allow(unused_imports)]
use super::{
    analytics::*, campaigns::*, events::*, messaging::*, ml::*, organizations::*, payments::*,
    public::*, reference::*, sponsorship::*, users::*,
};

/// A kind of ticket for an event, at a price.
#[strata::schema(
    "ticketing",
    table = "ticket_tiers",
    moved_from = "public",
    compat_view,
    rls
)]
#[policy(
    name = "tiers_of_org",
    to = "liventix_app",
    using = "org_id = (SELECT public.current_org_id())",
    with_check = "org_id = (SELECT public.current_org_id())"
)]
#[grant(select, insert, update, delete, to = "liventix_app")]
#[derive(Debug, Clone)]
pub struct TicketTier {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Organization, index)]
    pub org_id: i64,
    #[column(references = Event, on_delete = "cascade")]
    pub event_id: i64,
    pub name: String,
    #[column(check = "price_cents >= 0")]
    pub price_cents: i64,
    pub capacity: i32,
}

/// A ticket issued for an event.
#[strata::schema(
    "ticketing",
    table = "tickets",
    moved_from = "public",
    compat_view,
    rls
)]
#[policy(
    name = "tickets_of_org",
    for = "select",
    to = "liventix_app",
    using = "org_id = (SELECT public.current_org_id())"
)]
#[policy(
    name = "tickets_issued_for_org",
    for = "insert",
    to = "liventix_app",
    with_check = "org_id = (SELECT public.current_org_id())"
)]
#[policy(
    name = "tickets_changed_in_org",
    for = "update",
    to = "liventix_app",
    using = "org_id = (SELECT public.current_org_id())",
    with_check = "org_id = (SELECT public.current_org_id())"
)]
#[policy(
    name = "tickets_voided_in_org",
    for = "delete",
    to = "liventix_app",
    using = "org_id = (SELECT public.current_org_id())"
)]
#[grant(select, insert, update, delete, to = "liventix_app")]
#[derive(Debug, Clone)]
pub struct Ticket {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Organization, index)]
    pub org_id: i64,
    #[column(references = Event, index)]
    pub event_id: i64,
    #[column(references = TicketTier)]
    pub tier_id: i64,
    #[column(references = Profile)]
    pub holder_id: Option<i64>,
    #[column(unique, type = "varchar(32)")]
    pub code: String,
    #[column(type = "varchar(16)", default = "'issued'")]
    pub status: String,
    #[column(default = "now()")]
    pub issued_at: DateTime<Utc>,
}

/// An order for tickets.
#[strata::schema("ticketing", table = "orders", moved_from = "public", compat_view, rls)]
#[policy(
    name = "orders_of_org",
    for = "select",
    to = "liventix_app",
    using = "org_id = (SELECT public.current_org_id())"
)]
#[policy(
    name = "orders_placed_for_org",
    for = "insert",
    to = "liventix_app",
    with_check = "org_id = (SELECT public.current_org_id())"
)]
#[policy(
    name = "orders_changed_in_org",
    for = "update",
    to = "liventix_app",
    using = "org_id = (SELECT public.current_org_id())",
    with_check = "org_id = (SELECT public.current_org_id())"
)]
#[policy(
    name = "orders_of_members_only",
    restrictive,
    to = "liventix_app",
    using = "org_id IN (SELECT public.user_orgs())"
)]
#[grant(select, insert, update, to = "liventix_app")]
#[derive(Debug, Clone)]
pub struct Order {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Organization, index)]
    pub org_id: i64,
    #[column(references = Profile, index)]
    pub buyer_id: i64,
    #[column(references = Event)]
    pub event_id: i64,
    #[column(check = "total_cents >= 0")]
    pub total_cents: i64,
    #[column(references = Currency, type = "varchar(3)")]
    pub currency: String,
    #[column(default = "now()")]
    pub placed_at: DateTime<Utc>,
}

/// One line of an order.
#[strata::schema("ticketing", table = "order_items", moved_from = "public", compat_view)]
#[derive(Debug, Clone)]
pub struct OrderItem {
    #[column(primary_key, references = Order, on_delete = "cascade")]
    pub order_id: i64,
    #[column(primary_key)]
    pub line: i32,
    #[column(references = Ticket)]
    pub ticket_id: Option<i64>,
    pub price_cents: i64,
}

/// Money given back for an order.
#[strata::schema("ticketing", table = "refunds", moved_from = "public")]
#[derive(Debug, Clone)]
pub struct Refund {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Order, index)]
    pub order_id: i64,
    pub amount_cents: i64,
    pub reason: Option<String>,
}
