//! `ref`: Reference data every domain reads.

#[allow(unused_imports)]
use strata::sqlx::types::chrono::{DateTime, NaiveDate, Utc};

#[allow(unused_imports)]
use super::{
    analytics::*, campaigns::*, events::*, messaging::*, ml::*, organizations::*, payments::*,
    public::*, sponsorship::*, ticketing::*, users::*,
};

/// A country an event or venue is in.
#[strata::schema("ref", table = "countries", moved_from = "public", compat_view)]
#[grant(select, to = "liventix_app")]
#[derive(Debug, Clone)]
pub struct Country {
    #[column(primary_key, type = "varchar(2)")]
    pub code: String,
    pub name: String,
}

/// A currency prices are in.
#[strata::schema("ref", table = "currencies", moved_from = "public")]
#[grant(select, to = "liventix_app")]
#[derive(Debug, Clone)]
pub struct Currency {
    #[column(primary_key, type = "varchar(3)")]
    pub code: String,
    pub name: String,
    #[column(default = "2")]
    pub decimals: i32,
}

/// A category of events.
#[strata::schema(
    "ref",
    table = "categories",
    moved_from = "public",
    renamed_from = "event_categories",
    compat_view
)]
#[grant(select, to = "liventix_app")]
#[derive(Debug, Clone)]
pub struct Category {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(unique)]
    pub slug: String,
    pub name: String,
}

/// A time zone an event is held in.
#[strata::schema("ref", table = "timezones", moved_from = "public")]
#[grant(select, to = "liventix_app")]
#[derive(Debug, Clone)]
pub struct Timezone {
    #[column(primary_key)]
    pub name: String,
    pub utc_offset_minutes: i32,
}
