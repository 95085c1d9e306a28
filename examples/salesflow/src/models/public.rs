//! `public`: the registry of every tenant.

/// One tenant; its tables live in the schema `tenant_<id>`.
#[strata::schema("public", table = "tenants")]
pub struct Tenant {
    #[column(primary_key, type = "varchar(56)")]
    pub id: String,
    pub name: String,
}
