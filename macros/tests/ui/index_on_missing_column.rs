#[strata::schema("tenant_shared")]
#[index(columns = ["supplier_id", "skew"], unique)]
pub struct Product {
    pub supplier_id: i64,
    pub sku: String,
}

fn main() {}
