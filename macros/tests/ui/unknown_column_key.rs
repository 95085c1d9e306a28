#[strata::schema("tenant_kct")]
pub struct Customer {
    #[column(primary_key, colour = "red")]
    pub id: i64,
}

fn main() {}
