//! `tenant_shared`: the catalogue and the stock, shared by every storefront.

use strata::sqlx::types::chrono::{DateTime, NaiveDate, Utc};

use super::kct::Customer;

#[strata::schema("tenant_shared", table = "suppliers", moved_from = "public")]
#[derive(Debug, Clone)]
pub struct Supplier {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(unique)]
    pub name: String,
    pub contact_email: Option<String>,
    #[column(type = "varchar(2)", default = "'US'")]
    pub country: String,
}

/// What the shop sells, across every tenant; variants carry sizes and colours.
#[strata::schema("tenant_shared", table = "products", moved_from = "public")]
#[index(columns = ["supplier_id", "name"], name = "products_active_by_supplier", where = "active")]
// Search by a fragment of the name (`name ILIKE '%navy%'`, `similarity()`).
#[index(columns = ["name"], name = "products_name_trgm", using = "gin", ops = "gin_trgm_ops")]
#[derive(Debug, Clone)]
pub struct Product {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(unique, type = "varchar(64)")]
    pub sku: String,
    pub name: String,
    pub description: Option<String>,
    #[column(check = "base_price_cents >= 0")]
    pub base_price_cents: i64,
    #[column(references = Supplier, on_delete = "set null")]
    pub supplier_id: Option<i64>,
    #[column(default = "true")]
    pub active: bool,
    #[column(default = "now()")]
    pub created_at: DateTime<Utc>,
}

#[strata::schema("tenant_shared", table = "product_variants", moved_from = "public")]
#[derive(Debug, Clone)]
pub struct ProductVariant {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Product, on_delete = "cascade", index)]
    pub product_id: i64,
    #[column(unique, type = "varchar(80)")]
    pub sku: String,
    #[column(type = "varchar(16)")]
    pub size: String,
    #[column(type = "varchar(32)")]
    pub color: String,
    #[column(check = "price_cents >= 0")]
    pub price_cents: i64,
    #[column(default = "0")]
    pub stock: i32,
}

#[strata::schema("tenant_shared", table = "product_images", moved_from = "public")]
#[derive(Debug, Clone)]
pub struct ProductImage {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Product, on_delete = "cascade", index)]
    pub product_id: i64,
    pub url: String,
    #[column(default = "0")]
    pub position: i16,
}

#[strata::schema("tenant_shared", table = "product_reviews", moved_from = "public")]
#[derive(Debug, Clone)]
pub struct ProductReview {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Product, on_delete = "cascade", index)]
    pub product_id: i64,
    #[column(references = Customer, on_delete = "cascade")]
    pub customer_id: i64,
    #[column(check = "rating >= 1 AND rating <= 5")]
    pub rating: i16,
    pub body: Option<String>,
}

#[strata::schema("tenant_shared", table = "purchase_orders", moved_from = "public")]
#[derive(Debug, Clone)]
pub struct PurchaseOrder {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Supplier)]
    pub supplier_id: i64,
    pub ordered_on: NaiveDate,
    #[column(type = "varchar(16)", default = "'open'")]
    pub status: String,
}

#[strata::schema("tenant_shared", table = "purchase_order_items", moved_from = "public")]
#[derive(Debug, Clone)]
pub struct PurchaseOrderItem {
    #[column(primary_key, references = PurchaseOrder, on_delete = "cascade")]
    pub purchase_order_id: i64,
    #[column(primary_key)]
    pub line: i32,
    #[column(references = ProductVariant)]
    pub variant_id: i64,
    pub quantity: i32,
    pub unit_cost_cents: i64,
}

#[strata::schema("tenant_shared", table = "inventory_logs", moved_from = "public")]
#[derive(Debug, Clone)]
pub struct InventoryLog {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = ProductVariant, index)]
    pub variant_id: i64,
    pub delta: i32,
    #[column(type = "varchar(32)")]
    pub reason: String,
    #[column(default = "now()")]
    pub logged_at: DateTime<Utc>,
}

#[strata::schema("tenant_shared", table = "stock_alerts", moved_from = "public")]
#[derive(Debug, Clone)]
pub struct StockAlert {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = ProductVariant, unique)]
    pub variant_id: i64,
    pub threshold: i32,
}

#[strata::schema("tenant_shared", table = "collections", moved_from = "public")]
#[derive(Debug, Clone)]
pub struct Collection {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(unique, type = "varchar(64)")]
    pub slug: String,
    pub title: String,
    pub season: Option<String>,
}

#[strata::schema("tenant_shared", table = "product_collections", moved_from = "public")]
#[derive(Debug, Clone)]
pub struct ProductCollection {
    #[column(primary_key, references = Product, on_delete = "cascade")]
    pub product_id: i64,
    #[column(primary_key, references = Collection, on_delete = "cascade")]
    pub collection_id: i64,
}

#[strata::schema("tenant_shared", table = "color_palettes", moved_from = "public")]
#[derive(Debug, Clone)]
pub struct ColorPalette {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(unique, type = "varchar(32)")]
    pub name: String,
    #[column(type = "varchar(7)")]
    pub hex: String,
}

#[strata::schema("tenant_shared", table = "event_profiles", moved_from = "public")]
#[derive(Debug, Clone)]
pub struct EventProfile {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(unique, type = "varchar(48)")]
    pub name: String,
    pub dress_code: String,
}
