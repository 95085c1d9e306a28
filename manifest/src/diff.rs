//! What must change to go from one schema state to another.

use std::collections::{BTreeMap, BTreeSet};

use crate::{
    canonical_default, has_assignment_cast, is_widening, object_name, Change, Confirm, Constraint,
    DiffError, ForeignKey, QualifiedName, SchemaState, Table, Unconfirmed,
};

/// The changes that turn `old` into `new`, in apply order, refusing every
/// change that needs confirmation (see [`diff_with`]).
pub fn diff(old: &SchemaState, new: &SchemaState) -> Result<Vec<Change>, DiffError> {
    diff_with(old, new, &Confirm::none())
}

/// The changes that turn `old` into `new`, in apply order.
///
/// A table of `new` whose `moved_from` / `renamed_from` hints name a table
/// of `old` is moved and renamed, never dropped and made anew; so is a
/// column with `renamed_from`, even when a new column takes its old name
/// (it is renamed, then the new one added). A hint that was applied before
/// (the object already has its new name) is harmless; one that names
/// nothing, or a table another model takes, is an error.
///
/// Refused unless `confirm` names the object (every one listed in the
/// error): dropping a table or column, a type change that can lose or round
/// values, and what cannot apply to a table with rows: a new `NOT NULL`
/// column without a default, and `SET NOT NULL`. A type change with no
/// assignment cast needs `using`, confirmed or not.
pub fn diff_with(
    old: &SchemaState,
    new: &SchemaState,
    confirm: &Confirm,
) -> Result<Vec<Change>, DiffError> {
    let mut plan = Plan {
        confirm,
        changes: Vec::new(),
        refused: Vec::new(),
        problems: Vec::new(),
    };

    for schema in new.schemas.difference(&old.schemas) {
        plan.push(Change::CreateSchema {
            schema: schema.clone(),
        });
    }
    for schema in old.schemas.difference(&new.schemas) {
        plan.push(Change::ReleaseSchema {
            schema: schema.clone(),
        });
    }

    if old.search_path != new.search_path {
        plan.push(Change::SetSearchPath {
            from: old.search_path.clone(),
            to: new.search_path.clone(),
        });
    }

    // Pair every desired table with the table it was, by name or by its hints.
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
                    plan.push(Change::MoveTable {
                        table: from.name.clone(),
                        from: from.schema.clone(),
                        to: table.schema.clone(),
                    });
                }
                if from.name != table.name {
                    plan.push(Change::RenameTable {
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
        let name = table.qualified_name();
        plan.push(Change::CreateTable {
            table: table.bare(),
        });
        for index in &table.indexes {
            plan.push(Change::CreateIndex {
                table: name.clone(),
                index: index.clone(),
            });
        }
        for key in &table.foreign_keys {
            plan.push(Change::AddConstraint {
                table: name.clone(),
                constraint: Constraint::ForeignKey(key.clone()),
            });
        }
        if let Some(view) = &table.compat_view {
            plan.push(create_view(view, table));
        }
    }
    for before in &old.tables {
        if !taken.contains(&before.qualified_name()) {
            plan.lossy(
                Change::DropTable {
                    table: before.clone(),
                },
                "restore the model if the table should stay; a table under a new name or schema needs `renamed_from` or `moved_from` on its model",
            );
        }
    }

    // How old names map to new ones, to compare keys that mention them.
    let renames = Renames::of(&pairs, &mut plan.problems);
    for (before, table) in &pairs {
        diff_table(before, table, &renames, &mut plan);
    }

    if !(plan.refused.is_empty() && plan.problems.is_empty()) {
        return Err(DiffError {
            unconfirmed: plan.refused,
            problems: plan.problems,
        });
    }
    plan.changes.sort_by_key(Change::order);
    Ok(plan.changes)
}

struct Plan<'c> {
    confirm: &'c Confirm,
    changes: Vec<Change>,
    refused: Vec<Unconfirmed>,
    problems: Vec<String>,
}

