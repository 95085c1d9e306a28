#[strata::view("analytics")]
pub struct NoSql {
    pub id: i64,
}

#[strata::view("analytics", sql = "SELECT 1 AS id", sql_file = "views/x.sql")]
pub struct Both {
    pub id: i64,
}

#[strata::view("analytics", sql = "SELECT 1 AS id")]
#[index(columns = ["id"], unique)]
pub struct IndexedPlainView {
    #[column(primary_key)]
    pub id: i64,
}

#[strata::view(tenant, sql = "SELECT 1 AS id")]
pub struct PerTenant {
    pub id: i64,
}

fn main() {}
