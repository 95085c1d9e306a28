//! Names strata makes up: constraint names and migration names.

use sha2::{Digest, Sha256};

use crate::{Change, MAX_IDENT_BYTES};

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
    format!("{}{tail}", name.get(..head_len).unwrap_or_default())
}

/// The file-name part of a migration, made from what it does:
/// `initial` for a first migration, `add_customers_note` for one change,
/// `move_25_tables_and_1_more` for many. Table changes name a migration
/// before column changes, and those before indexes and constraints; renames
/// of keys that follow a renamed table, and schema bookkeeping, never do.
pub fn migration_name(changes: &[Change], first: bool) -> String {
    if first {
        return "initial".to_owned();
    }
    let named: Vec<(&Change, (u8, &str, &str))> = changes
        .iter()
        .filter_map(|c| naming_kind(c).map(|k| (c, k)))
        .collect();
    let raw = match named.iter().map(|(_, (rank, ..))| *rank).min() {
        None => changes.first().map_or("empty".to_owned(), Change::describe),
        Some(top) => {
            // Within the most important rank, the most frequent kind names it.
            let mut groups: Vec<((&str, &str), Vec<&Change>)> = Vec::new();
            for (change, (rank, verb, noun)) in &named {
                if *rank != top {
                    continue;
                }
                match groups.iter_mut().find(|(k, _)| *k == (*verb, *noun)) {
                    Some((_, members)) => members.push(change),
                    None => groups.push(((verb, noun), vec![change])),
                }
            }
            let ((verb, noun), members) = groups
                .iter()
                .max_by_key(|(_, members)| members.len())
                .expect("the top rank has a change");
            let head = match members.len() {
                1 => members[0].describe(),
                n => format!("{verb} {n} {noun}"),
            };
            match named.len() - members.len() {
                0 => head,
                rest => format!("{head} and {rest} more"),
            }
        }
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

/// How a change counts for the name: rank (lower names first), verb, plural noun.
fn naming_kind(change: &Change) -> Option<(u8, &'static str, &'static str)> {
    Some(match change {
        Change::CreateTable { .. } => (0, "create", "tables"),
        Change::DropTable { .. } => (0, "drop", "tables"),
        Change::MoveTable { .. } => (0, "move", "tables"),
        Change::RenameTable { .. } => (0, "rename", "tables"),
        Change::AddColumn { .. } => (1, "add", "columns"),
        Change::DropColumn { .. } => (1, "drop", "columns"),
        Change::RenameColumn { .. } => (1, "rename", "columns"),
        Change::AlterType { .. }
        | Change::SetNullable { .. }
        | Change::SetDefault { .. }
        | Change::AddIdentity { .. }
        | Change::DropIdentity { .. } => (1, "change", "columns"),
        Change::CreateView { .. } => (2, "create", "views"),
        Change::DropView { .. } => (2, "drop", "views"),
        Change::CreateIndex { .. } => (3, "add", "indexes"),
        Change::DropIndex { .. } => (3, "drop", "indexes"),
        Change::AddConstraint { .. } => (4, "add", "constraints"),
        Change::DropConstraint { .. } => (4, "drop", "constraints"),
        Change::SetSearchPath { .. } => (5, "set", "search paths"),
        Change::CreateSchema { .. }
        | Change::DropSchema { .. }
        | Change::ReleaseSchema { .. }
        | Change::RenameConstraint { .. }
        | Change::RenameIndex { .. } => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Column, QualifiedName};

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
        let table = QualifiedName::new("tenant_kct", "customers");
        let add = |name: &str| Change::AddColumn {
            table: table.clone(),
            column: Column::new(name, "text"),
        };
        let moved = |name: &str| Change::MoveTable {
            table: name.into(),
            from: "public".into(),
            to: "tenant_kct".into(),
        };
        assert_eq!(migration_name(&[add("note")], true), "initial");
        assert_eq!(migration_name(&[add("note")], false), "add_customers_note");
        assert_eq!(
            migration_name(&[add("note"), moved("orders"), moved("customers")], false),
            "move_2_tables_and_1_more"
        );
        let renamed = [
            Change::RenameTable {
                schema: "s".into(),
                from: "customers".into(),
                to: "clients".into(),
            },
            Change::RenameConstraint {
                table: QualifiedName::new("s", "clients"),
                from: "customers_pkey".into(),
                to: "clients_pkey".into(),
            },
        ];
        assert_eq!(
            migration_name(&renamed, false),
            "rename_customers_to_clients"
        );
    }
}
