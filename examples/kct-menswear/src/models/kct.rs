//! `tenant_kct`: KCT's own customers, orders and fittings.

use strata::sqlx::types::chrono::{DateTime, NaiveDate, Utc};

use super::shared::{Product, ProductVariant};

/// A customer of the shop: one row per e-mail address.
#[strata::schema("tenant_kct", table = "customers", moved_from = "public")]
#[derive(Debug, Clone)]
pub struct Customer {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(unique, type = "varchar(255)")]
    pub email: String,
    pub full_name: String,
    pub phone: Option<String>,
    pub note: Option<String>,
    #[column(default = "now()")]
    pub created_at: DateTime<Utc>,
}

/// Where an order is, from checkout to the customer's door (and back).
#[strata::schema("tenant_kct")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderStatus {
    Pending,
    Paid,
    Shipped,
    Delivered,
    Returned,
}

/// An order a customer placed; every change to it is logged in `audit.change_log`.
#[strata::schema("tenant_kct", table = "orders", moved_from = "public")]
#[check(name = "orders_total_not_negative", expr = "total_cents >= 0")]
#[derive(Debug, Clone)]
pub struct Order {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Customer, index)]
    pub customer_id: i64,
    // Was `varchar(24)`: the rows' labels are cast to the enum in place (a
    // label the enum lacks would fail the migration, and change nothing).
    // Indexed later, on a table taking orders: built CONCURRENTLY.
    #[column(
        default = "'pending'",
        using = "status::text::tenant_kct.order_status",
        index
    )]
    pub status: OrderStatus,
    pub total_cents: i64,
    #[column(default = "now()")]
    pub placed_at: DateTime<Utc>,
}

/// One line of an order: a product (and its variant) at the price paid.
#[strata::schema("tenant_kct", table = "order_items", moved_from = "public")]
#[derive(Debug, Clone)]
pub struct OrderItem {
    #[column(primary_key, references = Order, on_delete = "cascade")]
    pub order_id: i64,
    #[column(primary_key)]
    pub line: i32,
    #[column(references = Product, index)]
    pub product_id: i64,
    #[column(references = ProductVariant, on_delete = "set null")]
    pub variant_id: Option<i64>,
    #[column(check = "quantity > 0")]
    pub quantity: i32,
    pub unit_price_cents: i64,
    /// The outfit template the line was sold from, if any.
    // A foreign key added to a table with rows: `NOT VALID`, then
    // validated apart while orders go on.
    #[column(references = OutfitTemplate)]
    pub outfit_template_id: Option<i64>,
}

#[strata::schema("tenant_kct", table = "appointments", moved_from = "public")]
#[derive(Debug, Clone)]
pub struct Appointment {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Customer, on_delete = "cascade", index)]
    pub customer_id: i64,
    pub starts_at: DateTime<Utc>,
    #[column(type = "varchar(32)")]
    pub kind: String,
    // Required once migration 0005 gave every appointment one: NOT NULL
    // through a validated check, so the table keeps taking bookings.
    pub stylist: String,
}

#[strata::schema("tenant_kct", table = "leads", moved_from = "public")]
#[derive(Debug, Clone)]
pub struct Lead {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(type = "varchar(255)")]
    pub email: String,
    #[column(type = "varchar(32)")]
    pub source: String,
    #[column(default = "false")]
    pub converted: bool,
}

#[strata::schema("tenant_kct", table = "measurements", moved_from = "public")]
#[derive(Debug, Clone)]
pub struct Measurement {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Customer, on_delete = "cascade", index)]
    pub customer_id: i64,
    pub taken_on: NaiveDate,
    pub chest_cm: f32,
    pub waist_cm: f32,
    pub inseam_cm: f32,
    pub sleeve_cm: Option<f32>,
}

#[strata::schema("tenant_kct", table = "customer_profiles", moved_from = "public")]
#[derive(Debug, Clone)]
pub struct CustomerProfile {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Customer, on_delete = "cascade", unique)]
    pub customer_id: i64,
    #[column(type = "varchar(16)")]
    pub preferred_fit: String,
    pub style_notes: Option<String>,
}

#[strata::schema("tenant_kct", table = "purchase_histories", moved_from = "public")]
#[derive(Debug, Clone)]
pub struct PurchaseHistory {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Customer, on_delete = "cascade", index)]
    pub customer_id: i64,
    pub purchased_on: NaiveDate,
    pub amount_cents: i64,
}

#[strata::schema("tenant_kct", table = "saved_outfits", moved_from = "public")]
#[derive(Debug, Clone)]
pub struct SavedOutfit {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Customer, on_delete = "cascade", index)]
    pub customer_id: i64,
    pub title: String,
}

#[strata::schema("tenant_kct", table = "outfit_templates", moved_from = "public")]
#[derive(Debug, Clone)]
pub struct OutfitTemplate {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(unique, type = "varchar(64)")]
    pub name: String,
    pub occasion: String,
}

#[strata::schema("tenant_kct", table = "outfit_components", moved_from = "public")]
#[derive(Debug, Clone)]
pub struct OutfitComponent {
    #[column(primary_key, references = OutfitTemplate, on_delete = "cascade")]
    pub outfit_template_id: i64,
    #[column(primary_key, references = Product)]
    pub product_id: i64,
    #[column(type = "varchar(24)")]
    pub role: String,
}
