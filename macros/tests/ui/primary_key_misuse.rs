#[strata::schema("shop")]
#[primary_key(columns = ["paid_on", "id"], name = "payment_pk")]
pub struct Payment {
    #[column(primary_key)]
    pub id: i64,
    pub paid_on: Option<String>,
}

#[strata::schema("shop")]
#[primary_key(columns = ["nothing"])]
pub struct Refund {
    pub id: i64,
}

fn main() {}
