#[strata::schema("tenant_kct")]
pub struct Customer {
    #[column(primary_key, identity = "sometimes")]
    pub id: i64,
}

fn main() {}
