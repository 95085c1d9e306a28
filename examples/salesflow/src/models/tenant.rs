//! The tables in every tenant's schema, `tenant_<id>`.

use super::activity::ActivityType;
use super::auth::User;
use super::contact::{ContactType, TagCategory};

/// A person or company a tenant sells to.
#[strata::schema(tenant, table = "contacts")]
#[index(columns = ["email"])]
pub struct Contact {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = ContactType)]
    pub type_id: i64,
    #[column(references = User, on_delete = "set null")]
    pub owner_id: Option<i64>,
    pub name: String,
    /// Unique in each tenant since the fourth tenant migration: the change
    /// this example ships to populated tables.
    #[column(unique, type = "varchar(255)")]
    pub email: Option<String>,
    /// Added in the second tenant migration: the change this example ships.
    #[column(type = "varchar(32)")]
    pub phone: Option<String>,
}

/// A call, email or meeting with a contact.
#[strata::schema(tenant, table = "activities")]
pub struct Activity {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Contact, on_delete = "cascade")]
    pub contact_id: i64,
    #[column(references = ActivityType)]
    pub activity_type_id: i64,
    pub note: String,
}

/// A tag on a contact, from a shared category (added in the second tenant migration).
#[strata::schema(tenant, table = "contact_tags")]
pub struct ContactTag {
    #[column(primary_key, references = Contact, on_delete = "cascade")]
    pub contact_id: i64,
    #[column(primary_key, references = TagCategory)]
    pub category_id: i64,
    #[column(primary_key)]
    pub label: String,
}
