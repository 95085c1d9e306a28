//! `contact`: reference data every tenant's contacts point at.

/// Lead, customer, partner.
#[strata::schema("contact", table = "contact_types")]
pub struct ContactType {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(unique)]
    pub name: String,
}

/// A family of tags, such as `industry`.
#[strata::schema("contact", table = "tag_categories")]
pub struct TagCategory {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(unique)]
    pub name: String,
}
