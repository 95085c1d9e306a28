//! Every kind of object a schema state holds, one module each: its state,
//! its diff, its changes with their SQL (up and down) and its place in the
//! stage order.
//!
//! The kinds are listed here and nowhere else: [`Change`] has one variant per
//! kind of change, [`diff_all`] runs the diff of every kind in [`KINDS`], and a
//! table's parts (columns, keys, checks, indexes, its compat view) are diffed
//! in the order of [`TABLE_PARTS`]. Adding a kind adds a module and a line in
//! each list below.

use serde::{Deserialize, Deserializer, Serialize};

use crate::diff::{Plan, Renames};
use crate::{SchemaState, Table, Unconfirmed};

pub(crate) mod check;
pub(crate) mod column;
pub(crate) mod comment;
pub(crate) mod compat_view;
pub(crate) mod constraint;
pub(crate) mod domain;
pub(crate) mod enum_type;
pub(crate) mod event_trigger;
pub(crate) mod exclusion;
pub(crate) mod extension;
pub(crate) mod grant;
pub(crate) mod index;
pub(crate) mod key;
pub(crate) mod object_grant;
pub(crate) mod partition;
pub(crate) mod policy;
pub(crate) mod publication;
pub(crate) mod role;
pub(crate) mod routine;
pub(crate) mod schema;
pub(crate) mod search_path;
pub(crate) mod sequence;
pub(crate) mod table;
pub(crate) mod trigger;
pub(crate) mod view;

/// The stages of a migration, in order; [`Step::order`] indexes into them.
pub(crate) const STAGES: [&str; 8] = [
    "schemas",
    "tables",
    "moves and renames",
    "columns",
    "views",
    "indexes",
    "constraints",
    "confirmed drops",
];

/// What every change does, whatever its kind.
pub(crate) trait Step {
    /// The stage (index into [`STAGES`]) and the order inside it.
    fn order(&self) -> (usize, u8);
    /// A short description, for migration names and pending lists.
    fn describe(&self) -> String;
    /// How the change counts in a migration's name: rank (lower names
    /// first), verb, plural noun; `None` when it does not.
    fn naming(&self) -> Option<(u8, &'static str, &'static str)>;
    /// The kind it adds to the title of its stage in a migration file, when
    /// the stage's name does not say it (`-- 1. schemas, functions`).
    fn section(&self) -> Option<&'static str> {
        None
    }
    /// The object it loses data from, and how, when running it can.
    fn data_loss(&self) -> Option<Unconfirmed> {
        None
    }
    /// The object whose reads or writes it stops for longer than a catalog
    /// update (a rewrite, a scan under a strong lock), and how: a hazard,
    /// confirmed like a drop and recorded next to its migration.
    fn hazard(&self) -> Option<Unconfirmed> {
        None
    }
    /// Why a lock a linter would report in its SQL is harmless, when it is
    /// (`lint.rs`): an index on the materialized view it makes, a type
    /// change of the catalog alone.
    fn harmless_lock(&self) -> Option<String> {
        None
    }
    /// The changes that undo it, in the order to run them.
    fn inverse(&self) -> Vec<Change>;
    /// Applies it to a state, as the database applies its SQL.
    fn apply_to(&self, state: &mut SchemaState);
    /// Its SQL.
    fn render(&self) -> String;
    /// Its SQL in a down file, where it restores what a migration took away.
    fn render_restore(&self) -> String {
        self.render()
    }
}

