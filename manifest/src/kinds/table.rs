//! Tables: created with their columns, keys and checks; dropped only when
//! confirmed; moved between schemas and renamed, never dropped and made anew.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::grant::{Grant, Privilege};
use super::partition::Partitioning;
use super::policy::Policy;
use super::{column, constraint, Change, Step, TABLE_PARTS};
use crate::diff::{Plan, Renames};
use crate::naming::constraint_name;
use crate::{
    object_name, qualified, quote_ident, Check, Column, Constraint, ForeignKey, Index, Key,
    QualifiedName, SchemaState,
};

/// One table.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Table {
    /// The schema it lives in.
    pub schema: String,
    /// Its name.
    pub name: String,
    /// Its columns, in declaration order.
    #[serde(deserialize_with = "crate::state::exact")]
    pub columns: Vec<Column>,
    /// The primary key, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_key: Option<Key>,
    /// Unique constraints, sorted by name.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "crate::state::exact"
    )]
    pub uniques: Vec<Key>,
    /// Foreign keys, sorted by name.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "crate::state::exact"
    )]
    pub foreign_keys: Vec<ForeignKey>,
    /// Indexes other than those behind keys, sorted by name.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "crate::state::exact"
    )]
    pub indexes: Vec<Index>,
    /// Check constraints, sorted by name.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "crate::state::exact"
    )]
    pub checks: Vec<Check>,
    /// A view under the table's old name, left after a move or rename.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compat_view: Option<QualifiedName>,
    /// Whether the compat view reads the table with the privileges (and
    /// row-level security) of its caller, not of its owner: `WITH
    /// (security_invoker = true)`. Written for every compat view since
    /// strata 0.2; `false` in manifests written before.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub compat_view_security_invoker: bool,
    /// `COMMENT ON TABLE`: the model's doc comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Row-level security enabled (`rls` on the model). Forced too, unless
    /// [`Table::rls_forced`] says otherwise.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rls: bool,
    /// Whether row-level security is forced (the owner obeys the policies
    /// too), where that is not what [`Table::rls`] is: enabled and not
    /// forced (`rls = "enabled"`), or forced and not enabled. `None` in
    /// every manifest written before the two were told apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rls_forced: Option<bool>,
    /// Row-level security policies, sorted by name.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "crate::state::exact"
    )]
    pub policies: Vec<Policy>,
    /// What each role the models name may do with it, sorted by role.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "crate::state::exact"
    )]
    pub grants: Vec<Grant>,
    /// `partition_by`: how the table is split into partitions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partition: Option<Partitioning>,
    /// Its exclusion constraints (from `Builder::sql_dir`), in the order written.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclusions: Vec<crate::Exclusion>,
    /// Build-time hint: the schema the table used to live in. Never stored.
    #[serde(skip)]
    pub moved_from: Option<String>,
    /// Build-time hint: the name the table used to have. Never stored.
    #[serde(skip)]
    pub renamed_from: Option<String>,
}

impl Table {
    /// An empty table.
    pub fn new(schema: impl Into<String>, name: impl Into<String>) -> Self {
        Table {
            schema: schema.into(),
            name: name.into(),
            ..Table::default()
        }
    }

    /// `schema.name`.
    pub fn qualified_name(&self) -> QualifiedName {
        QualifiedName::new(&self.schema, &self.name)
    }

    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    /// Sets the primary key over `columns`, with the name PostgreSQL would give it.
    pub fn set_primary_key(&mut self, columns: Vec<String>) {
        let name = constraint_name(&self.name, &[], "pkey");
        self.primary_key = Some(Key {
            name,
            columns,
            deferral: Default::default(),
        });
    }

    /// Adds a unique constraint over `columns`, with the name PostgreSQL would give it.
    pub fn add_unique(&mut self, columns: Vec<String>) {
        let name = constraint_name(&self.name, &columns, "key");
        self.add_named_unique(name, columns);
    }

    /// Adds a unique constraint called `name`, keeping them sorted by name.
    pub fn add_named_unique(&mut self, name: String, columns: Vec<String>) {
        let key = Key {
            name,
            columns,
            deferral: Default::default(),
        };
        insert_sorted(&mut self.uniques, key, |k| &k.name);
    }

    /// Adds a foreign key, keeping them sorted by name.
    pub fn add_foreign_key(&mut self, key: ForeignKey) {
        insert_sorted(&mut self.foreign_keys, key, |k| &k.name);
    }

    /// Adds an index, keeping them sorted by name.
    pub fn add_index(&mut self, index: Index) {
        insert_sorted(&mut self.indexes, index, |i| &i.name);
    }

