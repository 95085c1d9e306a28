#[strata::schema("tenant_kct")]
pub struct Customer {
    #[column(type = "text", type = "varchar(10)")]
    pub email: String,
}

fn main() {}