impl Plan<'_> {
    fn push(&mut self, change: Change) {
        self.changes.push(change);
    }

    /// A change that can lose data: written when confirmed, else refused.
    fn lossy(&mut self, change: Change, help: &str) {
        let mut loss = change.data_loss().expect("a change that loses data");
        loss.help = help.to_owned();
        self.confirmed(change, loss);
    }

    /// A change that cannot apply to a table with rows: written when
    /// `object` is confirmed, else refused with `what` and `help`.
    fn fails_on_rows(&mut self, change: Change, object: String, what: &str, help: &str) {
        let step = Unconfirmed {
            object,
            what: what.to_owned(),
            help: help.to_owned(),
        };
        self.confirmed(change, step);
    }

    /// A change that needs `step` confirmed.
    fn confirmed(&mut self, change: Change, step: Unconfirmed) {
        if self.confirm.covers(&step.object) {
            self.changes.push(change);
        } else {
            self.refused.push(step);
        }
    }
}

/// Old table and column names to new ones.
struct Renames {
    tables: BTreeMap<QualifiedName, QualifiedName>,
    /// Keyed by the new table name: old column name to new.
    columns: BTreeMap<QualifiedName, BTreeMap<String, String>>,
}

impl Renames {
    /// Pairs every column of every kept table with the column it was: first
    /// the renames whose old name is there and new name is not, then the
    /// columns that kept their names, unless a rename took that name away
    /// (then the column is new). A rename that names no old column is an error.
    fn of(pairs: &[(&Table, &Table)], problems: &mut Vec<String>) -> Self {
        let mut renames = Renames {
            tables: BTreeMap::new(),
            columns: BTreeMap::new(),
        };
        for (before, table) in pairs {
            renames
                .tables
                .insert(before.qualified_name(), table.qualified_name());
            let mut columns = BTreeMap::new();
            for column in &table.columns {
                let Some(from) = &column.renamed_from else {
                    continue;
                };
                if before.column(&column.name).is_some() {
                    continue; // applied before: the hint is history
                }
                let name = object_name(&[&table.schema, &table.name, &column.name]);
                if before.column(from).is_none() {
                    let had: Vec<&str> = before.columns.iter().map(|c| c.name.as_str()).collect();
                    problems.push(format!(
                        "column {name}: renamed_from = \"{from}\", but the table has no such column (it has: {}); fix the hint, or remove it to add the column anew",
                        had.join(", ")
                    ));
                } else if let Some(other) = columns.insert(from.clone(), column.name.clone()) {
                    problems.push(format!(
                        "column {name}: renamed_from = \"{from}\", but column `{other}` is renamed from it too; keep the hint on one of them"
                    ));
                }
            }
            for column in &table.columns {
                let renamed_away = columns.contains_key(&column.name);
                let renamed_here = columns.values().any(|new| *new == column.name);
                if before.column(&column.name).is_some() && !renamed_away && !renamed_here {
                    columns.insert(column.name.clone(), column.name.clone());
                }
            }
            renames.columns.insert(table.qualified_name(), columns);
        }
        renames
    }

    fn column(&self, table: &QualifiedName, column: &str) -> String {
        self.columns
            .get(table)
            .and_then(|m| m.get(column))
            .cloned()
            .unwrap_or_else(|| column.to_owned())
    }

    fn columns(&self, table: &QualifiedName, columns: &[String]) -> Vec<String> {
        columns.iter().map(|c| self.column(table, c)).collect()
    }

    /// An old foreign key, in the new names.
    fn foreign_key(&self, table: &QualifiedName, key: &ForeignKey) -> ForeignKey {
        let target = self
            .tables
            .get(&key.references)
            .cloned()
            .unwrap_or_else(|| key.references.clone());
        ForeignKey {
            columns: self.columns(table, &key.columns),
            referenced_columns: self.columns(&target, &key.referenced_columns),
            references: target,
            ..key.clone()
        }
    }
}