    /// Adds a check, keeping them sorted by name.
    pub fn add_check(&mut self, check: Check) {
        insert_sorted(&mut self.checks, check, |c| &c.name);
    }

    /// Whether row-level security is enabled and whether it is forced.
    pub fn row_security(&self) -> super::policy::RowSecurity {
        super::policy::RowSecurity {
            enabled: self.rls,
            forced: self.rls_forced.unwrap_or(self.rls),
        }
    }

    /// Sets row-level security, spelt as [`Table::row_security`] reads it.
    pub fn set_row_security(&mut self, to: super::policy::RowSecurity) {
        self.rls = to.enabled;
        self.rls_forced = (to.forced != to.enabled).then_some(to.forced);
    }

    /// Adds a policy, keeping them sorted by name.
    pub fn add_policy(&mut self, policy: Policy) {
        insert_sorted(&mut self.policies, policy, |p| &p.name);
    }

    /// What `role` may do with the table (none when it has no grant).
    pub fn privileges_of(&self, role: &str) -> &[Privilege] {
        self.grants
            .iter()
            .find(|g| g.role == role)
            .map_or(&[], |g| g.privileges.as_slice())
    }

    /// Adds a role's grant, keeping them sorted by role.
    pub fn add_grant(&mut self, grant: Grant) {
        insert_sorted(&mut self.grants, grant, |g| &g.role);
    }

    /// What `CREATE TABLE` makes: the columns, the primary key, unique
    /// constraints and checks, the comment and the partitioning. Every
    /// other part (indexes, foreign keys, policies, grants, …) comes after,
    /// as a change of its own.
    pub fn bare(&self) -> Table {
        Table {
            schema: self.schema.clone(),
            name: self.name.clone(),
            columns: self.columns.clone(),
            primary_key: self.primary_key.clone(),
            uniques: self.uniques.clone(),
            checks: self.checks.clone(),
            comment: self.comment.clone(),
            partition: self.partition.clone(),
            ..Table::default()
        }
    }
}

pub(crate) fn insert_sorted<T>(list: &mut Vec<T>, item: T, key: impl Fn(&T) -> &String) {
    let at = list.partition_point(|x| key(x) < key(&item));
    list.insert(at, item);
}

/// A change to the set of tables.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum TableChange {
    /// `CREATE TABLE` with columns, keys and checks; indexes and foreign keys follow as changes of their own.
    CreateTable {
        /// The table.
        table: Table,
    },
    /// `DROP TABLE`: confirmed by the user, or the reverse of a `CreateTable`.
    DropTable {
        /// The whole table as it was.
        table: Table,
    },
    /// `ALTER TABLE … SET SCHEMA`: rows, indexes, constraints and sequences move along.
    MoveTable {
        /// The table's name at that point.
        table: String,
        /// Its schema before.
        from: String,
        /// Its schema after.
        to: String,
    },
    /// `ALTER TABLE … RENAME TO`.
    RenameTable {
        /// The schema.
        schema: String,
        /// The name before.
        from: String,
        /// The name after.
        to: String,
    },
}

pub(crate) const OPS: &[&str] = &["create_table", "drop_table", "move_table", "rename_table"];

