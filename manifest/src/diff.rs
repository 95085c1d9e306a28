//! What must change to go from one schema state to another.

use std::collections::BTreeMap;

use crate::{
    object_name, Change, Confirm, DiffError, ForeignKey, QualifiedName, SchemaState, Table,
    Unconfirmed,
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
    crate::kinds::diff_all(old, new, &mut plan);
    if !(plan.refused.is_empty() && plan.problems.is_empty()) {
        return Err(DiffError {
            unconfirmed: plan.refused,
            problems: plan.problems,
        });
    }
    plan.changes.sort_by_key(Change::order);
    Ok(plan.changes)
}

/// The changes a diff has planned so far, what it refused, and what it
/// cannot do at all.
pub(crate) struct Plan<'c> {
    confirm: &'c Confirm,
    pub(crate) changes: Vec<Change>,
    refused: Vec<Unconfirmed>,
    pub(crate) problems: Vec<String>,
}

impl<'c> Plan<'c> {
    /// An empty plan, for the changes one change is made of.
    pub(crate) fn scratch(confirm: &'c Confirm) -> Plan<'c> {
        Plan {
            confirm,
            changes: Vec::new(),
            refused: Vec::new(),
            problems: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, change: impl Into<Change>) {
        self.changes.push(change.into());
    }

    /// A change that can lose data: written when confirmed, else refused.
    /// Whether it loses data is the change's own word ([`Change::data_loss`]):
    /// one that loses nothing after all (a generated column's values are
    /// computed) is written as it is.
    pub(crate) fn lossy(&mut self, change: impl Into<Change>, help: &str) {
        let change = change.into();
        match change.data_loss() {
            Some(mut loss) => {
                loss.help = help.to_owned();
                self.confirmed(change, loss);
            }
            None => self.changes.push(change),
        }
    }

    /// A change that may be a hazard ([`Change::hazard`]): written when it
    /// is none, or when its object is confirmed; else refused.
    pub(crate) fn hazardous(&mut self, change: impl Into<Change>) {
        let change = change.into();
        match change.hazard() {
            Some(hazard) => self.confirmed(change, hazard),
            None => self.changes.push(change),
        }
    }

    /// A change that cannot apply to a table with rows: written when
    /// `object` is confirmed, else refused with `what` and `help`.
    pub(crate) fn fails_on_rows(
        &mut self,
        change: impl Into<Change>,
        object: String,
        what: &str,
        help: &str,
    ) {
        let step = Unconfirmed {
            object,
            what: what.to_owned(),
            help: help.to_owned(),
        };
        self.confirmed(change.into(), step);
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
pub(crate) struct Renames {
    tables: BTreeMap<QualifiedName, QualifiedName>,
    /// Keyed by the new table name: old column name to new.
    pub(crate) columns: BTreeMap<QualifiedName, BTreeMap<String, String>>,
}

impl Renames {
    /// Pairs every column of every kept table with the column it was: first
    /// the renames whose old name is there and new name is not, then the
    /// columns that kept their names, unless a rename took that name away
    /// (then the column is new). A rename that names no old column is an error.
    pub(crate) fn of(pairs: &[(&Table, &Table)], problems: &mut Vec<String>) -> Self {
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

    pub(crate) fn column(&self, table: &QualifiedName, column: &str) -> String {
        self.columns
            .get(table)
            .and_then(|m| m.get(column))
            .cloned()
            .unwrap_or_else(|| column.to_owned())
    }

    pub(crate) fn columns(&self, table: &QualifiedName, columns: &[String]) -> Vec<String> {
        columns.iter().map(|c| self.column(table, c)).collect()
    }

    /// An old check or predicate of `table`, in its new column names:
    /// PostgreSQL rewrites them when a column is renamed.
    pub(crate) fn expr_in_new_names(&self, table: &QualifiedName, expr: &str) -> String {
        crate::default_expr::rename_identifiers(expr, |column| {
            self.columns
                .get(table)
                .and_then(|m| m.get(column))
                .filter(|new| new.as_str() != column)
                .cloned()
        })
    }

    /// An old foreign key, in the new names.
    pub(crate) fn foreign_key(&self, table: &QualifiedName, key: &ForeignKey) -> ForeignKey {
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

/// Pairs what stayed, and lists what went and what came.
#[allow(clippy::type_complexity)]
pub(crate) fn match_by<'a, T>(
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

#[cfg(test)]
mod tests {

    /// Dropping a generated column loses nothing (its values are computed):
    /// it is written unconfirmed, where it used to panic.
    #[test]
    fn a_dropped_generated_column_needs_no_confirmation_and_never_panics() {
        let mut old = SchemaState::default();
        let mut table = crate::Table::new("s", "t");
        table.columns.push(crate::Column::new("a", "integer"));
        let mut doubled = crate::Column::new("b", "integer");
        doubled.generated = Some("a * 2".to_owned());
        table.columns.push(doubled);
        old.add_table(table.clone());
        let mut new = SchemaState::default();
        table.columns.pop();
        new.add_table(table);
        let changes = diff_with(&old, &new, &Confirm::none()).unwrap();
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0].describe(), "drop t.b");
    }
    use super::*;
    use crate::{Column, ColumnChange, Index, SchemaChange, TableChange};

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
        assert!(
            matches!(&changes[0], Change::Schema(SchemaChange::CreateSchema { schema }) if schema == "tenant_kct")
        );
        assert!(
            matches!(&changes[1], Change::Table(TableChange::CreateTable { table }) if table.name == "customers")
        );
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
            [
                Change::Schema(SchemaChange::ReleaseSchema { .. }),
                Change::Table(TableChange::DropTable { .. })
            ]
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
            Change::Column(ColumnChange::AlterType { using: Some(_), .. })
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
            ..Default::default()
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
