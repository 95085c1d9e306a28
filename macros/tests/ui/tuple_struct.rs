#[strata::schema("tenant_kct")]
pub struct Customer(i64, String);

fn main() {}
