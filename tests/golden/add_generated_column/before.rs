#[strata::schema("shop", table = "line")]
pub struct Line {
    #[column(primary_key, identity)]
    pub id: i64,
    pub price_cents: i64,
    pub quantity: i32,
}
