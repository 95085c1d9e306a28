//! Comments on tables and columns, from the models' doc comments.

use serde::{Deserialize, Serialize};

use super::table::table_mut;
use super::{q, Change, Step, TablePart};
use crate::diff::{Plan, Renames};
use crate::{quote_ident, quote_literal, QualifiedName, SchemaState, Table};

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
}

pub(crate) const OPS: &[&str] = &["set_comment"];

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
        // With the columns, once the table and its columns exist.
        (3, 1)
    }

    fn describe(&self) -> String {
        let CommentChange::SetComment { table, column, .. } = self;
        match column {
            Some(column) => format!("comment on {}.{column}", table.name),
            None => format!("comment on {}", table.name),
        }
    }

    fn naming(&self) -> Option<(u8, &'static str, &'static str)> {
        Some((6, "change", "comments"))
    }

    fn inverse(&self) -> Vec<Change> {
        let CommentChange::SetComment {
            table,
            column,
            from,
            to,
        } = self.clone();
        vec![CommentChange::SetComment {
            table,
            column,
            from: to,
            to: from,
        }
        .into()]
    }

    fn apply_to(&self, state: &mut SchemaState) {
        let CommentChange::SetComment {
            table, column, to, ..
        } = self;
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
        let CommentChange::SetComment {
            table, column, to, ..
        } = self;
        statement(table, column.as_deref(), to.as_deref())
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
