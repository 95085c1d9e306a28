//! Names strata makes up: constraint names and migration names.

use sha2::{Digest, Sha256};

use crate::MAX_IDENT_BYTES;

/// The name PostgreSQL would give a constraint (`{table}_{columns}_{suffix}`),
/// shortened with a hash when it would pass 63 bytes, so that two long names
/// never collide after PostgreSQL truncates them.
pub fn constraint_name(table: &str, columns: &[String], suffix: &str) -> String {
    let mut name = table.to_owned();
    for column in columns {
        name.push('_');
        name.push_str(column);
    }
    name.push('_');
    name.push_str(suffix);
    if name.len() <= MAX_IDENT_BYTES {
        return name;
    }
    let hash: String = Sha256::digest(name.as_bytes())
        .iter()
        .take(4)
        .map(|b| format!("{b:02x}"))
        .collect();
    let tail = format!("_{hash}_{suffix}");
    let mut head_len = MAX_IDENT_BYTES - tail.len();
    while !name.is_char_boundary(head_len) {
        head_len -= 1;
    }
    format!("{}{tail}", &name[..head_len])
}

/// The file-name part of a migration, made from what it does:
/// `add_customers_note`, `create_orders`, or `initial` for a first migration.
pub fn migration_name(descriptions: &[String], first: bool) -> String {
    let raw = match descriptions {
        _ if first => "initial".to_owned(),
        [] => "empty".to_owned(),
        [one] => one.clone(),
        [one, rest @ ..] => format!("{one}_and_{}_more", rest.len()),
    };
    let mut slug = String::with_capacity(raw.len());
    for c in raw.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('_') {
            slug.push('_');
        }
    }
    let mut slug = slug.trim_matches('_').to_owned();
    slug.truncate(60);
    slug.trim_end_matches('_').to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_match_postgres() {
        assert_eq!(constraint_name("customers", &[], "pkey"), "customers_pkey");
        assert_eq!(
            constraint_name("customers", &["email".into()], "key"),
            "customers_email_key"
        );
    }

    #[test]
    fn long_names_stay_distinct_within_63_bytes() {
        let a = constraint_name(&"t".repeat(60), &["alpha".into()], "key");
        let b = constraint_name(&"t".repeat(60), &["beta".into()], "key");
        assert!(a.len() <= 63 && b.len() <= 63);
        assert_ne!(a, b);
    }

    #[test]
    fn migration_names_say_what_changed() {
        assert_eq!(migration_name(&["x".into()], true), "initial");
        assert_eq!(
            migration_name(&["add customers.note".into()], false),
            "add_customers_note"
        );
        assert_eq!(
            migration_name(
                &["create orders".into(), "add customers.note".into()],
                false
            ),
            "create_orders_and_1_more"
        );
    }
}
