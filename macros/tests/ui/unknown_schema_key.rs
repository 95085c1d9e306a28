#[strata::schema("tenant_kct", tabel = "customers")]
pub struct Customer {
    pub id: i64,
}

fn main() {}
