//! Primary keys, unique constraints and foreign keys: matched by what they
//! are, in the new names, so that one that only changed its name (after a
//! table rename) is renamed, not dropped and added.

use serde::{Deserialize, Serialize};

use super::constraint::{drop_and_add, rename, ConstraintChange};
use super::TablePart;
use crate::diff::{match_by, Plan, Renames};
use crate::{Constraint, QualifiedName, Table};

/// A primary key or unique constraint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Key {
    /// The constraint's name.
    pub name: String,
    /// Its columns, in key order.
    pub columns: Vec<String>,
    /// `DEFERRABLE`, `INITIALLY DEFERRED`.
    #[serde(default, skip_serializing_if = "Deferral::is_default")]
    pub deferral: Deferral,
}

/// When a key is checked: at each statement (PostgreSQL's default), or
/// at commit when a transaction asks (`DEFERRABLE`) or always
/// (`DEFERRABLE INITIALLY DEFERRED`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Deferral {
    /// `NOT DEFERRABLE`, the default.
    #[default]
    Immediate,
    /// `DEFERRABLE INITIALLY IMMEDIATE`.
    Deferrable,
    /// `DEFERRABLE INITIALLY DEFERRED`.
    InitiallyDeferred,
}

impl Deferral {
    /// True for the default, which need not be written down.
    pub fn is_default(&self) -> bool {
        *self == Deferral::Immediate
    }

    /// What follows a constraint's definition: empty, ` DEFERRABLE` or
    /// ` DEFERRABLE INITIALLY DEFERRED`.
    pub fn sql(&self) -> &'static str {
        match self {
            Deferral::Immediate => "",
            Deferral::Deferrable => " DEFERRABLE",
            Deferral::InitiallyDeferred => " DEFERRABLE INITIALLY DEFERRED",
        }
    }

    /// As a constraint definition (`pg_get_constraintdef`) says it.
    pub fn of_definition(definition: &str) -> Deferral {
        let tokens = crate::lexer::significant(definition);
        let pair = |a: &str, b: &str| {
            tokens
                .windows(2)
                .any(|p| p[0].is_word(a) && p[1].is_word(b))
        };
        let deferrable = tokens
            .iter()
            .enumerate()
            .any(|(i, t)| t.is_word("deferrable") && !(i > 0 && tokens[i - 1].is_word("not")));
        match (deferrable, pair("initially", "deferred")) {
            (_, true) => Deferral::InitiallyDeferred,
            (true, false) => Deferral::Deferrable,
            (false, false) => Deferral::Immediate,
        }
    }
}

/// What a foreign key does when the row it points at is deleted or updated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// `NO ACTION`, PostgreSQL's default.
    #[default]
    NoAction,
    /// `RESTRICT`.
    Restrict,
    /// `CASCADE`.
    Cascade,
    /// `SET NULL`.
    SetNull,
    /// `SET DEFAULT`.
    SetDefault,
}

impl Action {
    /// Reads `cascade`, `restrict`, `set null`, `set default` or `no action`.
    pub fn parse(text: &str) -> Option<Action> {
        let words: Vec<String> = text
            .split_whitespace()
            .map(str::to_ascii_lowercase)
            .collect();
        match words.join(" ").as_str() {
            "no action" => Some(Action::NoAction),
            "restrict" => Some(Action::Restrict),
            "cascade" => Some(Action::Cascade),
            "set null" => Some(Action::SetNull),
            "set default" => Some(Action::SetDefault),
            _ => None,
        }
    }

    /// The SQL words.
    pub fn sql(self) -> &'static str {
        match self {
            Action::NoAction => "NO ACTION",
            Action::Restrict => "RESTRICT",
            Action::Cascade => "CASCADE",
            Action::SetNull => "SET NULL",
            Action::SetDefault => "SET DEFAULT",
        }
    }

    /// True for the default, which need not be written down.
    pub fn is_default(&self) -> bool {
        *self == Action::NoAction
    }
}

/// A foreign key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignKey {
    /// The constraint's name.
    pub name: String,
    /// The referencing columns.
    pub columns: Vec<String>,
    /// The referenced table.
    pub references: QualifiedName,
    /// The referenced columns.
    pub referenced_columns: Vec<String>,
    /// `ON DELETE`.
    #[serde(default, skip_serializing_if = "Action::is_default")]
    pub on_delete: Action,
    /// `ON UPDATE`.
    #[serde(default, skip_serializing_if = "Action::is_default")]
    pub on_update: Action,
    /// `DEFERRABLE`, `INITIALLY DEFERRED`.
    #[serde(default, skip_serializing_if = "Deferral::is_default")]
    pub deferral: Deferral,
    /// Left `NOT VALID`: rows from before it was added are not checked,
    /// and strata never validates it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub not_valid: bool,
}

/// Primary and unique keys come with `CREATE TABLE`; foreign keys follow it,
/// once every table they may point at exists.
pub(crate) const PART: TablePart = TablePart {
    created: |table, plan| {
        for key in &table.foreign_keys {
            plan.push(ConstraintChange::AddConstraint {
                not_valid: key.not_valid,
                using_index: false,
                table: table.qualified_name(),
                constraint: Constraint::ForeignKey(key.clone()),
            });
        }
    },
    diff: diff_keys,
};

fn diff_keys(before: &Table, table: &Table, renames: &Renames, plan: &mut Plan<'_>) {
    let name = table.qualified_name();
    let old_pk = before.primary_key.as_ref().map(|k| Key {
        columns: renames.columns(&name, &k.columns),
        ..k.clone()
    });
    match (&old_pk, &table.primary_key) {
        (Some(a), Some(b)) if a.columns == b.columns && a.deferral == b.deferral => {
            rename(plan, &name, &a.name, &b.name)
        }
        (a, b) => drop_and_add(
            plan,
            &name,
            a.iter().collect(),
            b.iter().collect(),
            |k: &Key| Constraint::PrimaryKey(k.clone()),
        ),
    }

    let old_uniques: Vec<Key> = before
        .uniques
        .iter()
        .map(|k| Key {
            columns: renames.columns(&name, &k.columns),
            ..k.clone()
        })
        .collect();
    let (same, gone, added) = match_by(&old_uniques, &table.uniques, |a, b| {
        a.columns == b.columns && a.deferral == b.deferral
    });
    for (a, b) in same {
        rename(plan, &name, &a.name, &b.name);
    }
    drop_and_add(plan, &name, gone, added, |k| Constraint::Unique(k.clone()));

    let old_keys: Vec<ForeignKey> = before
        .foreign_keys
        .iter()
        .map(|k| renames.foreign_key(&name, k))
        .collect();
    let unnamed = |k: &ForeignKey| ForeignKey {
        name: String::new(),
        ..k.clone()
    };
    let (same, gone, added) = match_by(&old_keys, &table.foreign_keys, |a, b| {
        unnamed(a) == unnamed(b)
    });
    for (a, b) in same {
        rename(plan, &name, &a.name, &b.name);
    }
    drop_and_add(plan, &name, gone, added, |k| {
        Constraint::ForeignKey(k.clone())
    });
}
