//! Indexes other than those behind keys: matched by columns, uniqueness and
//! canonical predicate, renamed when only the name changed.

use std::fmt::Write;

use serde::{Deserialize, Serialize};

use super::table::table_mut;
use super::{q, Change, Step, TablePart};
use crate::diff::{match_by, Plan, Renames};
use crate::{qualified, quote_ident, QualifiedName, SchemaState, Table};

/// An index.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    /// Its name.
    pub name: String,
    /// Its columns, in order.
    pub columns: Vec<String>,
    /// `UNIQUE`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unique: bool,
    /// The `WHERE` of a partial index.
    #[serde(default, rename = "where", skip_serializing_if = "Option::is_none")]
    pub predicate: Option<String>,
    /// The access method (`USING gin`), when not the default btree.
    #[serde(default, rename = "using", skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The operator class of every column (`gin_trgm_ops`), when not the default.
    #[serde(default, rename = "ops", skip_serializing_if = "Option::is_none")]
    pub opclass: Option<String>,
    /// The key list as written inside the parentheses, when it is more
    /// than the columns: expressions, `COLLATE`, an operator class per key,
    /// `DESC`, `NULLS FIRST` (`lower(email), created_at DESC`). `columns`
    /// then names the columns it reads, and `opclass` is empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys: Option<String>,
}

impl Index {
    /// Its access method, `btree` when none is named.
    pub fn method(&self) -> &str {
        self.method.as_deref().unwrap_or("btree")
    }

    /// `CREATE INDEX ON "schema"."table" USING method (keys)`: what an
    /// index's keys are spelt by, the server's way, on a scratch copy of
    /// its table (see [`Index::keys_from_statement`]).
    pub fn keys_statement(&self, table: &QualifiedName) -> String {
        format!(
            "CREATE INDEX ON {} USING {} ({})",
            q(table),
            self.method(),
            self.keys.as_deref().unwrap_or_default()
        )
    }

    /// The table of a [`Index::keys_statement`], and what follows it.
    pub fn keys_from_statement(statement: &str) -> Option<(QualifiedName, &str)> {
        let tokens = crate::lexer::significant(statement);
        let words = ["create", "index", "on"];
        if tokens.len() < 7 || !tokens.iter().zip(words).all(|(t, w)| t.is_word(w)) {
            return None;
        }
        let (schema, dot, name) = (&tokens[3], &tokens[4], &tokens[5]);
        if !dot.is_punct(".") {
            return None;
        }
        let table = QualifiedName::new(schema.name()?, name.name()?);
        Some((table, statement.get(tokens[6].start..)?))
    }

    /// The key list of an index definition as `pg_get_indexdef` prints it:
    /// what stands in the parentheses after `USING method`.
    pub fn keys_of_definition(definition: &str) -> Option<String> {
        let tokens = crate::lexer::significant(definition);
        let using = tokens.iter().position(|t| t.is_word("using"))?;
        let open = using + 2;
        if !tokens.get(open)?.is_punct("(") {
            return None;
        }
        let mut depth = 0usize;
        for token in &tokens[open..] {
            if token.is_punct("(") {
                depth += 1;
            } else if token.is_punct(")") {
                depth -= 1;
                if depth == 0 {
                    let inner = definition.get(tokens[open].end()..token.start)?;
                    return Some(inner.trim().to_owned());
                }
            }
        }
        None
    }

    /// `USING method (column opclass, …)`: the part of `CREATE INDEX` after the table.
    pub(crate) fn key_sql(&self) -> String {
        if let Some(keys) = &self.keys {
            return match &self.method {
                Some(method) => format!("USING {method} ({keys})"),
                None => format!("({keys})"),
            };
        }
        let columns: Vec<String> = self
            .columns
            .iter()
            .map(|c| match &self.opclass {
                Some(ops) => format!("{} {ops}", quote_ident(c)),
                None => quote_ident(c),
            })
            .collect();
        match &self.method {
            Some(method) => format!("USING {method} ({})", columns.join(", ")),
            None => format!("({})", columns.join(", ")),
        }
    }
}

/// A change to a table's indexes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum IndexChange {
    /// `ALTER INDEX … RENAME TO`.
    RenameIndex {
        /// The table.
        table: QualifiedName,
        /// The name before.
        from: String,
        /// The name after.
        to: String,
    },
    /// `CREATE INDEX`.
    CreateIndex {
        /// The table.
        table: QualifiedName,
        /// The index.
        index: Index,
        /// `CONCURRENTLY`, in a migration of its own without a transaction:
        /// a table that existed before keeps taking writes while it builds.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        concurrently: bool,
    },
    /// `DROP INDEX`.
    DropIndex {
        /// The table.
        table: QualifiedName,
        /// The index as it was.
        index: Index,
        /// `CONCURRENTLY`, in a migration of its own without a transaction.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        concurrently: bool,
    },
}

pub(crate) const OPS: &[&str] = &["rename_index", "create_index", "drop_index"];

/// A new table's indexes follow its `CREATE TABLE`.
pub(crate) const PART: TablePart = TablePart {
    created: |table, plan| {
        for index in &table.indexes {
            plan.push(IndexChange::CreateIndex {
                table: table.qualified_name(),
                index: index.clone(),
                concurrently: false,
            });
        }
    },
    diff: diff_indexes,
};

