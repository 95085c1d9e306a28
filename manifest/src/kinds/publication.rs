//! Publications from the files of `Builder::sql_dir` (`CREATE
//! PUBLICATION`): what logical replication sends, of every table, of
//! tables named (with their column lists and row filters) or of whole
//! schemas. Made after the tables they name; changed in place by `ALTER
//! PUBLICATION`, so that a subscriber's slot keeps streaming (only a switch
//! to or from `FOR ALL TABLES` drops and makes one again); dropped first.
//! strata's own (`strata_…`) are none of them.

use serde::{Deserialize, Serialize};

use super::{q, Change, Step};
use crate::diff::Plan;
use crate::lexer::{Token, TokenKind};
use crate::sql_object::Cursor;
use crate::{canonical_expr, quote_ident, QualifiedName, SchemaState};

/// What a publication sends, in the catalog's order.
pub const ACTIONS: [&str; 4] = ["insert", "update", "delete", "truncate"];

/// One publication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Publication {
    /// Its name.
    pub name: String,
    /// `FOR ALL TABLES`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub all_tables: bool,
    /// The tables it names, sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<PublishedTable>,
    /// The schemas whose tables it sends (`TABLES IN SCHEMA`), sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schemas: Vec<String>,
    /// The actions it sends (`publish`), in [`ACTIONS`] order.
    pub publish: Vec<String>,
    /// `publish_via_partition_root`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub via_root: bool,
}

/// One table of a publication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublishedTable {
    /// The table.
    pub table: QualifiedName,
    /// The columns it sends, sorted by name, when not all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<String>>,
    /// The row filter (`WHERE (…)`), the expression inside the parentheses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
}

impl PublishedTable {
    fn same(&self, other: &PublishedTable) -> bool {
        let filter = |t: &PublishedTable| t.filter.as_deref().map(canonical_expr);
        self.table == other.table && self.columns == other.columns && filter(self) == filter(other)
    }

    fn clause(&self) -> String {
        let mut out = q(&self.table);
        if let Some(columns) = &self.columns {
            let columns: Vec<String> = columns.iter().map(|c| quote_ident(c)).collect();
            out.push_str(&format!(" ({})", columns.join(", ")));
        }
        if let Some(filter) = &self.filter {
            out.push_str(&format!(" WHERE ({filter})"));
        }
        out
    }
}

impl Publication {
    /// The publication `sql` creates, or why `sql` is none.
    pub fn from_sql(sql: &str) -> Result<Publication, String> {
        let tokens = crate::lexer::significant(sql);
        let mut at = Cursor {
            tokens: &tokens,
            i: 0,
        };
        if !(at.eat_word("create") && at.eat_word("publication")) {
            return Err(crate::sql_files::not_taken(sql));
        }
        let Some((None, name, _)) = at.name() else {
            return Err("`CREATE PUBLICATION` must be followed by its name, which has no schema (a publication belongs to the database)".to_owned());
        };
        let mut publication = Publication {
            name,
            all_tables: false,
            tables: Vec::new(),
            schemas: Vec::new(),
            publish: ACTIONS.iter().map(|a| (*a).to_owned()).collect(),
            via_root: false,
        };
        let name = publication.name.clone();
        if at.eat_word("for") {
            if at.eat_word("all") {
                if !at.eat_word("tables") {
                    return Err(format!(
                        "publication {name}: `FOR ALL` goes on with `TABLES`"
                    ));
                }
                publication.all_tables = true;
            } else {
                objects(sql, &mut at, &mut publication)?;
            }
        }
        if at.eat_word("with") {
            let Some(list) = at.parenthesised() else {
                return Err(format!(
                    "publication {name}: `WITH` needs its options in parentheses"
                ));
            };
            options(list, &mut publication)?;
        }
        if let Some(extra) = at.peek() {
            return Err(format!(
                "publication {name}: `{}` is not something strata reads here; a publication is `CREATE PUBLICATION name [FOR …] [WITH (…)]`",
                extra.text
            ));
        }
        publication.tables.sort_by(|a, b| a.table.cmp(&b.table));
        publication.schemas.sort();
        Ok(publication)
    }

    /// True when both send the same, row filters compared as expressions.
    pub fn same(&self, other: &Publication) -> bool {
        self.name == other.name
            && self.all_tables == other.all_tables
            && self.schemas == other.schemas
            && self.publish == other.publish
            && self.via_root == other.via_root
            && self.tables.len() == other.tables.len()
            && self
                .tables
                .iter()
                .zip(&other.tables)
                .all(|(a, b)| a.same(b))
    }

