//! `auth`: users and roles, shared by every tenant.

/// A person who signs in.
#[strata::schema("auth", table = "users")]
pub struct User {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(unique, type = "varchar(255)")]
    pub email: String,
    pub name: String,
}

/// A role such as `sales`.
#[strata::schema("auth", table = "roles")]
pub struct Role {
    #[column(primary_key, identity)]
    pub id: i64,
    #[column(unique)]
    pub name: String,
}

/// Which user has which role.
#[strata::schema("auth", table = "user_roles")]
pub struct UserRole {
    #[column(primary_key, references = User, on_delete = "cascade")]
    pub user_id: i64,
    #[column(primary_key, references = Role, on_delete = "cascade")]
    pub role_id: i64,
}