fn diff_table(before: &Table, table: &Table, renames: &Renames, plan: &mut Plan<'_>) {
    let name = table.qualified_name();
    let column_name = |column: &str| object_name(&[&table.schema, &table.name, column]);

    let mut kept = BTreeSet::new();
    for column in &table.columns {
        let old_name = renames
            .columns
            .get(&name)
            .and_then(|m| m.iter().find(|(_, new)| **new == column.name))
            .map(|(old, _)| old.clone());
        let Some(old_column) = old_name.as_deref().and_then(|n| before.column(n)) else {
            let change = Change::AddColumn {
                table: name.clone(),
                column: crate::Column {
                    renamed_from: None,
                    using: None,
                    ..column.clone()
                },
            };
            if column.nullable || column.default.is_some() || column.identity {
                plan.push(change);
            } else {
                plan.fails_on_rows(
                    change,
                    column_name(&column.name),
                    "add a NOT NULL column without a default: this fails on a table with rows",
                    "give it `default = \"…\"`, or make it `Option<T>`; or add it as `Option<T>`, fill it in a hand-written migration (`UPDATE …`), then make it required",
                );
            }
            continue;
        };
        kept.insert(old_column.name.clone());
        if old_column.name != column.name {
            plan.push(Change::RenameColumn {
                table: name.clone(),
                from: old_column.name.clone(),
                to: column.name.clone(),
            });
        }
        let retyped = old_column.sql_type != column.sql_type;
        if retyped {
            let (from, to) = (&old_column.sql_type, &column.sql_type);
            let defaults = (old_column.default.is_some() || column.default.is_some()).then(|| {
                crate::Defaults {
                    before: old_column.default.clone(),
                    after: column.default.clone(),
                }
            });
            let change = Change::AlterType {
                table: name.clone(),
                column: column.name.clone(),
                from: from.clone(),
                to: to.clone(),
                using: column.using.clone(),
                defaults,
            };
            if column.using.is_none() && !has_assignment_cast(from, to) {
                plan.problems.push(format!(
                    "column {}: PostgreSQL has no implicit cast from {from} to {to}; say how to compute the new value: #[column(using = \"{}::{to}\")], or another expression over the old value",
                    column_name(&column.name),
                    crate::quote_ident(&column.name),
                ));
            } else if is_widening(from, to) {
                plan.push(change);
            } else {
                plan.lossy(
                    change,
                    "keep the old type, or add a new column of the new type, copy the values you want in a hand-written migration, then drop the old one",
                );
            }
        }
        if old_column.nullable != column.nullable {
            let change = Change::SetNullable {
                table: name.clone(),
                column: column.name.clone(),
                nullable: column.nullable,
            };
            if column.nullable {
                plan.push(change);
            } else {
                plan.fails_on_rows(
                    change,
                    column_name(&column.name),
                    "make the column NOT NULL: this fails if any row holds NULL",
                    "fill the NULLs first in a hand-written migration (`UPDATE … SET … WHERE … IS NULL`), then confirm; or keep it `Option<T>`",
                );
            }
        }
        let same_default = old_column.default.as_deref().map(canonical_default)
            == column.default.as_deref().map(canonical_default);
        // A type change sets the default itself (see `Change::AlterType`).
        if !same_default && !retyped {
            plan.push(Change::SetDefault {
                table: name.clone(),
                column: column.name.clone(),
                from: old_column.default.clone(),
                to: column.default.clone(),
            });
        }
        match (old_column.identity, column.identity) {
            (false, true) => plan.push(Change::AddIdentity {
                table: name.clone(),
                column: column.name.clone(),
            }),
            (true, false) => plan.push(Change::DropIdentity {
                table: name.clone(),
                column: column.name.clone(),
            }),
            _ => {}
        }
    }
    for old_column in &before.columns {
        if !kept.contains(&old_column.name) {
            plan.lossy(
                Change::DropColumn {
                    table: name.clone(),
                    column: old_column.clone(),
                },
                "restore the field if the column should stay; a column under a new name needs `renamed_from` on its field",
            );
        }
    }

    // Keys, indexes and foreign keys are matched by what they are, in the new
    // names; one that only changed its name (after a table rename) is renamed.
    let old_pk = before.primary_key.as_ref().map(|k| crate::Key {
        columns: renames.columns(&name, &k.columns),
        ..k.clone()
    });
    match (&old_pk, &table.primary_key) {
        (Some(a), Some(b)) if a.columns == b.columns => {
            rename_constraint(plan, &name, &a.name, &b.name);
        }
        (a, b) => {
            if let Some(a) = a {
                plan.push(Change::DropConstraint {
                    table: name.clone(),
                    constraint: Constraint::PrimaryKey(a.clone()),
                });
            }
            if let Some(b) = b {
                plan.push(Change::AddConstraint {
                    table: name.clone(),
                    constraint: Constraint::PrimaryKey(b.clone()),
                });
            }
        }
    }

    let old_uniques: Vec<crate::Key> = before
        .uniques
        .iter()
        .map(|k| crate::Key {
            columns: renames.columns(&name, &k.columns),
            ..k.clone()
        })
        .collect();
    let (same, gone, added) = match_by(&old_uniques, &table.uniques, |a, b| a.columns == b.columns);
    for (a, b) in same {
        rename_constraint(plan, &name, &a.name, &b.name);
    }
    constraint_changes(plan, &name, gone, added, |k| Constraint::Unique(k.clone()));

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
        rename_constraint(plan, &name, &a.name, &b.name);
    }
    constraint_changes(plan, &name, gone, added, |k| {
        Constraint::ForeignKey(k.clone())
    });

    // PostgreSQL rewrites checks and predicates when a column is renamed, so
    // compare them in the new names; a check that only changed its name is renamed.
    let in_new_names = |expr: &str| {
        crate::default_expr::rename_identifiers(expr, |column| {
            renames
                .columns
                .get(&name)
                .and_then(|m| m.get(column))
                .filter(|new| new.as_str() != column)
                .cloned()
        })
    };
    let old_checks: Vec<crate::Check> = before
        .checks
        .iter()
        .map(|c| crate::Check {
            expr: in_new_names(&c.expr),
            ..c.clone()
        })
        .collect();
    let (same, gone, added) = match_by(&old_checks, &table.checks, |a, b| {
        crate::canonical_expr(&a.expr) == crate::canonical_expr(&b.expr)
    });
    for (a, b) in same {
        rename_constraint(plan, &name, &a.name, &b.name);
    }
    // Dropped checks and indexes are recorded in the new column names: that is
    // how PostgreSQL holds them by then, and how the down file must restore
    // them before it renames the columns back.
    constraint_changes(plan, &name, gone, added, |c| Constraint::Check(c.clone()));

    let old_indexes: Vec<crate::Index> = before
        .indexes
        .iter()
        .map(|i| crate::Index {
            columns: renames.columns(&name, &i.columns),
            predicate: i.predicate.as_deref().map(in_new_names),
            ..i.clone()
        })
        .collect();
    let (same, gone, added) = match_by(&old_indexes, &table.indexes, |a, b| {
        a.columns == b.columns
            && a.unique == b.unique
            && a.predicate.as_deref().map(crate::canonical_expr)
                == b.predicate.as_deref().map(crate::canonical_expr)
    });
    for (a, b) in same {
        if a.name != b.name {
            plan.push(Change::RenameIndex {
                table: name.clone(),
                from: a.name.clone(),
                to: b.name.clone(),
            });
        }
    }
    for a in gone {
        plan.push(Change::DropIndex {
            table: name.clone(),
            index: a.clone(),
        });
    }
    for b in added {
        plan.push(Change::CreateIndex {
            table: name.clone(),
            index: b.clone(),
        });
    }

    let old_view = before.compat_view.as_ref();
    match (old_view, table.compat_view.as_ref()) {
        (Some(a), Some(b)) if a == b => {}
        (a, b) => {
            if let Some(a) = a {
                let mut shown = before.clone();
                shown
                    .columns
                    .iter_mut()
                    .for_each(|c| c.name = renames.column(&name, &c.name));
                plan.push(Change::DropView {
                    view: a.clone(),
                    table: name.clone(),
                    columns: shown.columns.iter().map(|c| c.name.clone()).collect(),
                });
            }
            if let Some(b) = b {
                plan.push(create_view(b, table));
            }
        }
    }
}

