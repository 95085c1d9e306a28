// One mistake must not turn every use of the struct into an error too:
// the struct is still emitted, so only the attribute is reported.
#[strata::schema("tenant_kct")]
pub struct Customer {
    #[column(colour = "red")]
    pub id: i64,
}

fn main() {
    let customer = Customer { id: 1 };
    let _ = customer.id;
}
