#[strata::schema("tenant_shared", compat_view)]
pub struct Product {
    pub id: i64,
}

fn main() {}