/// Pairs what stayed, and lists what went and what came.
#[allow(clippy::type_complexity)]
fn match_by<'a, T>(
    old: &'a [T],
    new: &'a [T],
    same: impl Fn(&T, &T) -> bool,
) -> (Vec<(&'a T, &'a T)>, Vec<&'a T>, Vec<&'a T>) {
    let mut pairs = Vec::new();
    let mut used = vec![false; new.len()];
    let mut gone = Vec::new();
    for a in old {
        match (0..new.len()).find(|&i| !used[i] && same(a, &new[i])) {
            Some(i) => {
                used[i] = true;
                pairs.push((a, &new[i]));
            }
            None => gone.push(a),
        }
    }
    let added = new
        .iter()
        .zip(&used)
        .filter(|(_, used)| !**used)
        .map(|(b, _)| b)
        .collect();
    (pairs, gone, added)
}

fn constraint_changes<T>(
    plan: &mut Plan,
    table: &QualifiedName,
    gone: Vec<&T>,
    added: Vec<&T>,
    wrap: impl Fn(&T) -> Constraint,
) {
    for a in gone {
        plan.push(Change::DropConstraint {
            table: table.clone(),
            constraint: wrap(a),
        });
    }
    for b in added {
        plan.push(Change::AddConstraint {
            table: table.clone(),
            constraint: wrap(b),
        });
    }
}

