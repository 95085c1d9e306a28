// A SELECT policy writes no rows; a policy must say which rows it allows;
// two policies may not share a name.
#[strata::schema("ticketing", rls)]
#[policy(name = "read_own", for = "select", using = "org_id = 1", with_check = "org_id = 1")]
#[policy(name = "nothing")]
#[policy(name = "read_own", for = "delete", using = "org_id = 1")]
pub struct Ticket {
    #[column(primary_key, identity)]
    pub id: i64,
    pub org_id: i64,
}

fn main() {}
