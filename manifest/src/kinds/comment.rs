//! Comments: on tables and columns, from the models' doc comments; on
//! functions, procedures, views and indexes, from `COMMENT ON` files of
//! `Builder::sql_dir`.

use serde::{Deserialize, Serialize};

use super::table::table_mut;
use super::{q, Change, Step, TablePart};
use crate::diff::{Plan, Renames};
use crate::sql_object::Cursor;
use crate::{
    quote_ident, quote_literal, ObjectRef, ObjectRefKind, QualifiedName, SchemaState, Table,
};

/// A comment on a function, procedure, view or index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectComment {
    /// What it is on.
    #[serde(flatten)]
    pub on: ObjectRef,
    /// Its text.
    pub text: String,
}

impl ObjectComment {
    /// The comment a `COMMENT ON … IS '…'` statement (without its
    /// semicolon) sets, or why the statement is not one strata takes.
    pub fn from_sql(sql: &str) -> Result<ObjectComment, String> {
        let tokens = crate::lexer::significant(sql);
        let mut at = Cursor {
            tokens: &tokens,
            i: 0,
        };
        if !(at.eat_word("comment") && at.eat_word("on")) {
            return Err(crate::sql_files::not_taken(sql));
        }
        let kind = if at.eat_word("function") {
            ObjectRefKind::Function
        } else if at.eat_word("procedure") {
            ObjectRefKind::Procedure
        } else if at.eat_word("view") {
            ObjectRefKind::View
        } else if at.eat_word("materialized") && at.eat_word("view") {
            ObjectRefKind::MaterializedView
        } else if at.eat_word("index") {
            ObjectRefKind::Index
        } else if at.peek_word("table") || at.peek_word("column") {
            return Err("a table's or column's comment is its model's doc comment (`/// …` above the struct or the field); delete this file and write it there".to_owned());
        } else {
            return Err("sql_dir takes comments on a FUNCTION, PROCEDURE, VIEW, MATERIALIZED VIEW or INDEX; write any other as a hand-written migration".to_owned());
        };
        let on = ObjectRef::read(kind, &mut at, "COMMENT ON")?;
        if !at.eat_word("is") {
            return Err(format!(
                "`COMMENT ON {}` must go on with `IS '…'`",
                on.target()
            ));
        }
        let text = at
            .peek()
            .filter(|t| t.kind == crate::lexer::TokenKind::String && t.text.starts_with('\''))
            .and_then(|t| t.text.get(1..t.text.len().saturating_sub(1)))
            .map(|t| t.replace("''", "'"));
        let Some(text) = text else {
            return Err(format!(
                "the comment on {on} must be one string in single quotes (`IS '…'`; to remove a comment, delete its file)"
            ));
        };
        at.i += 1;
        if let Some(extra) = at.peek() {
            return Err(format!(
                "`{}` after the comment's text: the statement ends with the string",
                extra.text
            ));
        }
        Ok(ObjectComment { on, text })
    }
}

/// `COMMENT ON` statements in `sql_dir` files, taken after the objects
/// they are on.
pub(crate) const FILE: crate::SqlFileKind = crate::SqlFileKind {
    noun: "comment",
    opens: &["comment on"],
    several: false,
    take: |sql, state| {
        let comment = ObjectComment::from_sql(sql)?;
        crate::sql_files::checked_schema(&comment.on.schema)?;
        if !comment.on.exists_in(state) {
            return Err(format!(
                "the comment is on {}, which no model or sql_dir file declares; name it as its `CREATE` does (schema, name and argument types)",
                comment.on
            ));
        }
        if state.comment_on(&comment.on).is_some() {
            return Err(format!("{} has two comments; keep one file", comment.on));
        }
        state.set_comment(&comment.on, Some(comment.text));
        Ok(())
    },
    files: |state| {
        state
            .comments
            .iter()
            .map(|c| crate::SqlFile {
                folder: "comments",
                schema: c.on.schema.clone(),
                name: match &c.on.args {
                    Some(args) => format!("{}({args})", c.on.name),
                    None => c.on.name.clone(),
                },
                stem: vec![c.on.schema.clone(), c.on.name.clone()],
                sql: format!("COMMENT ON {} IS {}", c.on.target(), quote_literal(&c.text)),
            })
            .collect()
    },
    retain: |state, keep| state.comments.retain(|c| keep(&c.on.schema)),
};

