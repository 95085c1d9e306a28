//! `payments`: Invoices, payouts and money movements.

#[allow(unused_imports)]
use strata::sqlx::types::chrono::{DateTime, NaiveDate, Utc};

#[allow(unused_imports)]
use super::{
    analytics::*, campaigns::*, events::*, messaging::*, ml::*, organizations::*, public::*,
    reference::*, sponsorship::*, ticketing::*, users::*,
};

/// An invoice to an organisation.
#[strata::schema(
    "payments",
    table = "invoices",
    moved_from = "public",
    compat_view,
    rls
)]
#[policy(
    name = "invoices_of_org",
    for = "select",
    to = "liventix_app",
    using = "org_id = (SELECT public.current_org_id())"
)]
#[policy(
    name = "invoices_issued_for_org",
    for = "insert",
    to = "liventix_app",
    with_check = "org_id = (SELECT public.current_org_id())"
)]
#[grant(select, insert, to = "liventix_app")]
#[derive(Debug, Clone)]
pub struct Invoice {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Organization, index)]
    pub org_id: i64,
    #[column(unique, type = "varchar(32)")]
    pub number: String,
    pub amount_cents: i64,
    #[column(references = Currency, type = "varchar(3)")]
    pub currency: String,
    #[column(default = "now()")]
    pub issued_at: DateTime<Utc>,
}

/// Money paid out to an organisation.
#[strata::schema("payments", table = "payouts", moved_from = "public")]
#[derive(Debug, Clone)]
pub struct Payout {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Organization, index)]
    pub org_id: i64,
    pub amount_cents: i64,
    pub paid_at: Option<DateTime<Utc>>,
}

/// A card a person pays with.
#[strata::schema("payments", table = "payment_methods", moved_from = "public")]
#[derive(Debug, Clone)]
pub struct PaymentMethod {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Profile, on_delete = "cascade", index)]
    pub user_id: i64,
    #[column(type = "varchar(16)")]
    pub brand: String,
    #[column(type = "varchar(4)")]
    pub last4: String,
}

/// Money moving, for an order or not.
#[strata::schema("payments", table = "transactions", moved_from = "public", compat_view)]
#[derive(Debug, Clone)]
pub struct Transaction {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Order, index)]
    pub order_id: Option<i64>,
    pub amount_cents: i64,
    #[column(type = "varchar(16)")]
    pub kind: String,
    #[column(default = "now()")]
    pub created_at: DateTime<Utc>,
}
