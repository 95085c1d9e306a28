#[strata::schema("tenant_kct", table = "clients", renamed_from = "customers")]
pub struct Customer {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(unique, type = "varchar(255)")]
    pub email: String,
    pub note: Option<String>,
}
