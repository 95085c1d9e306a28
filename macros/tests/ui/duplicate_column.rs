#[strata::schema("tenant_kct")]
pub struct Customer {
    pub email: String,
    #[column(name = "email")]
    pub contact: String,
}

fn main() {}
