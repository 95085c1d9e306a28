//! `sponsorship`: Sponsors and what they buy.

#[allow(unused_imports)]
use strata::sqlx::types::chrono::{DateTime, NaiveDate, Utc};

#[allow(unused_imports)]
use super::{
    analytics::*, campaigns::*, events::*, messaging::*, ml::*, organizations::*, payments::*,
    public::*, reference::*, ticketing::*, users::*,
};

/// A company that sponsors events.
#[strata::schema("sponsorship", table = "sponsors", moved_from = "public", compat_view)]
#[derive(Debug, Clone)]
pub struct Sponsor {
    #[column(primary_key, identity)]
    pub id: i64,
    pub name: String,
    pub website: Option<String>,
}

/// What a sponsor can buy for an event.
#[strata::schema(
    "sponsorship",
    table = "packages",
    moved_from = "public",
    renamed_from = "sponsorship_packages"
)]
#[derive(Debug, Clone)]
pub struct Package {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Event)]
    pub event_id: i64,
    pub name: String,
    pub price_cents: i64,
}

/// A sponsor's signed package.
#[strata::schema(
    "sponsorship",
    table = "sponsorships",
    moved_from = "public",
    compat_view
)]
#[derive(Debug, Clone)]
pub struct Sponsorship {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Sponsor)]
    pub sponsor_id: i64,
    #[column(references = Package)]
    pub package_id: i64,
    #[column(default = "now()")]
    pub signed_at: DateTime<Utc>,
}

/// A sponsor's logo or banner.
#[strata::schema(
    "sponsorship",
    table = "assets",
    moved_from = "public",
    renamed_from = "sponsor_assets"
)]
#[derive(Debug, Clone)]
pub struct SponsorAsset {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Sponsor, on_delete = "cascade")]
    pub sponsor_id: i64,
    pub url: String,
}
