//! Enum types (`#[strata::schema("…")]` on a unit-only enum). Values are
//! added in place (`ADD VALUE … BEFORE/AFTER`), renamed in place (`RENAME
//! VALUE`); removing or reordering values rebuilds the type, which rewrites
//! every column of it and fails on rows that hold a removed value, so it is
//! confirmed like a drop.

use serde::{Deserialize, Serialize};

use super::{q, Change, Step};
use crate::diff::Plan;
use crate::{object_name, quote_ident, quote_literal, QualifiedName, SchemaState};

/// One enum type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnumType {
    /// The schema it lives in.
    pub schema: String,
    /// Its name.
    pub name: String,
    /// Its values, in order.
    pub values: Vec<String>,
    /// Build-time hints: values renamed, old name to new. Never stored.
    #[serde(skip)]
    pub renamed_values: Vec<(String, String)>,
}

impl EnumType {
    /// `schema.name`.
    pub fn qualified_name(&self) -> QualifiedName {
        QualifiedName::new(&self.schema, &self.name)
    }

    /// `"schema"."name"`: how a column of this type spells its type.
    pub fn sql_type(&self) -> String {
        crate::qualified(&self.schema, &self.name)
    }
}

/// A column that holds an enum, as a rebuild must rewrite it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnumColumn {
    /// The table.
    pub table: QualifiedName,
    /// The column.
    pub column: String,
    /// Its default, set again after the rewrite.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Its default on the other side of the change: what the reverse
    /// rewrite sets again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_before: Option<String>,
}

impl EnumColumn {
    fn reversed(self) -> EnumColumn {
        EnumColumn {
            default: self.default_before,
            default_before: self.default,
            ..self
        }
    }
}

/// The columns of `state` that hold `ty`, with their defaults there, and
/// (by the same names) in `other`.
fn columns_of(ty: &EnumType, state: &SchemaState, other: &SchemaState) -> Vec<EnumColumn> {
    state
        .tables
        .iter()
        .flat_map(|t| {
            t.columns
                .iter()
                .filter(|c| c.sql_type == ty.sql_type())
                .map(|c| EnumColumn {
                    table: t.qualified_name(),
                    column: c.name.clone(),
                    default: c.default.clone(),
                    default_before: other
                        .table(&t.schema, &t.name)
                        .and_then(|o| o.column(&c.name))
                        .and_then(|o| o.default.clone()),
                })
        })
        .collect()
}

/// A change to an enum type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum EnumChange {
    /// `CREATE TYPE … AS ENUM (…)`.
    CreateEnum {
        /// The type.
        #[serde(rename = "enum")]
        ty: EnumType,
    },
    /// `DROP TYPE` (no `CASCADE`: PostgreSQL refuses while a column uses it).
    DropEnum {
        /// The type as it was.
        #[serde(rename = "enum")]
        ty: EnumType,
    },
    /// `ALTER TYPE … ADD VALUE … BEFORE/AFTER …`. The build writes these in a
    /// migration of their own, committed before anything uses the value.
    AddEnumValue {
        /// The type.
        #[serde(rename = "enum")]
        ty: QualifiedName,
        /// The new value.
        value: String,
        /// The value it goes after (`None`: before `before`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        after: Option<String>,
        /// The value it goes before, when it goes first.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        before: Option<String>,
        /// Every value once this one is added: what the down file's rebuild
        /// (PostgreSQL cannot drop one value) starts from.
        values: Vec<String>,
        /// The columns that hold the type, which that rebuild rewrites.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        columns: Vec<EnumColumn>,
    },
    /// `ALTER TYPE … RENAME VALUE`.
    RenameEnumValue {
        /// The type.
        #[serde(rename = "enum")]
        ty: QualifiedName,
        /// The value before.
        from: String,
        /// The value after.
        to: String,
    },
    /// A new type with the new values in place of the old, every column of
    /// it rewritten through its text (`USING c::text::type`).
    RebuildEnum {
        /// The type as it was.
        from: EnumType,
        /// The type as it is after.
        to: EnumType,
        /// The columns that hold it.
        columns: Vec<EnumColumn>,
    },
}

pub(crate) const OPS: &[&str] = &[
    "create_enum",
    "drop_enum",
    "add_enum_value",
    "rename_enum_value",
    "rebuild_enum",
];

pub(crate) fn diff(old: &SchemaState, new: &SchemaState, plan: &mut Plan<'_>) {
    for ty in &new.enums {
        let Some(before) = old
            .enums
            .iter()
            .find(|e| e.schema == ty.schema && e.name == ty.name)
        else {
            plan.push(EnumChange::CreateEnum {
                ty: EnumType {
                    renamed_values: Vec::new(),
                    ..ty.clone()
                },
            });
            continue;
        };
        diff_values(before, ty, old, new, plan);
    }
    for before in &old.enums {
        if !new
            .enums
            .iter()
            .any(|e| e.schema == before.schema && e.name == before.name)
        {
            plan.push(EnumChange::DropEnum { ty: before.clone() });
        }
    }
}