fn rename_constraint(plan: &mut Plan, table: &QualifiedName, from: &str, to: &str) {
    if from != to {
        plan.push(Change::RenameConstraint {
            table: table.clone(),
            from: from.to_owned(),
            to: to.to_owned(),
        });
    }
}

fn create_view(view: &QualifiedName, table: &Table) -> Change {
    Change::CreateView {
        view: view.clone(),
        table: table.qualified_name(),
        columns: table.columns.iter().map(|c| c.name.clone()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Column, Index};

    fn customers(extra: Option<Column>) -> SchemaState {
        let mut table = Table::new("tenant_kct", "customers");
        table.columns.push(Column::new("id", "bigint").not_null());
        table.columns.extend(extra);
        table.set_primary_key(vec!["id".into()]);
        let mut state = SchemaState::default();
        state.add_table(table);
        state
    }

    #[test]
    fn a_new_table_creates_its_schema_first() {
        let changes = diff(&SchemaState::default(), &customers(None)).unwrap();
        assert!(matches!(&changes[0], Change::CreateSchema { schema } if schema == "tenant_kct"));
        assert!(matches!(&changes[1], Change::CreateTable { table } if table.name == "customers"));
        assert_eq!(changes.len(), 2);
    }

    #[test]
    fn same_state_means_no_change() {
        assert_eq!(diff(&customers(None), &customers(None)).unwrap(), vec![]);
    }

    #[test]
    fn a_new_column_is_added() {
        let changes = diff(
            &customers(None),
            &customers(Some(Column::new("note", "text"))),
        )
        .unwrap();
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].describe(), "add customers.note");
    }

    #[test]
    fn drops_and_narrowing_are_refused_all_at_once_unless_confirmed() {
        let before = customers(Some(Column::new("note", "character varying(255)")));
        let narrowed = customers(Some(Column::new("note", "character varying(10)")));
        let error = diff(&before, &narrowed).unwrap_err();
        assert_eq!(error.unconfirmed.len(), 1, "{error}");
        assert_eq!(error.unconfirmed[0].object, "tenant_kct.customers.note");
        assert!(error.unconfirmed[0].what.contains("character varying(10)"));

        let error = diff(&before, &SchemaState::default()).unwrap_err();
        let objects: Vec<&str> = error
            .unconfirmed
            .iter()
            .map(|u| u.object.as_str())
            .collect();
        assert_eq!(objects, vec!["tenant_kct.customers"]);
        assert!(error
            .to_string()
            .contains("STRATA_CONFIRM=tenant_kct.customers"));

        let confirmed = diff_with(&before, &SchemaState::default(), &Confirm::all()).unwrap();
        assert!(matches!(
            &confirmed[..],
            [Change::ReleaseSchema { .. }, Change::DropTable { .. }]
        ));
        // Naming the one object confirms it, and nothing else.
        let one = Confirm::none().object("tenant_kct.customers.note");
        assert!(diff_with(&before, &narrowed, &one).is_ok());
        assert!(diff_with(&before, &SchemaState::default(), &one).is_err());
    }

    #[test]
    fn what_cannot_apply_to_rows_is_refused_with_what_to_write_instead() {
        let before = customers(Some(Column::new("note", "text")));
        let required = customers(Some(Column::new("note", "text").not_null()));
        let error = diff(&before, &required).unwrap_err();
        assert_eq!(error.unconfirmed[0].object, "tenant_kct.customers.note");
        assert!(error.unconfirmed[0].help.contains("UPDATE"), "{error}");

        let added = customers(Some(Column::new("sku", "text").not_null()));
        let error = diff(&customers(None), &added).unwrap_err();
        assert!(error.unconfirmed[0].help.contains("default"), "{error}");
        let mut with_default = Column::new("sku", "text").not_null();
        with_default.default = Some("'n/a'".into());
        assert!(diff(&customers(None), &customers(Some(with_default))).is_ok());

        let number = customers(Some(Column::new("note", "integer")));
        let error = diff(&before, &number).unwrap_err();
        assert!(error.problems[0].contains("using"), "{error}");
        let mut cast = Column::new("note", "integer");
        cast.using = Some("\"note\"::integer".into());
        let error = diff(&before, &customers(Some(cast.clone()))).unwrap_err();
        assert!(error.problems.is_empty(), "with `using` it can be written");
        let changes = diff_with(&before, &customers(Some(cast)), &Confirm::all()).unwrap();
        assert!(matches!(
            &changes[0],
            Change::AlterType { using: Some(_), .. }
        ));
    }

    #[test]
    fn a_rename_whose_old_name_a_new_column_takes_does_both() {
        let before = customers(Some(Column::new("label", "text").not_null()));
        let mut after = customers(Some(Column {
            renamed_from: Some("label".into()),
            ..Column::new("title", "text").not_null()
        }));
        after.tables[0].columns.push(Column::new("label", "text"));
        let described: Vec<String> = diff(&before, &after)
            .unwrap()
            .iter()
            .map(Change::describe)
            .collect();
        assert_eq!(
            described,
            vec!["rename customers.label to title", "add customers.label"]
        );

        let typo = customers(Some(Column {
            renamed_from: Some("lable".into()),
            ..Column::new("title", "text")
        }));
        let error = diff(&before, &typo).unwrap_err();
        assert!(error.problems[0].contains("no such column"), "{error}");
    }

    #[test]
    fn a_table_hint_that_another_model_takes_is_an_error() {
        let old = customers(None);
        let mut moved = old.tables[0].clone();
        moved.schema = "crm".into();
        moved.moved_from = Some("tenant_kct".into());
        let mut new = old.clone();
        new.add_table(moved);
        let error = diff(&old, &new).unwrap_err();
        assert!(
            error.problems[0].contains("a model declares that table too"),
            "{error}"
        );
    }

    #[test]
    fn a_moved_and_renamed_table_is_moved_and_renamed_with_its_keys() {
        let mut before = Table::new("public", "product");
        before.columns.push(Column::new("id", "bigint").not_null());
        before.columns.push(Column::new("sku", "text").not_null());
        before.set_primary_key(vec!["id".into()]);
        before.add_index(Index {
            name: "product_sku_idx".into(),
            columns: vec!["sku".into()],
            unique: false,
            predicate: None,
        });
        let mut old = SchemaState::default();
        old.add_table(before.clone());

        let mut after = Table::new("tenant_shared", "products");
        after.columns = before.columns.clone();
        after.set_primary_key(vec!["id".into()]);
        after.add_index(Index {
            name: "products_sku_idx".into(),
            ..before.indexes[0].clone()
        });
        after.moved_from = Some("public".into());
        after.renamed_from = Some("product".into());
        let mut new = SchemaState::default();
        new.add_table(after);

        let described: Vec<String> = diff(&old, &new)
            .unwrap()
            .iter()
            .map(Change::describe)
            .collect();
        assert_eq!(
            described,
            vec![
                "create schema tenant_shared",
                "release schema public",
                "move product to tenant_shared",
                "rename product to products",
                "rename product_pkey to products_pkey",
                "rename product_sku_idx to products_sku_idx",
            ]
        );
    }

    #[test]
    fn replaying_changes_and_their_inverses_gives_both_states() {
        let old = customers(Some(Column::new("note", "text")));
        let mut new = customers(Some(Column {
            renamed_from: Some("note".into()),
            ..Column::new("remark", "text")
        }));
        new.tables[0].moved_from = Some("tenant_kct".into());
        let changes = diff(&old, &new).unwrap();
        let mut state = old.clone();
        changes.iter().for_each(|c| c.apply_to(&mut state));
        new.tables[0].columns[1].renamed_from = None;
        new.tables[0].moved_from = None;
        assert_eq!(state, new);
        for change in changes.iter().rev() {
            change.inverse().iter().for_each(|c| c.apply_to(&mut state));
        }
        assert_eq!(state, old);
    }
}
