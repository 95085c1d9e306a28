#[strata::schema("tenant_kct", table = "customers")]
pub struct Customer {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(unique, type = "text")]
    pub email: String,
    #[column(default = "''")]
    pub note: String,
}