fn diff_values(
    before: &EnumType,
    ty: &EnumType,
    old: &SchemaState,
    new: &SchemaState,
    plan: &mut Plan<'_>,
) {
    let name = ty.qualified_name();
    // Renames whose old value is there and whose new one is not: in place.
    let mut values = before.values.clone();
    for (from, to) in &ty.renamed_values {
        if values.contains(to) {
            continue; // applied before
        }
        match values.iter_mut().find(|v| *v == from) {
            Some(value) => {
                *value = to.clone();
                plan.push(EnumChange::RenameEnumValue {
                    ty: name.clone(),
                    from: from.clone(),
                    to: to.clone(),
                });
            }
            None => plan.problems.push(format!(
                "enum {}: value {to} has renamed_from = \"{from}\", but the type has no such value (it has: {}); fix the hint, or remove it to add the value anew",
                object_name(&[&ty.schema, &ty.name]),
                values.join(", ")
            )),
        }
    }
    let columns = columns_of(ty, new, old);
    // Only additions, the old values in their order: added in place, each
    // next to a value that is there by then.
    let kept: Vec<&String> = ty.values.iter().filter(|v| values.contains(v)).collect();
    if kept.len() == values.len() && kept.iter().zip(&values).all(|(a, b)| *a == b) {
        let mut now = values.clone();
        for (i, value) in ty.values.iter().enumerate() {
            if now.contains(value) {
                continue;
            }
            let (after, before) = match i {
                0 => (None, ty.values.get(1).cloned()),
                _ => (ty.values.get(i - 1).cloned(), None),
            };
            let at = match &after {
                Some(after) => now
                    .iter()
                    .position(|v| v == after)
                    .map_or(now.len(), |p| p + 1),
                None => 0,
            };
            now.insert(at, value.clone());
            // Added in a migration of their own, before the build's other
            // changes: the down file's rebuild sees the tables as they were.
            plan.push(EnumChange::AddEnumValue {
                ty: name.clone(),
                value: value.clone(),
                after,
                before,
                values: now.clone(),
                columns: columns_of(ty, old, old),
            });
        }
        return;
    }
    let from = EnumType {
        values,
        renamed_values: Vec::new(),
        ..before.clone()
    };
    plan.lossy(
        EnumChange::RebuildEnum {
            from,
            to: EnumType {
                renamed_values: Vec::new(),
                ..ty.clone()
            },
            columns,
        },
        "keep every value in its place and add new ones anywhere; a row holding a removed value makes the rebuild fail (update those rows first in a hand-written migration)",
    );
}

impl Step for EnumChange {
    fn order(&self) -> (usize, u8) {
        match self {
            // After the schemas, before the tables whose columns use them.
            EnumChange::CreateEnum { .. } => (0, 3),
            EnumChange::AddEnumValue { .. } | EnumChange::RenameEnumValue { .. } => (0, 4),
            // Rewrites columns: with the other column changes.
            EnumChange::RebuildEnum { .. } => (3, 2),
            EnumChange::DropEnum { .. } => (7, 7),
        }
    }

    fn describe(&self) -> String {
        match self {
            EnumChange::CreateEnum { ty } => format!("create enum {}", ty.name),
            EnumChange::DropEnum { ty } => format!("drop enum {}", ty.name),
            EnumChange::AddEnumValue { ty, value, .. } => {
                format!("add value {value} to {}", ty.name)
            }
            EnumChange::RenameEnumValue { ty, from, to } => {
                format!("rename {}.{from} to {to}", ty.name)
            }
            EnumChange::RebuildEnum { to, .. } => format!("rebuild enum {}", to.name),
        }
    }

    fn naming(&self) -> Option<(u8, &'static str, &'static str)> {
        Some(match self {
            EnumChange::CreateEnum { .. } => (2, "create", "enums"),
            EnumChange::DropEnum { .. } => (2, "drop", "enums"),
            _ => (2, "change", "enums"),
        })
    }

    fn data_loss(&self) -> Option<crate::Unconfirmed> {
        let EnumChange::RebuildEnum { from, to, .. } = self else {
            return None;
        };
        let removed: Vec<&str> = from
            .values
            .iter()
            .filter(|v| !to.values.contains(v))
            .map(String::as_str)
            .collect();
        let what = if removed.is_empty() {
            "reorder enum values: the type is rebuilt and every column of it rewritten".to_owned()
        } else {
            format!(
                "remove enum values {}: the type is rebuilt, and rows holding them make it fail",
                removed.join(", ")
            )
        };
        Some(crate::Unconfirmed {
            object: object_name(&[&to.schema, &to.name]),
            what,
            help: String::new(),
        })
    }

