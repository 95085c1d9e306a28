//! `tenant_shared`: the catalogue and the stock, shared by every storefront.

use strata::sqlx::types::chrono::{DateTime, Utc};

#[strata::schema("tenant_shared", table = "suppliers")]
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

#[strata::schema("tenant_shared", table = "products")]
#[index(columns = ["supplier_id", "name"], name = "products_active_by_supplier", where = "active")]
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

#[strata::schema("tenant_shared", table = "product_variants")]
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

#[strata::schema("tenant_shared", table = "product_images")]
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

#[strata::schema("tenant_shared", table = "collections")]
#[derive(Debug, Clone)]
pub struct Collection {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(unique, type = "varchar(64)")]
    pub slug: String,
    pub title: String,
    pub season: Option<String>,
}

#[strata::schema("tenant_shared", table = "inventory_logs")]
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
