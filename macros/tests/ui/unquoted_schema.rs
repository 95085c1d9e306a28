#[strata::schema(tenant_kct)]
pub struct Customer {
    #[column(primary_key)]
    pub id: i64,
}

fn main() {}