/// The comments on functions, procedures, views and indexes: set where
/// they changed, and again on an object the plan makes (or makes again).
/// Diffed after every other kind, whose plans it reads.
pub(crate) fn diff(old: &SchemaState, new: &SchemaState, plan: &mut Plan<'_>) {
    let mut changes = Vec::new();
    for comment in &new.comments {
        let before = old.comment_on(&comment.on);
        let made = plan.changes.iter().any(|c| comment.on.made_by(c));
        if made || before != Some(comment.text.as_str()) {
            changes.push(CommentChange::SetObjectComment {
                on: comment.on.clone(),
                from: before.map(str::to_owned),
                to: Some(comment.text.clone()),
            });
        }
    }
    for comment in &old.comments {
        let made = plan.changes.iter().any(|c| comment.on.made_by(c));
        // Dropped with its object, or gone when the object was made again.
        if new.comment_on(&comment.on).is_none() && comment.on.exists_in(new) && !made {
            changes.push(CommentChange::SetObjectComment {
                on: comment.on.clone(),
                from: Some(comment.text.clone()),
                to: None,
            });
        }
    }
    for change in changes {
        plan.push(change);
    }
}

/// A change of one comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum CommentChange {
    /// `COMMENT ON TABLE` or `COMMENT ON COLUMN … IS …` (`IS NULL` removes it).
    SetComment {
        /// The table.
        table: QualifiedName,
        /// The column, for a column's comment.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        column: Option<String>,
        /// The comment before.
        from: Option<String>,
        /// The comment after.
        to: Option<String>,
    },
    /// `COMMENT ON FUNCTION`, `VIEW`, `INDEX` … `IS …` (`IS NULL` removes it).
    SetObjectComment {
        /// What it is on.
        on: ObjectRef,
        /// The comment before.
        from: Option<String>,
        /// The comment after.
        to: Option<String>,
    },
}

pub(crate) const OPS: &[&str] = &["set_comment", "set_object_comment"];

/// A new table's or column's comment is written with its `CREATE TABLE` or
/// `ADD COLUMN` (so that a down file restoring it restores the comment too);
/// the comments of what exists already change by themselves.
pub(crate) const PART: TablePart = TablePart {
    created: |_, _| {},
    diff: diff_comments,
};

fn set(
    plan: &mut Plan<'_>,
    table: &QualifiedName,
    column: Option<&str>,
    from: Option<&String>,
    to: Option<&String>,
) {
    if from != to {
        plan.push(CommentChange::SetComment {
            table: table.clone(),
            column: column.map(str::to_owned),
            from: from.cloned(),
            to: to.cloned(),
        });
    }
}

fn diff_comments(before: &Table, table: &Table, renames: &Renames, plan: &mut Plan<'_>) {
    let name = table.qualified_name();
    set(
        plan,
        &name,
        None,
        before.comment.as_ref(),
        table.comment.as_ref(),
    );
    for column in &table.columns {
        // The column as it was, under its old name; a new one comes with its comment.
        let old = before
            .columns
            .iter()
            .find(|c| renames.column(&name, &c.name) == column.name);
        if let Some(old) = old {
            set(
                plan,
                &name,
                Some(&column.name),
                old.comment.as_ref(),
                column.comment.as_ref(),
            );
        }
    }
}

impl Step for CommentChange {
    fn order(&self) -> (usize, u8) {
        match self {
            // With the columns, once the table and its columns exist.
            CommentChange::SetComment { .. } => (3, 1),
            // Once the views (made last but the drops), functions and
            // indexes exist.
            CommentChange::SetObjectComment { .. } => (7, 4),
        }
    }

