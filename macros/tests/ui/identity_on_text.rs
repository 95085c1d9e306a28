#[strata::schema("tenant_kct")]
pub struct Customer {
    #[column(primary_key, identity)]
    pub email: String,
}

fn main() {}
