#[strata::schema("shop")]
pub enum Payment {
    Card(String),
    Cash = 2,
    Voucher,
    #[value(renamed_from = "voucher", colour = "red")]
    Gift,
}

#[strata::schema(tenant)]
pub enum TenantStatus {
    Open,
}

#[strata::schema("shop", table = "statuses")]
pub enum Named {
    Open,
}

fn main() {}
