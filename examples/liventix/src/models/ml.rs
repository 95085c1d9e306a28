//! `ml`: Models and their predictions.

#[allow(unused_imports)]
use strata::sqlx::types::chrono::{DateTime, NaiveDate, Utc};

#[allow(unused_imports)]
use super::{
    analytics::*, campaigns::*, events::*, messaging::*, organizations::*, payments::*, public::*,
    reference::*, sponsorship::*, ticketing::*, users::*,
};

/// A trained model.
#[strata::schema(
    "ml",
    table = "models",
    moved_from = "public",
    renamed_from = "ml_models"
)]
#[derive(Debug, Clone)]
pub struct MlModel {
    #[column(primary_key, identity)]
    pub id: i64,
    pub name: String,
    pub version: i32,
    pub trained_at: DateTime<Utc>,
}

/// A model's score for a person.
#[strata::schema(
    "ml",
    table = "predictions",
    moved_from = "public",
    renamed_from = "ml_predictions"
)]
#[derive(Debug, Clone)]
pub struct Prediction {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(references = MlModel, index)]
    pub model_id: i64,
    pub user_id: Option<i64>,
    pub score: f64,
    #[column(default = "now()")]
    pub made_at: DateTime<Utc>,
}

/// A snapshot of the features a model trains on.
#[strata::schema(
    "ml",
    table = "feature_snapshots",
    moved_from = "public",
    renamed_from = "ml_feature_snapshots"
)]
#[derive(Debug, Clone)]
pub struct FeatureSnapshot {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(default = "now()")]
    pub taken_at: DateTime<Utc>,
    pub row_count: i64,
}