/// A diff over two whole states.
type KindDiff = fn(&SchemaState, &SchemaState, &mut Plan<'_>);

/// The kinds diffed over whole states, in this order. Tables come last: their
/// diff pairs the tables and diffs each table's parts.
/// Views and triggers come after tables and functions: theirs are the diffs
/// that read what the others planned (a type change under a view, or a
/// function made again, drops and remakes what uses it).
const KINDS: &[KindDiff] = &[
    schema::diff,
    search_path::diff,
    extension::diff,
    role::diff,
    enum_type::diff,
    routine::diff,
    sequence::diff,
    domain::diff,
    table::diff,
    grant::diff,
    view::diff,
    trigger::diff,
    event_trigger::diff,
    publication::diff,
    object_grant::diff,
    comment::diff,
];

/// One part of a table.
pub(crate) struct TablePart {
    /// What a new table needs after its `CREATE TABLE`.
    pub created: fn(&Table, &mut Plan<'_>),
    /// The changes from a table as it was to the table as it is now.
    pub diff: fn(&Table, &Table, &Renames, &mut Plan<'_>),
}

/// A table's parts, diffed in this order.
pub(crate) const TABLE_PARTS: &[TablePart] = &[
    column::PART,
    key::PART,
    check::PART,
    index::PART,
    compat_view::PART,
    comment::PART,
    policy::PART,
    grant::PART,
    partition::PART,
    exclusion::PART,
];

/// The kinds of object a `sql_dir` file holds, in the order the build takes
/// them: a kind may look for what an earlier one took (a trigger for its
/// table, a sequence for its owning column).
pub static SQL_FILE_KINDS: &[crate::SqlFileKind] = &[
    routine::FILE,
    sequence::FILE,
    domain::FILE,
    trigger::FILE,
    exclusion::FILE,
    event_trigger::FILE,
    publication::FILE,
    comment::FILE,
    object_grant::FILE,
];

/// Runs the diff of every kind.
pub(crate) fn diff_all(old: &SchemaState, new: &SchemaState, plan: &mut Plan<'_>) {
    for diff in KINDS {
        diff(old, new, plan);
    }
}

/// Declares [`Change`] from the kinds' change types, with the dispatch of
/// [`Step`] and the reading of a change by its `op`.
macro_rules! changes {
    ($($(#[$doc:meta])* $kind:ident($module:ident::$ty:ident),)*) => {
        /// One change. Migrations apply them in stage order; the manifest
        /// records them (each as `{"op": …}` with its fields), so the state
        /// after any migration can be replayed and every change reversed.
        #[derive(Debug, Clone, PartialEq, Eq, Serialize)]
        #[serde(untagged)]
        #[non_exhaustive]
        // A table's creation carries the whole table; a migration holds a
        // few hundred changes at most, so boxing it would buy nothing but
        // a `Box` in every match on a change.
        #[allow(clippy::large_enum_variant)]
        pub enum Change {
            $($(#[$doc])* $kind($module::$ty),)*
        }

        $(impl From<$module::$ty> for Change {
            fn from(change: $module::$ty) -> Change {
                Change::$kind(change)
            }
        })*

        /// Every op of every kind, for the test that no two kinds share one.
        #[cfg(test)]
        fn all_ops() -> Vec<&'static str> {
            [$($module::OPS,)*].concat()
        }

        impl Change {
            fn step(&self) -> &dyn Step {
                match self {
                    $(Change::$kind(change) => change,)*
                }
            }
        }

        impl<'de> Deserialize<'de> for Change {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Change, D::Error> {
                use serde::de::Error;
                let value = serde_json::Value::deserialize(deserializer)?;
                let op = value.get("op").and_then(|op| op.as_str()).unwrap_or_default();
                $(if $module::OPS.contains(&op) {
                    return serde_json::from_value(value).map(Change::$kind).map_err(D::Error::custom);
                })*
                let known: Vec<&str> = [$($module::OPS,)*].concat();
                Err(D::Error::custom(format!(
                    "unknown change op `{op}` (known: {}); the manifest was written by a newer strata, or edited by hand",
                    known.join(", ")
                )))
            }
        }
    };
}

changes! {
    /// Schemas: create, drop, release.
    Schema(schema::SchemaChange),
    /// The database's `search_path`.
    SearchPath(search_path::SearchPathChange),
    /// Extensions.
    Extension(extension::ExtensionChange),
    /// Roles the migrations grant to.
    Role(role::RoleChange),
    /// Enum types.
    Enum(enum_type::EnumChange),
    /// Tables: create, drop, move, rename.
    Table(table::TableChange),
    /// Columns of a table.
    Column(column::ColumnChange),
    /// Keys and checks: the named constraints of a table.
    Constraint(constraint::ConstraintChange),
    /// Indexes.
    Index(index::IndexChange),
    /// Compat views under a moved or renamed table's old name.
    CompatView(compat_view::CompatViewChange),
    /// Comments on tables and columns.
    Comment(comment::CommentChange),
    /// Row-level security and its policies.
    Policy(policy::PolicyChange),
    /// Grants on tables and `USAGE` on their schemas.
    Grant(grant::GrantChange),
    /// The partitions a partitioned table must have.
    Partition(partition::PartitionChange),
    /// Views and materialized views of `#[strata::view]` models.
    View(view::ViewChange),
    /// Functions and procedures of `Builder::sql_dir`.
    Routine(routine::RoutineChange),
    /// Triggers of `Builder::sql_dir`.
    Trigger(trigger::TriggerChange),
    /// Sequences of `Builder::sql_dir`.
    Sequence(sequence::SequenceChange),
    /// Domains of `Builder::sql_dir`.
    Domain(domain::DomainChange),
    /// Exclusion constraints of `Builder::sql_dir`.
    Exclusion(exclusion::ExclusionChange),
    /// Event triggers of `Builder::sql_dir`.
    EventTrigger(event_trigger::EventTriggerChange),
    /// Publications of `Builder::sql_dir`.
    Publication(publication::PublicationChange),
    /// Privileges on functions, procedures, sequences and types.
    ObjectGrant(object_grant::ObjectGrantChange),
}

impl Change {
    /// The stage (index into the stage list) and the order inside it.
    pub(crate) fn order(&self) -> (usize, u8) {
        self.step().order()
    }

    /// A short description, used for migration names and for listing pending changes.
    pub fn describe(&self) -> String {
        self.step().describe()
    }

    pub(crate) fn naming(&self) -> Option<(u8, &'static str, &'static str)> {
        self.step().naming()
    }

    pub(crate) fn section(&self) -> Option<&'static str> {
        self.step().section()
    }

    /// True for a change that destroys data, written only when the user confirms it.
    pub fn is_destructive(&self) -> bool {
        self.data_loss().is_some()
    }

    /// When running this change can lose data: the object it loses it from
    /// (named as a confirmation names it) and how.
    pub fn data_loss(&self) -> Option<Unconfirmed> {
        self.step().data_loss()
    }

    /// When running this change stops a table's reads or writes for longer
    /// than a catalog update: the object (named as a confirmation names it)
    /// and why.
    pub fn hazard(&self) -> Option<Unconfirmed> {
        self.step().hazard()
    }

    /// The steps of this change's inverse that can lose data: what a
    /// rollback through it must have confirmed.
    pub fn lossy_inverse(&self) -> Vec<Unconfirmed> {
        self.inverse()
            .iter()
            .filter_map(Change::data_loss)
            .collect()
    }

    /// The changes that undo this one, in the order to run them.
    pub fn inverse(&self) -> Vec<Change> {
        self.step().inverse()
    }

    /// Applies this change to a state, as the database applies its SQL.
    pub fn apply_to(&self, state: &mut SchemaState) {
        self.step().apply_to(state);
    }

    pub(crate) fn render(&self) -> String {
        self.step().render()
    }

    /// Why strata answers for the locks its SQL takes, when it does: it is
    /// gated by a confirmation, or harmless. A migration file carries it
    /// in squawk's ignore comment before each such statement (`lint.rs`).
    pub fn lock_reason(&self) -> Option<String> {
        if let Some(hazard) = self.hazard() {
            Some(format!(
                "a hazard for {}, gated by its confirmation",
                hazard.object
            ))
        } else if let Some(loss) = self.data_loss() {
            Some(format!(
                "loses data of {}, gated by its confirmation",
                loss.object
            ))
        } else {
            self.step().harmless_lock()
        }
    }

    pub(crate) fn render_restore(&self) -> String {
        self.step().render_restore()
    }
}

/// `"schema"."name"`.
pub(crate) fn q(name: &crate::QualifiedName) -> String {
    crate::qualified(&name.schema, &name.name)
}

/// `"a", "b"`.
pub(crate) fn list(columns: &[String]) -> String {
    columns
        .iter()
        .map(|c| crate::quote_ident(c))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `table.column`, as a confirmation names it.
pub(crate) fn column_object(table: &crate::QualifiedName, column: &str) -> String {
    crate::object_name(&[&table.schema, &table.name, column])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_op_belongs_to_exactly_one_kind() {
        let all = all_ops();
        let mut unique = all.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), all.len(), "{all:?}");
        for op in all {
            // Known to the kind that lists it: what is wrong, if anything, is
            // a missing field, never the op.
            match serde_json::from_str::<Change>(&format!(r#"{{"op":"{op}"}}"#)) {
                Ok(change) => {
                    let json = serde_json::to_string(&change).unwrap();
                    assert!(json.contains(&format!(r#""op":"{op}""#)), "{json}");
                }
                Err(error) => {
                    let error = error.to_string();
                    assert!(error.contains("missing field"), "{op}: {error}");
                }
            }
        }
    }

    #[test]
    fn an_unknown_op_is_an_error_that_says_so() {
        let error = serde_json::from_str::<Change>(r#"{"op":"create_wormhole"}"#)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("unknown change op `create_wormhole`"),
            "{error}"
        );
        assert!(error.contains("create_table"), "{error}");
    }
}