    fn inverse(&self) -> Vec<Change> {
        let change = match self.clone() {
            EnumChange::CreateEnum { ty } => EnumChange::DropEnum { ty },
            EnumChange::DropEnum { ty } => EnumChange::CreateEnum { ty },
            EnumChange::AddEnumValue {
                ty,
                value,
                values,
                columns,
                ..
            } => {
                // PostgreSQL cannot drop one value: the type is rebuilt without it.
                let with = EnumType {
                    schema: ty.schema,
                    name: ty.name,
                    values,
                    renamed_values: Vec::new(),
                };
                let without = EnumType {
                    values: with
                        .values
                        .iter()
                        .filter(|v| **v != value)
                        .cloned()
                        .collect(),
                    ..with.clone()
                };
                EnumChange::RebuildEnum {
                    from: with,
                    to: without,
                    columns,
                }
            }
            EnumChange::RenameEnumValue { ty, from, to } => EnumChange::RenameEnumValue {
                ty,
                from: to,
                to: from,
            },
            EnumChange::RebuildEnum { from, to, columns } => EnumChange::RebuildEnum {
                from: to,
                to: from,
                columns: columns.into_iter().map(EnumColumn::reversed).collect(),
            },
        };
        vec![change.into()]
    }

    fn apply_to(&self, state: &mut SchemaState) {
        match self {
            EnumChange::CreateEnum { ty } => state.add_enum(ty.clone()),
            EnumChange::DropEnum { ty } => state
                .enums
                .retain(|e| !(e.schema == ty.schema && e.name == ty.name)),
            EnumChange::AddEnumValue { ty, values, .. } => {
                if let Some(e) = state.enum_mut(ty) {
                    e.values = values.clone();
                }
            }
            EnumChange::RenameEnumValue { ty, from, to } => {
                if let Some(e) = state.enum_mut(ty) {
                    for v in &mut e.values {
                        if v == from {
                            *v = to.clone();
                        }
                    }
                }
            }
            EnumChange::RebuildEnum { to, .. } => {
                if let Some(e) = state.enum_mut(&to.qualified_name()) {
                    e.values = to.values.clone();
                }
            }
        }
    }

    fn render(&self) -> String {
        match self {
            EnumChange::CreateEnum { ty } => create(ty),
            EnumChange::DropEnum { ty } => format!("DROP TYPE {};", q(&ty.qualified_name())),
            EnumChange::AddEnumValue {
                ty,
                value,
                after,
                before,
                ..
            } => {
                let place = match (after, before) {
                    (Some(after), _) => format!(" AFTER {}", quote_literal(after)),
                    (None, Some(before)) => format!(" BEFORE {}", quote_literal(before)),
                    (None, None) => String::new(),
                };
                format!(
                    "ALTER TYPE {} ADD VALUE IF NOT EXISTS {}{place};",
                    q(ty),
                    quote_literal(value)
                )
            }
            EnumChange::RenameEnumValue { ty, from, to } => format!(
                "ALTER TYPE {} RENAME VALUE {} TO {};",
                q(ty),
                quote_literal(from),
                quote_literal(to)
            ),
            EnumChange::RebuildEnum { from, to, columns } => rebuild(from, to, columns),
        }
    }
}

fn create(ty: &EnumType) -> String {
    let values: Vec<String> = ty.values.iter().map(|v| quote_literal(v)).collect();
    format!(
        "CREATE TYPE {} AS ENUM ({});",
        q(&ty.qualified_name()),
        values.join(", ")
    )
}

/// The old type renamed aside, the new one made, every column rewritten
/// through text (a removed value fails the cast, and the migration with it),
/// the old type dropped.
fn rebuild(from: &EnumType, to: &EnumType, columns: &[EnumColumn]) -> String {
    let aside = format!("{}__strata_old", to.name);
    let mut lines = vec![format!(
        "ALTER TYPE {} RENAME TO {};",
        q(&from.qualified_name()),
        quote_ident(&aside)
    )];
    lines.push(create(to));
    for c in columns {
        let column = quote_ident(&c.column);
        let mut actions = Vec::new();
        if c.default.is_some() {
            actions.push(format!("ALTER COLUMN {column} DROP DEFAULT"));
        }
        actions.push(format!(
            "ALTER COLUMN {column} TYPE {} USING {column}::text::{}",
            to.sql_type(),
            to.sql_type()
        ));
        if let Some(default) = &c.default {
            actions.push(format!("ALTER COLUMN {column} SET DEFAULT {default}"));
        }
        lines.push(format!(
            "ALTER TABLE {} {};",
            q(&c.table),
            actions.join(", ")
        ));
    }
    lines.push(format!(
        "DROP TYPE {};",
        crate::qualified(&to.schema, &aside)
    ));
    lines.join("\n")
}
