#[strata::schema("tenant_kct", table = "customers")]
#[index(columns = ["email", "note"], name = "customers_open_notes", where = "note IS NOT NULL")]
#[check(name = "customers_email_has_at", expr = "position('@' in email) > 1")]
pub struct Customer {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(unique, type = "varchar(255)")]
    pub email: String,
    #[column(index, check = "length(note) < 2000")]
    pub note: Option<String>,
}
