//! `activity`: reference data of what can happen with a contact.

/// Call, email, meeting.
#[strata::schema("activity", table = "activity_types")]
pub struct ActivityType {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(unique)]
    pub name: String,
}
