#[strata::schema("tenant_kct")]
pub struct Customer {
    #[column(primary_key)]
    pub id: Option<i64>,
}

fn main() {}
