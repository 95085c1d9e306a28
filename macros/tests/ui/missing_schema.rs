#[strata::schema(table = "customers")]
pub struct Customer {
    pub id: i64,
}

fn main() {}