    fn describe(&self) -> String {
        match self {
            CommentChange::SetComment { table, column, .. } => match column {
                Some(column) => format!("comment on {}.{column}", table.name),
                None => format!("comment on {}", table.name),
            },
            CommentChange::SetObjectComment { on, .. } => format!(
                "comment on {} {}",
                on.kind.keyword().to_lowercase(),
                on.name
            ),
        }
    }

    fn naming(&self) -> Option<(u8, &'static str, &'static str)> {
        Some((6, "change", "comments"))
    }

    fn inverse(&self) -> Vec<Change> {
        let change = match self.clone() {
            CommentChange::SetComment {
                table,
                column,
                from,
                to,
            } => CommentChange::SetComment {
                table,
                column,
                from: to,
                to: from,
            },
            CommentChange::SetObjectComment { on, from, to } => CommentChange::SetObjectComment {
                on,
                from: to,
                to: from,
            },
        };
        vec![change.into()]
    }

    fn apply_to(&self, state: &mut SchemaState) {
        let (table, column, to) = match self {
            CommentChange::SetComment {
                table, column, to, ..
            } => (table, column, to),
            CommentChange::SetObjectComment { on, to, .. } => {
                state.set_comment(on, to.clone());
                return;
            }
        };
        let Some(t) = table_mut(state, table) else {
            return;
        };
        match column {
            None => t.comment = to.clone(),
            Some(column) => {
                if let Some(c) = t.columns.iter_mut().find(|c| c.name == *column) {
                    c.comment = to.clone();
                }
            }
        }
    }

    fn render(&self) -> String {
        match self {
            CommentChange::SetComment {
                table, column, to, ..
            } => statement(table, column.as_deref(), to.as_deref()),
            CommentChange::SetObjectComment { on, to, .. } => format!(
                "COMMENT ON {} IS {};",
                on.target(),
                to.as_deref()
                    .map_or_else(|| "NULL".to_owned(), quote_literal)
            ),
        }
    }
}

/// `COMMENT ON TABLE …` (no column) or `COMMENT ON COLUMN … IS …`.
pub(crate) fn statement(table: &QualifiedName, column: Option<&str>, text: Option<&str>) -> String {
    let target = match column {
        None => format!("TABLE {}", q(table)),
        Some(column) => format!("COLUMN {}.{}", q(table), quote_ident(column)),
    };
    let text = text.map_or_else(|| "NULL".to_owned(), quote_literal);
    format!("COMMENT ON {target} IS {text};")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comment_names_its_object_as_the_catalog_does() {
        let c = ObjectComment::from_sql(
            "comment on function \"App\".f(n int, varchar(10)) is 'It''s -- not a comment'",
        )
        .unwrap();
        assert_eq!(c.on.args.as_deref(), Some("integer, character varying"));
        assert_eq!(c.on.schema, "App");
        assert_eq!(c.text, "It's -- not a comment");
        assert_eq!(
            c.on.target(),
            r#"FUNCTION "App"."f"(integer, character varying)"#
        );
        let m = ObjectComment::from_sql("COMMENT ON MATERIALIZED VIEW a.totals IS ''").unwrap();
        assert_eq!(
            (m.on.kind, m.text.as_str()),
            (ObjectRefKind::MaterializedView, "")
        );
    }

    #[test]
    fn what_a_comment_file_cannot_say_is_named() {
        for (sql, says) in [
            ("COMMENT ON FUNCTION a.f IS 'x'", "needs its argument types"),
            (
                "COMMENT ON INDEX a.i IS E'x\\n'",
                "one string in single quotes",
            ),
            (
                "COMMENT ON INDEX a.i IS 'x' 'y'",
                "after the comment's text",
            ),
            ("COMMENT ON SCHEMA a IS 'x'", "FUNCTION, PROCEDURE, VIEW"),
            ("COMMENT ON COLUMN a.t.c IS 'x'", "doc comment"),
        ] {
            let error = ObjectComment::from_sql(sql).unwrap_err();
            assert!(error.contains(says), "{sql}: {error}");
        }
    }
}
