#[strata::schema("shop", table = "line")]
pub struct Line {
    #[column(primary_key, identity)]
    pub id: i64,
    pub price_cents: i64,
    pub quantity: i32,
    #[column(generated = "price_cents * quantity")]
    pub total_cents: i64,
}
