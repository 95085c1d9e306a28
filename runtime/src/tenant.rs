//! A tenant's schema name: built from a tenant id and a prefix, validated,
//! never a raw string.

use std::fmt;

use serde::Serialize;
use strata_manifest::{quote_ident, MAX_IDENT_BYTES};

use crate::Error;

/// The schema of one tenant, such as `tenant_acme`: a prefix and the tenant's
/// id, both lowercase ASCII letters, digits and underscores. Only this type
/// reaches tenant SQL, so no id from a request, a URL or a registry row can
/// name another schema, smuggle a quote in, or differ from another tenant's
/// only by case.
///
/// ```
/// use strata::TenantSchema;
/// let acme = TenantSchema::new("acme").unwrap();
/// assert_eq!(acme.name(), "tenant_acme");
/// assert_eq!(acme.quoted(), "\"tenant_acme\"");
/// assert!(TenantSchema::new("acme\"; DROP SCHEMA auth; --").is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(into = "String")]
pub struct TenantSchema {
    name: String,
    prefix_len: usize,
    quoted: String,
}

impl TenantSchema {
    /// The prefix of [`TenantSchema::new`].
    pub const DEFAULT_PREFIX: &'static str = "tenant_";

    /// `tenant_<id>`.
    pub fn new(id: &str) -> Result<Self, Error> {
        Self::with_prefix(Self::DEFAULT_PREFIX, id)
    }

    /// `<prefix><id>`. The prefix is lowercase ASCII letters, digits and
    /// underscores, starts with a letter, ends with `_`, and does not start
    /// with `pg_` (PostgreSQL's own); the id is lowercase ASCII letters,
    /// digits and underscores; together at most 63 bytes.
    pub fn with_prefix(prefix: &str, id: &str) -> Result<Self, Error> {
        check_prefix(prefix)?;
        let refuse = |reason: String| Error::InvalidTenantId {
            id: id.to_owned(),
            prefix: prefix.to_owned(),
            reason,
        };
        if id.is_empty() {
            return Err(refuse("it is empty".to_owned()));
        }
        if let Some(c) = id.chars().find(|c| !is_plain(*c)) {
            return Err(refuse(format!("it contains {c:?}")));
        }
        let bytes = prefix.len() + id.len();
        if bytes > MAX_IDENT_BYTES {
            return Err(refuse(format!(
                "with the prefix it is {bytes} bytes long, and PostgreSQL keeps only {MAX_IDENT_BYTES}"
            )));
        }
        let name = format!("{prefix}{id}");
        Ok(TenantSchema {
            quoted: quote_ident(&name),
            prefix_len: prefix.len(),
            name,
        })
    }

    /// The schema's name: `tenant_acme`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The tenant's id: `acme`.
    pub fn id(&self) -> &str {
        self.name.get(self.prefix_len..).unwrap_or_default()
    }

    /// The prefix: `tenant_`.
    pub fn prefix(&self) -> &str {
        self.name.get(..self.prefix_len).unwrap_or_default()
    }

    /// The name quoted for SQL: `"tenant_acme"`.
    pub fn quoted(&self) -> &str {
        &self.quoted
    }
}

impl fmt::Display for TenantSchema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl From<TenantSchema> for String {
    fn from(schema: TenantSchema) -> String {
        schema.name
    }
}

impl AsRef<str> for TenantSchema {
    fn as_ref(&self) -> &str {
        &self.name
    }
}

/// Lowercase ASCII letters, digits and `_`: names that need no quoting in
/// psql and cannot collide by case.
fn is_plain(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'
}

pub(crate) fn check_prefix(prefix: &str) -> Result<(), Error> {
    let refuse = |reason: &str| Error::InvalidTenantPrefix {
        prefix: prefix.to_owned(),
        reason: reason.to_owned(),
    };
    if !prefix.starts_with(|c: char| c.is_ascii_lowercase()) {
        return Err(refuse("it must start with a lowercase letter"));
    }
    if !prefix.ends_with('_') {
        // Keeps every tenant schema apart from the tracking scope "default"
        // and from shared schemas named like a tenant id.
        return Err(refuse("it must end with `_`"));
    }
    if !prefix.chars().all(is_plain) {
        return Err(refuse(
            "it may hold only lowercase ASCII letters, digits and `_`",
        ));
    }
    if prefix.starts_with("pg_") {
        return Err(refuse("schemas starting with `pg_` are PostgreSQL's own"));
    }
    if prefix.starts_with("information_") {
        return Err(refuse(
            "it would put tenants beside PostgreSQL's `information_schema`",
        ));
    }
    if prefix.starts_with("strata") {
        return Err(refuse(
            "schemas starting with `strata` are strata's own (`strata.migrations`)",
        ));
    }
    if prefix.len() >= MAX_IDENT_BYTES {
        return Err(refuse("it leaves no room for an id in 63 bytes"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_ids_are_refused() {
        for id in [
            "",
            "Acme",
            "acme-corp",
            "a\"b",
            "x\"; DROP SCHEMA auth CASCADE; --",
            "a\0b",
            "acme ",
            "ａcme",
            "../etc",
            "a.b",
            &"x".repeat(57),
        ] {
            let error = TenantSchema::new(id).unwrap_err().to_string();
            assert!(
                error.contains("help:") && error.contains("tenant id"),
                "{id:?}: {error}"
            );
        }
        assert_eq!(TenantSchema::new(&"x".repeat(56)).unwrap().name().len(), 63);
    }

    #[test]
    fn prefixes_are_checked() {
        for prefix in [
            "",
            "tenant",
            "Tenant_",
            "pg_",
            "_t_",
            "t-_",
            "information_",
            "strata_",
        ] {
            assert!(
                TenantSchema::with_prefix(prefix, "acme").is_err(),
                "{prefix:?}"
            );
        }
        let t = TenantSchema::with_prefix("crm_t_", "acme_2").unwrap();
        assert_eq!(
            (t.prefix(), t.id(), t.name()),
            ("crm_t_", "acme_2", "crm_t_acme_2")
        );
    }
}