    /// `TABLE a, TABLE b (x) WHERE (…), TABLES IN SCHEMA s`: what it names.
    fn objects(&self) -> String {
        let tables = self.tables.iter().map(|t| format!("TABLE {}", t.clause()));
        let schemas = self
            .schemas
            .iter()
            .map(|s| format!("TABLES IN SCHEMA {}", quote_ident(s)));
        tables.chain(schemas).collect::<Vec<_>>().join(", ")
    }

    /// `publish = '…'` and `publish_via_partition_root`, where not the defaults.
    fn options(&self) -> Vec<String> {
        let mut options = Vec::new();
        if self.publish.len() != ACTIONS.len() {
            options.push(format!("publish = '{}'", self.publish.join(", ")));
        }
        if self.via_root {
            options.push("publish_via_partition_root = true".to_owned());
        }
        options
    }

    /// Its `CREATE PUBLICATION`, without the closing semicolon.
    pub fn statement(&self) -> String {
        let mut out = format!("CREATE PUBLICATION {}", quote_ident(&self.name));
        if self.all_tables {
            out.push_str(" FOR ALL TABLES");
        } else if !self.tables.is_empty() || !self.schemas.is_empty() {
            out.push_str(&format!(" FOR {}", self.objects()));
        }
        let options = self.options();
        if !options.is_empty() {
            out.push_str(&format!(" WITH ({})", options.join(", ")));
        }
        out
    }
}

/// The list after `FOR`: `TABLE` items and `TABLES IN SCHEMA` items, each
/// keyword holding for the items after it.
fn objects(sql: &str, at: &mut Cursor<'_, '_>, p: &mut Publication) -> Result<(), String> {
    let name = p.name.clone();
    let mut schemas = false;
    loop {
        if at.eat_word("table") {
            schemas = false;
        } else if at.eat_word("tables") {
            if !(at.eat_word("in") && at.eat_word("schema")) {
                return Err(format!(
                    "publication {name}: `TABLES` goes on with `IN SCHEMA`"
                ));
            }
            schemas = true;
        } else if p.tables.is_empty() && p.schemas.is_empty() {
            return Err(format!(
                "publication {name}: `FOR` goes on with `ALL TABLES`, `TABLE` or `TABLES IN SCHEMA`"
            ));
        }
        if schemas {
            match at.name() {
                Some((None, schema, _)) => p.schemas.push(schema),
                _ => {
                    return Err(format!(
                        "publication {name}: `TABLES IN SCHEMA` names schemas"
                    ))
                }
            }
        } else {
            at.eat_word("only");
            let table = match at.name() {
                Some((Some(schema), table, _)) => QualifiedName::new(schema, table),
                _ => {
                    return Err(format!(
                        "publication {name}: name each table with its schema (`TABLE app.orders`), so that it is the table strata manages whatever the search_path"
                    ))
                }
            };
            if at.peek().is_some_and(|t| t.text == "*") {
                at.i += 1;
            }
            let columns = match at.parenthesised() {
                Some(list) => {
                    let mut columns = Vec::new();
                    for token in list.iter().filter(|t| !t.is_punct(",")) {
                        match token.name() {
                            Some(column) => columns.push(column),
                            None => {
                                return Err(format!(
                                    "publication {name}: the column list of {}.{} holds `{}`, which is no column name",
                                    table.schema, table.name, token.text
                                ))
                            }
                        }
                    }
                    columns.sort();
                    Some(columns)
                }
                None => None,
            };
            let filter = if at.eat_word("where") {
                match at.parenthesised() {
                    Some(inner) => Some(text_of(sql, inner)),
                    None => {
                        return Err(format!(
                            "publication {name}: the row filter of {}.{} is written in parentheses, `WHERE (…)`",
                            table.schema, table.name
                        ))
                    }
                }
            } else {
                None
            };
            p.tables.push(PublishedTable {
                table,
                columns,
                filter,
            });
        }
        if !at.peek().is_some_and(|t| t.is_punct(",")) {
            return Ok(());
        }
        at.i += 1;
    }
}

