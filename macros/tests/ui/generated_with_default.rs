#[strata::schema("shop")]
pub struct Line {
    #[column(primary_key, identity)]
    pub id: i64,
    pub price_cents: i64,
    pub quantity: i32,
    #[column(generated = "price_cents * quantity", default = "0")]
    pub total_cents: i64,
}

#[strata::schema("shop")]
pub struct Counter {
    #[column(primary_key, identity, generated = "1")]
    pub id: i64,
}

fn main() {}
