#[strata::schema("ticketing")]
#[policy(name = "tickets_by_org", using = "org_id = 1")]
pub struct Ticket {
    #[column(primary_key, identity)]
    pub id: i64,
    pub org_id: i64,
}

fn main() {}
