#[strata::schema("tenant_kct")]
pub struct Order {
    #[column(references = "customers.id")]
    pub customer_id: i64,
}

fn main() {}
