#[strata::schema("tenant_kct", table = "customers_with_a_name_far_longer_than_postgres_keeps_in_its_catalog")]
pub struct Customer {
    pub id: i64,
}

fn main() {}
