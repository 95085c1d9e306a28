#[strata::schema("tenant_kct", table = "customers")]
pub struct Customer {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(unique, type = "varchar(255)")]
    pub email: String,
    pub note: Option<String>,
}
