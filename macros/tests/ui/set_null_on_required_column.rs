#[strata::schema("tenant_kct")]
pub struct Order {
    #[column(references = "tenant_kct.customers(id)", on_delete = "set null")]
    pub customer_id: i64,
}

fn main() {}