/// The source text the tokens span.
fn text_of(sql: &str, tokens: &[Token<'_>]) -> String {
    match (tokens.first(), tokens.last()) {
        (Some(first), Some(last)) => sql
            .get(first.start..last.end())
            .unwrap_or_default()
            .to_owned(),
        _ => String::new(),
    }
}

/// `publish = '…'`, `publish_via_partition_root = …`.
fn options(list: &[Token<'_>], p: &mut Publication) -> Result<(), String> {
    let name = p.name.clone();
    for option in list.split(|t| t.is_punct(",")) {
        match option {
            [key, eq, value] if eq.text == "=" => {
                let key = key.name().unwrap_or_default();
                let text = match value.kind {
                    TokenKind::String => value
                        .text
                        .strip_prefix('\'')
                        .and_then(|t| t.strip_suffix('\''))
                        .unwrap_or_default()
                        .to_lowercase(),
                    _ => value.text.to_lowercase(),
                };
                match key.as_str() {
                    "publish" => {
                        let wanted: Vec<&str> = text.split(',').map(str::trim).filter(|a| !a.is_empty()).collect();
                        if let Some(unknown) = wanted.iter().find(|a| !ACTIONS.contains(a)) {
                            return Err(format!(
                                "publication {name}: `publish` takes {}, not `{unknown}`",
                                ACTIONS.join(", ")
                            ));
                        }
                        p.publish = ACTIONS
                            .iter()
                            .filter(|a| wanted.contains(a))
                            .map(|a| (*a).to_owned())
                            .collect();
                    }
                    "publish_via_partition_root" => {
                        p.via_root = match text.as_str() {
                            "true" | "on" | "1" => true,
                            "false" | "off" | "0" => false,
                            _ => {
                                return Err(format!(
                                    "publication {name}: publish_via_partition_root is true or false, not `{text}`"
                                ))
                            }
                        }
                    }
                    _ => {
                        return Err(format!(
                            "publication {name}: strata reads the options publish and publish_via_partition_root, not `{key}`"
                        ))
                    }
                }
            }
            _ => return Err(format!("publication {name}: each option is `key = value`")),
        }
    }
    Ok(())
}

/// Publications in `sql_dir` files.
pub(crate) const FILE: crate::SqlFileKind = crate::SqlFileKind {
    noun: "publication",
    opens: &["create publication"],
    several: false,
    take: |sql, state| {
        let publication = Publication::from_sql(sql)?;
        if publication.name.starts_with("strata_") {
            return Err(format!(
                "publication {}: names that start with `strata_` are strata's own; choose another",
                publication.name
            ));
        }
        for t in &publication.tables {
            if state.table(&t.table.schema, &t.table.name).is_none() {
                return Err(format!(
                    "publication {} names {}.{}, which no model declares",
                    publication.name, t.table.schema, t.table.name
                ));
            }
        }
        if state
            .publications
            .iter()
            .any(|p| p.name == publication.name)
        {
            return Err(format!(
                "publication {} is declared twice",
                publication.name
            ));
        }
        let at = state
            .publications
            .partition_point(|p| p.name < publication.name);
        state.publications.insert(at, publication);
        Ok(())
    },
    files: |state| {
        state
            .publications
            .iter()
            .map(|p| crate::SqlFile {
                folder: "publications",
                schema: String::new(),
                name: p.name.clone(),
                stem: vec![p.name.clone()],
                sql: p.statement(),
            })
            .collect()
    },
    // A publication belongs to the database: kept whatever the schemas.
    retain: |_, _| {},
};

/// A change to a publication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum PublicationChange {
    /// `CREATE PUBLICATION`.
    CreatePublication {
        /// The publication.
        publication: Publication,
    },
    /// `ALTER PUBLICATION`: what it names, or its options.
    AlterPublication {
        /// As it was.
        before: Publication,
        /// As it is now.
        after: Publication,
    },
    /// `DROP PUBLICATION`.
    DropPublication {
        /// The publication as it was.
        publication: Publication,
    },
}

pub(crate) const OPS: &[&str] = &[
    "create_publication",
    "alter_publication",
    "drop_publication",
];

pub(crate) fn diff(old: &SchemaState, new: &SchemaState, plan: &mut Plan<'_>) {
    let find = |state: &'_ SchemaState, name: &str| {
        state.publications.iter().find(|p| p.name == name).cloned()
    };
    for before in &old.publications {
        match find(new, &before.name) {
            None => plan.push(PublicationChange::DropPublication {
                publication: before.clone(),
            }),
            Some(after) if after.all_tables != before.all_tables => {
                plan.push(PublicationChange::DropPublication {
                    publication: before.clone(),
                });
                plan.push(PublicationChange::CreatePublication { publication: after });
            }
            Some(after) if !after.same(before) => plan.push(PublicationChange::AlterPublication {
                before: before.clone(),
                after,
            }),
            Some(_) => {}
        }
    }
    for publication in &new.publications {
        if find(old, &publication.name).is_none() {
            plan.push(PublicationChange::CreatePublication {
                publication: publication.clone(),
            });
        }
    }
}

impl Step for PublicationChange {
    fn order(&self) -> (usize, u8) {
        match self {
            PublicationChange::DropPublication { .. } => (0, 1),
            // After the tables and columns they name, before those dropped.
            PublicationChange::CreatePublication { .. }
            | PublicationChange::AlterPublication { .. } => (6, 40),
        }
    }

