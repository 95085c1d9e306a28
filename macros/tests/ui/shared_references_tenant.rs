#[strata::schema(tenant, table = "contacts")]
pub struct Contact {
    #[column(primary_key)]
    pub id: i64,
}

#[strata::schema("auth")]
pub struct User {
    #[column(primary_key)]
    pub id: i64,
    #[column(references = Contact)]
    pub favourite_contact_id: i64,
}

fn main() {}
