#[strata::schema("tenant_kct")]
pub struct Customer {
    #[column(type = "bigserial")]
    pub id: i64,
}

fn main() {}