    fn section(&self) -> Option<&'static str> {
        Some("publications")
    }

    fn describe(&self) -> String {
        match self {
            PublicationChange::CreatePublication { publication } => {
                format!("create publication {}", publication.name)
            }
            PublicationChange::AlterPublication { after, .. } => {
                format!("alter publication {}", after.name)
            }
            PublicationChange::DropPublication { publication } => {
                format!("drop publication {}", publication.name)
            }
        }
    }

    fn naming(&self) -> Option<(u8, &'static str, &'static str)> {
        Some(match self {
            PublicationChange::CreatePublication { .. } => (4, "create", "publications"),
            PublicationChange::AlterPublication { .. } => (4, "change", "publications"),
            PublicationChange::DropPublication { .. } => (4, "drop", "publications"),
        })
    }

    fn inverse(&self) -> Vec<Change> {
        let change = match self.clone() {
            PublicationChange::CreatePublication { publication } => {
                PublicationChange::DropPublication { publication }
            }
            PublicationChange::AlterPublication { before, after } => {
                PublicationChange::AlterPublication {
                    before: after,
                    after: before,
                }
            }
            PublicationChange::DropPublication { publication } => {
                PublicationChange::CreatePublication { publication }
            }
        };
        vec![change.into()]
    }

    fn apply_to(&self, state: &mut SchemaState) {
        let (gone, made) = match self {
            PublicationChange::CreatePublication { publication } => (None, Some(publication)),
            PublicationChange::AlterPublication { before, after } => (Some(before), Some(after)),
            PublicationChange::DropPublication { publication } => (Some(publication), None),
        };
        if let Some(gone) = gone {
            state.publications.retain(|p| p.name != gone.name);
        }
        if let Some(made) = made {
            let at = state.publications.partition_point(|p| p.name < made.name);
            state.publications.insert(at, made.clone());
        }
    }

    fn render(&self) -> String {
        match self {
            PublicationChange::CreatePublication { publication } => {
                format!("{};", publication.statement())
            }
            PublicationChange::DropPublication { publication } => {
                format!("DROP PUBLICATION {};", quote_ident(&publication.name))
            }
            PublicationChange::AlterPublication { before, after } => {
                let name = quote_ident(&after.name);
                let mut sql = Vec::new();
                let named = |p: &Publication| (p.tables.clone(), p.schemas.clone());
                if named(before) != named(after)
                    || !before
                        .tables
                        .iter()
                        .zip(&after.tables)
                        .all(|(a, b)| a.same(b))
                {
                    if after.tables.is_empty() && after.schemas.is_empty() {
                        sql.push(format!(
                            "ALTER PUBLICATION {name} DROP {};",
                            before.objects()
                        ));
                    } else {
                        sql.push(format!("ALTER PUBLICATION {name} SET {};", after.objects()));
                    }
                }
                if before.publish != after.publish || before.via_root != after.via_root {
                    sql.push(format!(
                        "ALTER PUBLICATION {name} SET (publish = '{}', publish_via_partition_root = {});",
                        after.publish.join(", "),
                        after.via_root
                    ));
                }
                sql.join("\n")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_publication_reads_as_the_catalog_holds_it() {
        let p = Publication::from_sql(
            "CREATE PUBLICATION feed FOR TABLE ONLY app.b (y, x) WHERE (x > 1), app.a, TABLES IN SCHEMA \"Logs\", audit WITH (publish = 'update,insert', publish_via_partition_root = on)",
        )
        .unwrap();
        let names: Vec<&str> = p.tables.iter().map(|t| t.table.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(
            p.tables[1].columns,
            Some(vec!["x".to_owned(), "y".to_owned()])
        );
        assert_eq!(p.tables[1].filter.as_deref(), Some("x > 1"));
        assert_eq!(p.schemas, ["Logs", "audit"]);
        assert_eq!(p.publish, ["insert", "update"]);
        assert!(p.via_root);
        let again = Publication::from_sql(&p.statement()).unwrap();
        assert!(again.same(&p), "{}", p.statement());
        let bare = Publication::from_sql("create publication everything for all tables").unwrap();
        assert_eq!(
            bare.statement(),
            r#"CREATE PUBLICATION "everything" FOR ALL TABLES"#
        );
    }

    #[test]
    fn what_a_publication_file_cannot_say_is_named() {
        for (sql, says) in [
            ("CREATE PUBLICATION a.p", "has no schema"),
            (
                "CREATE PUBLICATION p FOR TABLE orders",
                "name each table with its schema",
            ),
            (
                "CREATE PUBLICATION p WITH (publish = 'upsert')",
                "not `upsert`",
            ),
            (
                "CREATE PUBLICATION p WITH (streaming = on)",
                "not `streaming`",
            ),
            (
                "CREATE PUBLICATION p FOR TABLE a.t WHERE x > 1",
                "in parentheses",
            ),
        ] {
            let error = Publication::from_sql(sql).unwrap_err();
            assert!(error.contains(says), "{sql}: {error}");
        }
    }
}
