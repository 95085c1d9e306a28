//! Primary keys, unique constraints and foreign keys.

use strata_manifest::{Action, Deferral, ForeignKey, Key, QualifiedName, Table};

use super::{read_row, Compare, Part, Read, TableCompare};
use crate::canonical::TableSpelling;
use crate::drift::{compare_named, quoted, Collector, DifferenceKind, ObjectKind};

type Row = (
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
);

/// Schema, table, name, kind ('p', 'u' or 'f'), definition (as
/// `pg_get_constraintdef` prints it, which the columns are read from), and
/// for a foreign key the referenced schema and table and its ON DELETE / ON
/// UPDATE codes. The columns come from the definition, not from
/// `pg_attribute` by `conkey`: looking each up cost more than the rest of
/// the drift check's reading of keys together.
pub(crate) const PART: Part = Part {
    name: "keys",
    sql: "SELECT ARRAY[n.nspname::text, c.relname::text, con.conname::text, con.contype::text,
            pg_catalog.pg_get_constraintdef(con.oid),
            fn.nspname::text, fc.relname::text,
            con.confdeltype::text, con.confupdtype::text]
   FROM pg_catalog.pg_constraint con
   JOIN pg_catalog.pg_class c ON c.oid = con.conrelid
   JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
   LEFT JOIN pg_catalog.pg_class fc ON fc.oid = con.confrelid
   LEFT JOIN pg_catalog.pg_namespace fn ON fn.oid = fc.relnamespace
   WHERE n.nspname = ANY($1::text[]) AND con.contype IN ('p', 'u', 'f')
   ORDER BY con.conrelid, con.conname",
    read: Read::Rows(|fields, catalog| {
        let row: Row = read_row(fields)?;
        let (schema, table, name, kind, definition, ref_schema, ref_table, on_delete, on_update) =
            row;
        let unreadable = || {
            <serde::de::value::Error as serde::de::Error>::custom(format!(
                "cannot read the columns of constraint {name} from `{definition}`"
            ))
        };
        let (columns, ref_columns) = key_columns(&definition).ok_or_else(unreadable)?;
        let Some(at) = catalog.table_index(&schema, &table) else {
            return Ok(());
        };
        let t = &mut catalog.state.tables[at];
        let deferral = Deferral::of_definition(&definition);
        match kind.as_str() {
            "p" => {
                t.primary_key = Some(Key {
                    name,
                    columns,
                    deferral,
                })
            }
            "u" => t.uniques.push(Key {
                name,
                columns,
                deferral,
            }),
            _ => t.foreign_keys.push(ForeignKey {
                name,
                columns,
                references: QualifiedName::new(
                    ref_schema.unwrap_or_default(),
                    ref_table.unwrap_or_default(),
                ),
                referenced_columns: ref_columns,
                on_delete: action(&on_delete),
                on_update: action(&on_update),
                deferral,
                not_valid: definition.trim_end().ends_with("NOT VALID"),
            }),
        }
        Ok(())
    }),
    compare: Compare::Table(TableCompare {
        complete_with: "keys",
        compare,
        release: |table| {
            table.primary_key = None;
            table.uniques = Vec::new();
            table.foreign_keys = Vec::new();
        },
    }),
};

/// `confdeltype` / `confupdtype` codes.
fn action(code: &str) -> Action {
    match code {
        "r" => Action::Restrict,
        "c" => Action::Cascade,
        "n" => Action::SetNull,
        "d" => Action::SetDefault,
        _ => Action::NoAction,
    }
}

/// The key columns of a constraint definition as the server prints it
/// (`PRIMARY KEY (a, "B")`, `UNIQUE NULLS NOT DISTINCT (a)`, `FOREIGN KEY
/// (a) REFERENCES s.t(b) ON DELETE SET NULL (a)`), and for a foreign key the
/// referenced ones.
fn key_columns(definition: &str) -> Option<(Vec<String>, Vec<String>)> {
    let tokens = strata_manifest::lexer::significant(definition);
    let list = |from: usize| -> Option<(Vec<String>, usize)> {
        let open = from + tokens.get(from..)?.iter().position(|t| t.is_punct("("))?;
        let mut names = Vec::new();
        for (i, token) in tokens.iter().enumerate().skip(open + 1) {
            if token.is_punct(")") {
                return Some((names, i));
            }
            if !token.is_punct(",") {
                names.push(token.name()?);
            }
        }
        None
    };
    let (columns, end) = list(0)?;
    let referenced = match tokens.iter().position(|t| t.is_word("REFERENCES")) {
        Some(at) if at > end => list(at)?.0,
        Some(_) => return None,
        None => Vec::new(),
    };
    Some((columns, referenced))
}

