// A grant needs privileges strata knows, and a role.
#[strata::schema("ticketing")]
#[grant(select, upsert, to = "app_user")]
#[grant(select)]
#[grant(select, to = "public")]
pub struct Ticket {
    #[column(primary_key, identity)]
    pub id: i64,
}

fn main() {}
