#[strata::schema("strata")]
pub struct Migration {
    pub id: i64,
}

fn main() {}