/// Pairs every desired table with the table it was, by name or by its
/// hints; creates, drops, moves and renames; then diffs each pair's parts.
pub(crate) fn diff(old: &SchemaState, new: &SchemaState, plan: &mut Plan<'_>) {
    let mut pairs: Vec<(&Table, &Table)> = Vec::new();
    let mut taken: BTreeSet<QualifiedName> = BTreeSet::new();
    for table in &new.tables {
        if let Some(before) = old.table(&table.schema, &table.name) {
            pairs.push((before, table));
            taken.insert(before.qualified_name());
        }
    }
    let mut created = Vec::new();
    for table in &new.tables {
        if old.table(&table.schema, &table.name).is_some() {
            continue;
        }
        let from = QualifiedName::new(
            table.moved_from.as_deref().unwrap_or(&table.schema),
            table.renamed_from.as_deref().unwrap_or(&table.name),
        );
        let hinted = from != table.qualified_name();
        let taken_by = new.table(&from.schema, &from.name);
        let source = old.table(&from.schema, &from.name).filter(|_| hinted);
        let before = source.filter(|_| !taken.contains(&from) || taken_by.is_some());
        match before {
            Some(_) if taken_by.is_some() => {
                plan.problems.push(format!(
                    "table {}: its hint names {}, but a model declares that table too; move or rename in one build and add the new table in the next, or remove the hint",
                    object_name(&[&table.schema, &table.name]),
                    object_name(&[&from.schema, &from.name]),
                ));
            }
            Some(before) => {
                if from.schema != table.schema {
                    plan.push(TableChange::MoveTable {
                        table: from.name.clone(),
                        from: from.schema.clone(),
                        to: table.schema.clone(),
                    });
                }
                if from.name != table.name {
                    plan.push(TableChange::RenameTable {
                        schema: table.schema.clone(),
                        from: from.name.clone(),
                        to: table.name.clone(),
                    });
                }
                taken.insert(from);
                pairs.push((before, table));
            }
            None if hinted && !old.is_empty() => {
                let hint = match (&table.moved_from, &table.renamed_from) {
                    (Some(_), Some(_)) => "moved_from and renamed_from name",
                    (Some(_), None) => "moved_from names",
                    _ => "renamed_from names",
                };
                let why = if taken.contains(&from) {
                    "another model's hint took that table already"
                } else {
                    "the last migrated state has no such table"
                };
                plan.problems.push(format!(
                    "table {}: {hint} {}, but {why}; fix the hint, or remove it to create the table anew",
                    object_name(&[&table.schema, &table.name]),
                    object_name(&[&from.schema, &from.name]),
                ));
            }
            None => created.push(table),
        }
    }
    for table in created {
        plan.push(TableChange::CreateTable {
            table: table.bare(),
        });
        for part in TABLE_PARTS {
            (part.created)(table, plan);
        }
    }
    for before in &old.tables {
        if !taken.contains(&before.qualified_name()) {
            plan.lossy(
                TableChange::DropTable {
                    table: before.clone(),
                },
                "restore the model if the table should stay; a table under a new name or schema needs `renamed_from` or `moved_from` on its model",
            );
        }
    }

    // How old names map to new ones, to compare keys that mention them.
    let renames = Renames::of(&pairs, &mut plan.problems);
    for (before, table) in &pairs {
        // A table whose partitioning changes is rebuilt whole, its parts
        // made with the new table.
        if super::partition::reshaped(before, table) {
            super::partition::rebuild(old, new, before, table, &renames, plan);
            continue;
        }
        for part in TABLE_PARTS {
            (part.diff)(before, table, &renames, plan);
        }
    }
}

impl Step for TableChange {
    fn order(&self) -> (usize, u8) {
        match self {
            TableChange::CreateTable { .. } => (1, 0),
            TableChange::MoveTable { .. } => (2, 0),
            TableChange::RenameTable { .. } => (2, 1),
            TableChange::DropTable { .. } => (7, 1),
        }
    }

    fn describe(&self) -> String {
        match self {
            TableChange::CreateTable { table } => format!("create {}", table.name),
            TableChange::DropTable { table } => format!("drop {}", table.name),
            TableChange::MoveTable { table, to, .. } => format!("move {table} to {to}"),
            TableChange::RenameTable { from, to, .. } => format!("rename {from} to {to}"),
        }
    }

    fn naming(&self) -> Option<(u8, &'static str, &'static str)> {
        Some(match self {
            TableChange::CreateTable { .. } => (0, "create", "tables"),
            TableChange::DropTable { .. } => (0, "drop", "tables"),
            TableChange::MoveTable { .. } => (0, "move", "tables"),
            TableChange::RenameTable { .. } => (0, "rename", "tables"),
        })
    }

    fn data_loss(&self) -> Option<crate::Unconfirmed> {
        let TableChange::DropTable { table } = self else {
            return None;
        };
        Some(crate::Unconfirmed {
            object: object_name(&[&table.schema, &table.name]),
            what: "drop table: its rows are lost".to_owned(),
            help: String::new(),
        })
    }