fn compare(expected: &Table, actual: &Table, _: &TableSpelling<'_>, out: &mut Collector) {
    use DifferenceKind::*;
    {
        let table = quoted(&[&expected.schema, &expected.name]);
        match (&expected.primary_key, &actual.primary_key) {
            (Some(want), None) => {
                out.push(Missing, ObjectKind::PrimaryKey, table.clone())
                    .expected = Some(describe_key(want));
            }
            (None, Some(have)) => {
                out.push(Unexpected, ObjectKind::PrimaryKey, table.clone())
                    .actual = Some(describe_key(have));
            }
            (Some(want), Some(have))
                if want.columns != have.columns || want.deferral != have.deferral =>
            {
                let d = out.push(Changed, ObjectKind::PrimaryKey, table.clone());
                d.expected = Some(describe_key(want));
                d.actual = Some(describe_key(have));
            }
            _ => {}
        }
        let name = |key: &Key| quoted(&[&expected.schema, &key.name]);
        for key in &expected.uniques {
            let same = |k: &Key| k.columns == key.columns && k.deferral == key.deferral;
            if !actual.uniques.iter().any(same) {
                out.push(Missing, ObjectKind::Unique, name(key)).expected = Some(describe_key(key));
            }
        }
        for key in &actual.uniques {
            let same = |k: &Key| k.columns == key.columns && k.deferral == key.deferral;
            if !expected.uniques.iter().any(same) {
                out.push(Unexpected, ObjectKind::Unique, name(key)).actual =
                    Some(describe_key(key));
            }
        }
        compare_named(
            out,
            ObjectKind::ForeignKey,
            &expected.schema,
            &expected.foreign_keys,
            &actual.foreign_keys,
            |k| &k.name,
            describe_foreign_key,
            |a, b| a == b,
        );
    }
}

fn describe_key(key: &Key) -> String {
    format!(
        "{} ({}){}",
        key.name,
        key.columns.join(", "),
        key.deferral.sql().to_ascii_lowercase()
    )
}

fn describe_foreign_key(key: &ForeignKey) -> String {
    let mut text = format!(
        "({}) references {} ({})",
        key.columns.join(", "),
        quoted(&[&key.references.schema, &key.references.name]),
        key.referenced_columns.join(", ")
    );
    for (what, action) in [("on delete", key.on_delete), ("on update", key.on_update)] {
        if !action.is_default() {
            text.push_str(&format!(" {what} {}", action.sql().to_ascii_lowercase()));
        }
    }
    text.push_str(&key.deferral.sql().to_ascii_lowercase());
    if key.not_valid {
        text.push_str(" not valid");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::key_columns;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn reads_the_columns_as_the_server_prints_them() {
        for (definition, columns, referenced) in [
            ("PRIMARY KEY (id)", names(&["id"]), names(&[])),
            (
                r#"PRIMARY KEY (tenant, "Mixed ""Case"", x)") INCLUDE (note)"#,
                names(&["tenant", "Mixed \"Case\", x)"]),
                names(&[]),
            ),
            ("UNIQUE NULLS NOT DISTINCT (sku, type)", names(&["sku", "type"]), names(&[])),
            (
                "FOREIGN KEY (parent_id, kind) REFERENCES bench_0.table_000(id, kind) ON DELETE SET NULL (parent_id) DEFERRABLE",
                names(&["parent_id", "kind"]),
                names(&["id", "kind"]),
            ),
            (
                r#"FOREIGN KEY (customer_id) REFERENCES "Legacy"."Vendors"("Id") NOT VALID"#,
                names(&["customer_id"]),
                names(&["Id"]),
            ),
        ] {
            assert_eq!(
                key_columns(definition),
                Some((columns, referenced)),
                "{definition}"
            );
        }
    }

    #[test]
    fn an_unreadable_definition_is_none_not_a_panic() {
        for definition in [
            "",
            "PRIMARY KEY",
            "UNIQUE (a",
            "FOREIGN KEY (a) REFERENCES t",
            "UNIQUE (1)",
        ] {
            assert_eq!(key_columns(definition), None, "{definition}");
        }
    }
}
