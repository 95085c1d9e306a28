#[strata::schema(tenant, moved_from = "public")]
pub struct Contact {
    #[column(primary_key)]
    pub id: i64,
}

fn main() {}
