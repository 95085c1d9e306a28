//! Confirmation: the one way a user says "yes, run this" to a change that
//! can lose data or cannot apply to a table with rows, at build time, at
//! rollback and (later) on the command line.
//!
//! It is spelt the same everywhere: `all`, or a comma-separated list of the
//! objects to confirm, named as strata's errors name them
//! (`shop.items.sku` for a column, `shop.items` for a table, a file name
//! such as `0003_backfill.down.sql` for a hand-written down file). In the
//! environment it is `STRATA_CONFIRM`.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

/// The environment variable that carries a confirmation.
pub const CONFIRM_ENV: &str = "STRATA_CONFIRM";

/// What the user confirmed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Confirm {
    all: bool,
    objects: BTreeSet<String>,
}

impl Confirm {
    /// Nothing confirmed.
    pub fn none() -> Self {
        Confirm::default()
    }

    /// Everything confirmed.
    pub fn all() -> Self {
        Confirm {
            all: true,
            objects: BTreeSet::new(),
        }
    }

    /// Reads `all`, or a comma-separated list of object names; white space
    /// around names is ignored and an empty text confirms nothing.
    pub fn parse(text: &str) -> Self {
        let mut confirm = Confirm::none();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            if part.eq_ignore_ascii_case("all") {
                confirm.all = true;
            } else {
                confirm.objects.insert(part.to_owned());
            }
        }
        confirm
    }

    /// Adds one object.
    pub fn object(mut self, name: impl Into<String>) -> Self {
        self.objects.insert(name.into());
        self
    }

    /// This confirmation and `other`'s together.
    pub fn and(mut self, other: &Confirm) -> Self {
        self.all |= other.all;
        self.objects.extend(other.objects.iter().cloned());
        self
    }

    /// True when `object` is confirmed.
    pub fn covers(&self, object: &str) -> bool {
        self.all || self.objects.contains(object)
    }

    /// True when `object` is confirmed by its name: `all` is not enough,
    /// for what must be named to be done (dropping a tenant).
    pub fn names(&self, object: &str) -> bool {
        self.objects.contains(object)
    }

    /// True when nothing is confirmed.
    pub fn is_empty(&self) -> bool {
        !self.all && self.objects.is_empty()
    }
}

/// A step that needs confirmation: the object it touches, what it does and
/// what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unconfirmed {
    /// The object, as a confirmation names it: `shop.items.sku`.
    pub object: String,
    /// What the step does and what it risks.
    pub what: String,
    /// What to write instead, when there is a safer way.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub help: String,
}

impl std::fmt::Display for Unconfirmed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.object, self.what)?;
        if !self.help.is_empty() {
            write!(f, "\n      help: {}", self.help)?;
        }
        Ok(())
    }
}

/// The name a confirmation uses for an object: its parts joined by `.`,
/// each in double quotes only where it needs them (`shop.items.sku`,
/// `public."AiAction"`). Drift reports name objects the same way.
pub fn object_name(parts: &[&str]) -> String {
    parts
        .iter()
        .map(|p| {
            // Tenant objects are named with the placeholder as it is: `{tenant}.contacts.phone`.
            let plain = *p == crate::TENANT_PLACEHOLDER
                || !p.is_empty()
                    && p.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                    && !p.starts_with(|c: char| c.is_ascii_digit());
            if plain {
                (*p).to_owned()
            } else {
                crate::quote_ident(p)
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_spelling_for_all_and_for_single_objects() {
        assert!(Confirm::parse("all").covers("shop.items.sku"));
        let some = Confirm::parse(" shop.items.sku , shop.orders ");
        assert!(some.covers("shop.items.sku"));
        assert!(some.covers("shop.orders"));
        assert!(!some.covers("shop.items"));
        assert!(Confirm::parse("").is_empty());
        assert_eq!(object_name(&["public", "AiAction"]), r#"public."AiAction""#);
    }
}
