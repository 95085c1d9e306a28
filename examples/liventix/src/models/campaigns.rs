//! `campaigns`: Marketing campaigns.

#[allow(unused_imports)]
use strata::sqlx::types::chrono::{DateTime, NaiveDate, Utc};

#[allow(unused_imports)]
use super::{
    analytics::*, events::*, messaging::*, ml::*, organizations::*, payments::*, public::*,
    reference::*, sponsorship::*, ticketing::*, users::*,
};

/// A marketing campaign.
#[strata::schema("campaigns", table = "campaigns", moved_from = "public", compat_view)]
#[derive(Debug, Clone)]
pub struct Campaign {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Organization, index)]
    pub org_id: i64,
    pub name: String,
    pub starts_at: Option<DateTime<Utc>>,
}

/// A person a campaign reaches.
#[strata::schema(
    "campaigns",
    table = "targets",
    moved_from = "public",
    renamed_from = "campaign_targets"
)]
#[derive(Debug, Clone)]
pub struct Target {
    #[column(primary_key, references = Campaign, on_delete = "cascade")]
    pub campaign_id: i64,
    #[column(primary_key, references = Profile)]
    pub user_id: i64,
}

/// One send of a campaign.
#[strata::schema(
    "campaigns",
    table = "sends",
    moved_from = "public",
    renamed_from = "campaign_sends"
)]
#[derive(Debug, Clone)]
pub struct CampaignSend {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Campaign, index)]
    pub campaign_id: i64,
    #[column(default = "now()")]
    pub sent_at: DateTime<Utc>,
    pub recipients: i32,
}

/// A tracked link of a campaign.
#[strata::schema(
    "campaigns",
    table = "links",
    moved_from = "public",
    renamed_from = "campaign_links"
)]
#[derive(Debug, Clone)]
pub struct Link {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = Campaign)]
    pub campaign_id: i64,
    pub url: String,
    #[column(default = "0")]
    pub clicks: i64,
}
