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
    let tail = format!("_{}_{suffix}", short_hash(&name));
    let mut head_len = MAX_IDENT_BYTES - tail.len();
    while !name.is_char_boundary(head_len) {
        head_len -= 1;
    }
    format!("{}{tail}", name.get(..head_len).unwrap_or_default())
}

/// The name of the index strata builds on partition `partition` for the
/// partitioned index `index`: `{partition}_{index}`, shortened with a hash
/// when it would pass 63 bytes. The same names give the same name, so a
/// build that resumes finds what it began.
pub fn partition_index_name(partition: &str, index: &str) -> String {
    let name = format!("{partition}_{index}");
    if name.len() <= MAX_IDENT_BYTES {
        return name;
    }
    let hash = short_hash(&name);
    let mut head_len = MAX_IDENT_BYTES - hash.len() - 1;
    while !name.is_char_boundary(head_len) {
        head_len -= 1;
    }
    format!("{}_{hash}", name.get(..head_len).unwrap_or_default())
}

/// Eight hex digits of `name`'s SHA-256: what tells two long names apart
/// once they are shortened.
fn short_hash(name: &str) -> String {
    Sha256::digest(name.as_bytes())
        .iter()
        .take(4)
        .map(|b| format!("{b:02x}"))
        .collect()
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
        .filter_map(|c| c.naming().map(|k| (c, k)))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Column, ColumnChange, ConstraintChange, QualifiedName, TableChange};

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
        let long = partition_index_name(&"é".repeat(31), &"i".repeat(63));
        assert!(long.len() <= 63, "{long}");
        assert_eq!(long, partition_index_name(&"é".repeat(31), &"i".repeat(63)));
        assert_ne!(long, partition_index_name(&"é".repeat(31), &"j".repeat(63)));
        assert_eq!(
            partition_index_name("event_p202612", "event_kind_at"),
            "event_p202612_event_kind_at"
        );
        assert_ne!(a, b);
    }

    #[test]
    fn migration_names_say_what_changed() {
        let table = QualifiedName::new("tenant_kct", "customers");
        let add = |name: &str| {
            Change::from(ColumnChange::AddColumn {
                table: table.clone(),
                column: Column::new(name, "text"),
            })
        };
        let moved = |name: &str| {
            Change::from(TableChange::MoveTable {
                table: name.into(),
                from: "public".into(),
                to: "tenant_kct".into(),
            })
        };
        assert_eq!(migration_name(&[add("note")], true), "initial");
        assert_eq!(migration_name(&[add("note")], false), "add_customers_note");
        assert_eq!(
            migration_name(&[add("note"), moved("orders"), moved("customers")], false),
            "move_2_tables_and_1_more"
        );
        let renamed = [
            Change::from(TableChange::RenameTable {
                schema: "s".into(),
                from: "customers".into(),
                to: "clients".into(),
            }),
            Change::from(ConstraintChange::RenameConstraint {
                table: QualifiedName::new("s", "clients"),
                from: "customers_pkey".into(),
                to: "clients_pkey".into(),
            }),
        ];
        assert_eq!(
            migration_name(&renamed, false),
            "rename_customers_to_clients"
        );
    }
}
