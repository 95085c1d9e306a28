#[strata::schema("tenant_kct", tabel = "customers")]
pub struct Customer {
    #[column(primary_key, colour = "red")]
    pub id: Option<i64>,
    pub tags: std::collections::HashMap<String, String>,
}

fn main() {}
