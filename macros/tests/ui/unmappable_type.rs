use std::collections::HashMap;

#[strata::schema("tenant_kct")]
pub struct Customer {
    pub id: i64,
    pub tags: HashMap<String, String>,
}

fn main() {}
