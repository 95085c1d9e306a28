#[strata::schema("tenant_kct")]
pub struct Customer {
    #[column(renamed_from = "email")]
    pub email: String,
}

fn main() {}
