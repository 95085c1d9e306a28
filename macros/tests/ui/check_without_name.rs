#[strata::schema("tenant_kct")]
#[check(expr = "total_cents >= 0")]
pub struct Order {
    pub total_cents: i64,
}

fn main() {}
