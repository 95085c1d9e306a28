#[strata::schema("crm")]
#[index(keys = "lower(email)", ops = "text_pattern_ops")]
#[index(keys = "lower(mail)")]
#[index(keys = "lower(email)) WHERE (true")]
pub struct Person {
    #[column(primary_key, identity)]
    pub id: i64,
    pub email: String,
}

fn main() {}
