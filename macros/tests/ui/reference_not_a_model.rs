pub struct Supplier {
    pub id: i64,
}

#[strata::schema("tenant_shared")]
pub struct Product {
    #[column(primary_key)]
    pub id: i64,
    #[column(references = Supplier)]
    pub supplier_id: i64,
}

fn main() {}
