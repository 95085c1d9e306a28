pub struct Money(i64);

#[strata::schema("shop")]
pub struct Invoice {
    #[column(primary_key, identity)]
    pub id: i64,
    pub total: Money,
}

fn main() {}
