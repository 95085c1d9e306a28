//! `tenant_kct`: KCT's own customers, orders and fittings.

use strata::sqlx::types::chrono::{DateTime, NaiveDate, Utc};

use super::shared::{Product, ProductVariant};

#[strata::schema("tenant_kct", table = "customers")]
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

#[strata::schema("tenant_kct", table = "orders")]
#[check(name = "orders_total_not_negative", expr = "total_cents >= 0")]
#[derive(Debug, Clone)]
pub struct Order {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Customer, index)]
    pub customer_id: i64,
    #[column(type = "varchar(24)", default = "'pending'")]
    pub status: String,
    pub total_cents: i64,
    #[column(default = "now()")]
    pub placed_at: DateTime<Utc>,
}

#[strata::schema("tenant_kct", table = "order_items")]
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
}

#[strata::schema("tenant_kct", table = "appointments")]
#[derive(Debug, Clone)]
pub struct Appointment {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Customer, on_delete = "cascade", index)]
    pub customer_id: i64,
    pub starts_at: DateTime<Utc>,
    #[column(type = "varchar(32)")]
    pub kind: String,
    pub stylist: Option<String>,
}

#[strata::schema("tenant_kct", table = "measurements")]
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