    fn inverse(&self) -> Vec<Change> {
        match self.clone() {
            TableChange::CreateTable { table } => vec![TableChange::DropTable { table }.into()],
            TableChange::DropTable { table } => {
                let name = table.qualified_name();
                let mut changes = vec![TableChange::CreateTable {
                    table: table.bare(),
                }
                .into()];
                changes.extend(table.indexes.iter().map(|index| {
                    Change::from(super::index::IndexChange::CreateIndex {
                        table: name.clone(),
                        index: index.clone(),
                        concurrently: false,
                    })
                }));
                changes.extend(table.foreign_keys.iter().map(|key| {
                    Change::from(constraint::ConstraintChange::AddConstraint {
                        not_valid: false,
                        using_index: false,
                        table: name.clone(),
                        constraint: Constraint::ForeignKey(key.clone()),
                    })
                }));
                changes.extend(table.policies.iter().map(|policy| {
                    Change::from(super::policy::PolicyChange::CreatePolicy {
                        table: name.clone(),
                        policy: policy.clone(),
                    })
                }));
                changes.extend(table.grants.iter().map(|grant| {
                    Change::from(super::grant::GrantChange::GrantTable {
                        table: name.clone(),
                        role: grant.role.clone(),
                        privileges: grant.privileges.clone(),
                        view: None,
                    })
                }));
                changes.extend(super::exclusion::restore(&table));
                changes.extend(super::policy::row_security_change(
                    &name,
                    Default::default(),
                    table.row_security(),
                ));
                changes
            }
            TableChange::MoveTable { table, from, to } => vec![TableChange::MoveTable {
                table,
                from: to,
                to: from,
            }
            .into()],
            TableChange::RenameTable { schema, from, to } => vec![TableChange::RenameTable {
                schema,
                from: to,
                to: from,
            }
            .into()],
        }
    }

    fn apply_to(&self, state: &mut SchemaState) {
        match self {
            TableChange::CreateTable { table } => state.add_table(table.clone()),
            TableChange::DropTable { table } => {
                state.remove_table(&table.schema, &table.name);
            }
            TableChange::MoveTable { table, from, to } => {
                if let Some(mut moved) = state.remove_table(from, table) {
                    moved.schema = to.clone();
                    state.add_table(moved);
                }
                // Foreign keys elsewhere follow the table, as PostgreSQL's do.
                for t in &mut state.tables {
                    for key in &mut t.foreign_keys {
                        if key.references.schema == *from && key.references.name == *table {
                            key.references.schema = to.clone();
                        }
                    }
                }
            }
            TableChange::RenameTable { schema, from, to } => {
                if let Some(mut renamed) = state.remove_table(schema, from) {
                    renamed.name = to.clone();
                    state.add_table(renamed);
                }
                for t in &mut state.tables {
                    for key in &mut t.foreign_keys {
                        if key.references.schema == *schema && key.references.name == *from {
                            key.references.name = to.clone();
                        }
                    }
                }
            }
        }
    }

    fn render(&self) -> String {
        match self {
            TableChange::CreateTable { table } => {
                let mut lines: Vec<String> = table
                    .columns
                    .iter()
                    .map(|c| format!("    {}", column::definition(c)))
                    .collect();
                let constraints = table
                    .primary_key
                    .iter()
                    .map(|k| Constraint::PrimaryKey(k.clone()))
                    .chain(table.uniques.iter().map(|k| Constraint::Unique(k.clone())))
                    .chain(table.checks.iter().map(|c| Constraint::Check(c.clone())));
                for constraint in constraints {
                    lines.push(format!("    {}", constraint::definition(&constraint)));
                }
                let partition = table
                    .partition
                    .as_ref()
                    .map(|p| format!(" {}", p.clause()))
                    .unwrap_or_default();
                let mut sql = format!(
                    "CREATE TABLE {} (\n{}\n){partition};",
                    qualified(&table.schema, &table.name),
                    lines.join(",\n")
                );
                // A hash-partitioned table's partitions, with it.
                if let Some(partition) = &table.partition {
                    for statement in partition.hash_partitions_sql(&table.qualified_name()) {
                        sql.push('\n');
                        sql.push_str(&statement);
                    }
                }
                // Its comments with it, so that a down file restoring the
                // table restores them too.
                let name = table.qualified_name();
                let comments = std::iter::once((None, &table.comment)).chain(
                    table
                        .columns
                        .iter()
                        .map(|c| (Some(c.name.as_str()), &c.comment)),
                );
                for (column, text) in comments {
                    if let Some(text) = text {
                        sql.push('\n');
                        sql.push_str(&super::comment::statement(&name, column, Some(text)));
                    }
                }
                sql
            }
            TableChange::DropTable { table } => {
                format!("DROP TABLE {};", qualified(&table.schema, &table.name))
            }
            TableChange::MoveTable { table, from, to } => format!(
                "ALTER TABLE {} SET SCHEMA {};",
                qualified(from, table),
                quote_ident(to)
            ),
            TableChange::RenameTable { schema, from, to } => format!(
                "ALTER TABLE {} RENAME TO {};",
                qualified(schema, from),
                quote_ident(to)
            ),
        }
    }
}

/// The table a change inside one table applies to, mutably.
pub(crate) fn table_mut<'s>(
    state: &'s mut SchemaState,
    table: &QualifiedName,
) -> Option<&'s mut Table> {
    state.table_mut(&table.schema, &table.name)
}
