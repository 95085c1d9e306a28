#[strata::schema("tenant_shared", moved_from = "tenant_shared")]
pub struct Product {
    pub id: i64,
}

fn main() {}
