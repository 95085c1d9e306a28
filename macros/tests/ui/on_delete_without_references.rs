#[strata::schema("tenant_kct")]
pub struct Order {
    #[column(on_delete = "cascade")]
    pub customer_id: i64,
}

fn main() {}