fn diff_indexes(before: &Table, table: &Table, renames: &Renames, plan: &mut Plan<'_>) {
    let name = table.qualified_name();
    let old_indexes: Vec<Index> = before
        .indexes
        .iter()
        .map(|i| Index {
            columns: renames.columns(&name, &i.columns),
            keys: i
                .keys
                .as_deref()
                .map(|k| renames.expr_in_new_names(&name, k)),
            predicate: i
                .predicate
                .as_deref()
                .map(|p| renames.expr_in_new_names(&name, p)),
            ..i.clone()
        })
        .collect();
    let (same, gone, added) = match_by(&old_indexes, &table.indexes, |a, b| {
        a.columns == b.columns
            && a.unique == b.unique
            && a.method() == b.method()
            && a.opclass == b.opclass
            && a.keys.as_deref().map(crate::canonical_expr)
                == b.keys.as_deref().map(crate::canonical_expr)
            && a.predicate.as_deref().map(crate::canonical_expr)
                == b.predicate.as_deref().map(crate::canonical_expr)
    });
    for (a, b) in same {
        if a.name != b.name {
            plan.push(IndexChange::RenameIndex {
                table: name.clone(),
                from: a.name.clone(),
                to: b.name.clone(),
            });
        }
    }
    for a in gone {
        plan.push(IndexChange::DropIndex {
            table: name.clone(),
            index: a.clone(),
            concurrently: false,
        });
    }
    for b in added {
        plan.push(IndexChange::CreateIndex {
            table: name.clone(),
            index: b.clone(),
            concurrently: false,
        });
    }
}

impl Step for IndexChange {
    fn order(&self) -> (usize, u8) {
        match self {
            IndexChange::RenameIndex { .. } => (2, 3),
            IndexChange::DropIndex { .. } => (5, 0),
            IndexChange::CreateIndex { .. } => (5, 1),
        }
    }

    fn describe(&self) -> String {
        match self {
            IndexChange::RenameIndex { from, to, .. } => format!("rename {from} to {to}"),
            IndexChange::CreateIndex { index, .. } => format!("add index {}", index.name),
            IndexChange::DropIndex { index, .. } => format!("drop index {}", index.name),
        }
    }

    fn naming(&self) -> Option<(u8, &'static str, &'static str)> {
        match self {
            IndexChange::RenameIndex { .. } => None,
            IndexChange::CreateIndex { .. } => Some((3, "add", "indexes")),
            IndexChange::DropIndex { .. } => Some((3, "drop", "indexes")),
        }
    }

    fn inverse(&self) -> Vec<Change> {
        let change = match self.clone() {
            IndexChange::RenameIndex { table, from, to } => IndexChange::RenameIndex {
                table,
                from: to,
                to: from,
            },
            // A down file runs in a transaction: its index changes are plain.
            IndexChange::CreateIndex { table, index, .. } => IndexChange::DropIndex {
                table,
                index,
                concurrently: false,
            },
            IndexChange::DropIndex { table, index, .. } => IndexChange::CreateIndex {
                table,
                index,
                concurrently: false,
            },
        };
        vec![change.into()]
    }

    fn apply_to(&self, state: &mut SchemaState) {
        let table = match self {
            IndexChange::RenameIndex { table, .. }
            | IndexChange::CreateIndex { table, .. }
            | IndexChange::DropIndex { table, .. } => table,
        };
        let Some(t) = table_mut(state, table) else {
            return;
        };
        match self {
            IndexChange::RenameIndex { from, to, .. } => {
                if let Some(at) = t.indexes.iter().position(|i| i.name == *from) {
                    let mut index = t.indexes.remove(at);
                    index.name = to.clone();
                    t.add_index(index);
                }
            }
            IndexChange::CreateIndex { index, .. } => t.add_index(index.clone()),
            IndexChange::DropIndex { index, .. } => t.indexes.retain(|i| i.name != index.name),
        }
    }

    fn render(&self) -> String {
        match self {
            IndexChange::RenameIndex { table, from, to } => format!(
                "ALTER INDEX {} RENAME TO {};",
                qualified(&table.schema, from),
                quote_ident(to)
            ),
            IndexChange::CreateIndex {
                table,
                index,
                concurrently,
            } => {
                let mut sql = format!(
                    "CREATE {}INDEX {}{} ON {} {}",
                    if index.unique { "UNIQUE " } else { "" },
                    if *concurrently { "CONCURRENTLY " } else { "" },
                    quote_ident(&index.name),
                    q(table),
                    index.key_sql()
                );
                if let Some(predicate) = &index.predicate {
                    let _ = write!(sql, " WHERE {predicate}");
                }
                sql.push(';');
                sql
            }
            IndexChange::DropIndex {
                table,
                index,
                concurrently,
            } => format!(
                // Outside a transaction, a retry runs the file again from
                // its first statement: a drop that already happened is done.
                "DROP INDEX {}{};",
                if *concurrently {
                    "CONCURRENTLY IF EXISTS "
                } else {
                    ""
                },
                qualified(&table.schema, &index.name)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_key_list_of_a_definition_and_of_its_own_statement() {
        let definition = r#"CREATE INDEX "a (b" ON "s"."USING (x" USING gin (lower((body)::text) gin_trgm_ops, (f(a, b))) INCLUDE (c) WHERE (score > 0)"#;
        assert_eq!(
            Index::keys_of_definition(definition).as_deref(),
            Some("lower((body)::text) gin_trgm_ops, (f(a, b))")
        );
        assert_eq!(Index::keys_of_definition("CREATE INDEX i ON t"), None);
        let index = Index {
            keys: Some("title COLLATE \"C\" DESC".to_owned()),
            ..Index::default()
        };
        let statement = index.keys_statement(&QualifiedName::new("s", "my table"));
        let (table, rest) = Index::keys_from_statement(&statement).unwrap();
        assert_eq!(table, QualifiedName::new("s", "my table"));
        assert_eq!(rest, "USING btree (title COLLATE \"C\" DESC)");
        assert_eq!(Index::keys_from_statement("DROP TABLE x"), None);
    }
}
