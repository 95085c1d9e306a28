#[strata::schema("")]
pub struct Customer {
    pub id: i64,
}

fn main() {}
