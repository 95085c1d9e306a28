//! Compares the live catalog with the manifest's state.

use std::fmt;

use serde::Serialize;
use sqlx::PgPool;
use strata_manifest::{
    canonical_default, canonical_expr, Column, ForeignKey, Index, Key, QualifiedName, SchemaState,
    Table,
};

use crate::canonical::{Canonical, Kind, TableSpelling};
use crate::error::db;
use crate::introspect::{self, Catalog};
use crate::{Error, Migrations};

/// What a start-up does when the database has drifted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub enum DriftPolicy {
    /// Refuse to start: `run` returns [`Error::Drift`].
    #[default]
    Fail,
    /// Start, and leave the differences in [`crate::RunReport::drift`] for the application to log.
    Warn,
    /// Do not check.
    Ignore,
}

/// Every difference between the database and the models.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DriftReport {
    /// The differences, in schema, table and column order.
    pub differences: Vec<Difference>,
}

/// One difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// Missing, unexpected or changed.
    pub kind: DifferenceKind,
    /// What sort of object.
    pub object: ObjectKind,
    /// The object's name, schema-qualified.
    pub name: String,
    /// For a changed object, which property differs (`type`, `nullable`, `default`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub property: Option<String>,
    /// What the models expect.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// What the database has.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actual: Option<String>,
}

/// How an object differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DifferenceKind {
    /// The models have it; the database does not.
    Missing,
    /// The database has it in a managed schema; the models do not.
    Unexpected,
    /// Both have it, but not alike.
    Changed,
}

/// The sort of object that differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectKind {
    /// A schema.
    Schema,
    /// A table.
    Table,
    /// A column.
    Column,
    /// A primary key.
    PrimaryKey,
    /// A unique constraint.
    Unique,
    /// A foreign key.
    ForeignKey,
    /// An index.
    Index,
    /// A check constraint.
    Check,
    /// A compat view.
    View,
    /// A database setting such as `search_path`.
    Setting,
}

impl DriftReport {
    /// True when the database matches the models.
    pub fn is_clean(&self) -> bool {
        self.differences.is_empty()
    }
}

impl fmt::Display for DriftReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_clean() {
            return f.write_str("clean");
        }
        let count = self.differences.len();
        write!(f, "{count} difference{}", if count == 1 { "" } else { "s" })?;
        for difference in &self.differences {
            write!(f, "\n  - {difference}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            DifferenceKind::Missing => "missing",
            DifferenceKind::Unexpected => "unexpected",
            DifferenceKind::Changed => "changed",
        };
        let object = match self.object {
            ObjectKind::Schema => "schema",
            ObjectKind::Table => "table",
            ObjectKind::Column => "column",
            ObjectKind::PrimaryKey => "primary key",
            ObjectKind::Unique => "unique constraint",
            ObjectKind::ForeignKey => "foreign key",
            ObjectKind::Index => "index",
            ObjectKind::Check => "check",
            ObjectKind::View => "view",
            ObjectKind::Setting => "setting",
        };
        write!(f, "{kind} {object} {}", self.name)?;
        if let Some(property) = &self.property {
            write!(f, " {property}")?;
        }
        let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".to_owned());
        match self.kind {
            DifferenceKind::Changed => write!(
                f,
                ": expected {}, found {}",
                show(&self.expected),
                show(&self.actual)
            ),
            DifferenceKind::Missing if self.expected.is_some() => {
                write!(f, " ({})", show(&self.expected))
            }
            DifferenceKind::Unexpected if self.actual.is_some() => {
                write!(f, " ({})", show(&self.actual))
            }
            _ => Ok(()),
        }
    }
}

/// Checks the database against the state after the last embedded migration,
/// reading the catalog in a fixed number of queries however many tables there are.
pub async fn check_drift(pool: &PgPool, migrations: &Migrations) -> Result<DriftReport, Error> {
    let manifest = migrations.manifest()?;
    check_state(pool, &manifest.state).await
}

/// Checks the database against the state after migration `version`, for a
/// database deliberately kept at an older version (see `Migrator::target`).
pub async fn check_drift_at(
    pool: &PgPool,
    migrations: &Migrations,
    version: u32,
) -> Result<DriftReport, Error> {
    let manifest = migrations.manifest()?;
    check_state(pool, &manifest.state_at(version)).await
}

pub(crate) async fn check_state(
    pool: &PgPool,
    expected: &SchemaState,
) -> Result<DriftReport, Error> {
    let mut conn = pool.acquire().await.map_err(db("connecting"))?;
    let actual = introspect::read_catalog(&mut conn, expected).await?;
    Ok(compare(expected, &actual))
}

struct Collector(Vec<Difference>);

impl Collector {
    fn push(&mut self, kind: DifferenceKind, object: ObjectKind, name: String) -> &mut Difference {
        self.0.push(Difference {
            kind,
            object,
            name,
            property: None,
            expected: None,
            actual: None,
        });
        self.0.last_mut().expect("just pushed")
    }
}

/// The differences between the expected and the actual state.
pub(crate) fn compare(expected: &SchemaState, catalog: &Catalog) -> DriftReport {
    use DifferenceKind::*;
    let actual = &catalog.state;
    let mut out = Collector(Vec::new());
    for schema in expected.schemas.difference(&actual.schemas) {
        out.push(Missing, ObjectKind::Schema, quoted(&[schema]));
    }
    for table in &expected.tables {
        match actual.table(&table.schema, &table.name) {
            None => {
                out.push(
                    Missing,
                    ObjectKind::Table,
                    quoted(&[&table.schema, &table.name]),
                );
            }
            Some(found) => compare_table(table, found, &catalog.canonical, &mut out),
        }
    }
    for table in &actual.tables {
        if expected.table(&table.schema, &table.name).is_none() {
            out.push(
                Unexpected,
                ObjectKind::Table,
                quoted(&[&table.schema, &table.name]),
            );
        }
    }
    compare_views(expected, catalog, &mut out);
    if expected.search_path.is_some() && expected.search_path != actual.search_path {
        let spell = |path: &Option<Vec<String>>| path.as_ref().map(|p| p.join(", "));
        let d = out.push(Changed, ObjectKind::Setting, "search_path".to_owned());
        d.expected = spell(&expected.search_path);
        d.actual = spell(&actual.search_path).or_else(|| Some("the server default".to_owned()));
    }
    DriftReport { differences: out.0 }
}

fn compare_table(expected: &Table, actual: &Table, canonical: &Canonical, out: &mut Collector) {
    let canonical = canonical.table(expected);
    use DifferenceKind::*;
    let name = |column: &str| quoted(&[&expected.schema, &expected.name, column]);
    for column in &expected.columns {
        let Some(found) = actual.column(&column.name) else {
            out.push(Missing, ObjectKind::Column, name(&column.name))
                .expected = Some(describe_column(column));
            continue;
        };
        let mut changed = |property: &str, want: Option<String>, have: Option<String>| {
            let d = out.push(Changed, ObjectKind::Column, name(&column.name));
            d.property = Some(property.to_owned());
            d.expected = want;
            d.actual = have;
        };
        if column.sql_type != found.sql_type {
            changed(
                "type",
                Some(column.sql_type.clone()),
                Some(found.sql_type.clone()),
            );
        }
        if column.nullable != found.nullable {
            let spell =
                |nullable: bool| Some(if nullable { "NULL" } else { "NOT NULL" }.to_owned());
            changed("nullability", spell(column.nullable), spell(found.nullable));
        }
        let same_default = match (&column.default, &found.default) {
            (Some(want), Some(have)) => {
                match canonical.get(Kind::Default, Some(&column.name), want) {
                    Some(spelled) => spelled == have,
                    None => canonical_default(want) == canonical_default(have),
                }
            }
            (Some(want), None) => {
                canonical.get(Kind::Default, Some(&column.name), want) == Some("")
            }
            (want, have) => want.is_none() && have.is_none(),
        };
        if !same_default {
            changed("default", column.default.clone(), found.default.clone());
        }
        if column.identity != found.identity {
            let spell = |identity: bool| Some(identity.to_string());
            changed("identity", spell(column.identity), spell(found.identity));
        }
    }
    for column in &actual.columns {
        if expected.column(&column.name).is_none() {
            out.push(Unexpected, ObjectKind::Column, name(&column.name))
                .actual = Some(describe_column(column));
        }
    }

    let table = quoted(&[&expected.schema, &expected.name]);
    match (&expected.primary_key, &actual.primary_key) {
        (Some(want), None) => {
            out.push(Missing, ObjectKind::PrimaryKey, table.clone())
                .expected = Some(describe_key(want));
        }
        (None, Some(have)) => {
            out.push(Unexpected, ObjectKind::PrimaryKey, table.clone())
                .actual = Some(describe_key(have));
        }
        (Some(want), Some(have)) if want.columns != have.columns => {
            let d = out.push(Changed, ObjectKind::PrimaryKey, table.clone());
            d.expected = Some(describe_key(want));
            d.actual = Some(describe_key(have));
        }
        _ => {}
    }
    for key in &expected.uniques {
        if !actual.uniques.iter().any(|k| k.columns == key.columns) {
            out.push(
                Missing,
                ObjectKind::Unique,
                quoted(&[&expected.schema, &key.name]),
            )
            .expected = Some(describe_key(key));
        }
    }
    for key in &actual.uniques {
        if !expected.uniques.iter().any(|k| k.columns == key.columns) {
            out.push(
                Unexpected,
                ObjectKind::Unique,
                quoted(&[&expected.schema, &key.name]),
            )
            .actual = Some(describe_key(key));
        }
    }
    compare_rest(expected, actual, &canonical, out);
}

fn describe_column(column: &Column) -> String {
    let mut text = column.sql_type.clone();
    text.push_str(if column.nullable {
        " NULL"
    } else {
        " NOT NULL"
    });
    if let Some(default) = &column.default {
        text.push_str(" DEFAULT ");
        text.push_str(default);
    }
    text
}

fn describe_key(key: &Key) -> String {
    format!("{} ({})", key.name, key.columns.join(", "))
}

/// `tenant_kct.customers.note`, each part in double quotes only where it
/// needs them: the names confirmations use too.
fn quoted(parts: &[&str]) -> String {
    strata_manifest::object_name(parts)
}

/// Foreign keys, indexes and checks of one table.
fn compare_rest(
    expected: &Table,
    actual: &Table,
    canonical: &TableSpelling<'_>,
    out: &mut Collector,
) {
    let schema = expected.schema.as_str();
    // The server's spelling of the model's expression against the live one;
    // without it (a standby cannot make scratch tables), a comparison key.
    let same_expr = |kind: Kind, want: &str, have: &str| match canonical.get(kind, None, want) {
        Some(spelled) => spelled == have,
        None => canonical_expr(want) == canonical_expr(have),
    };
    compare_named(
        out,
        ObjectKind::ForeignKey,
        schema,
        &expected.foreign_keys,
        &actual.foreign_keys,
        |k| &k.name,
        describe_foreign_key,
        |a, b| a == b,
    );
    compare_named(
        out,
        ObjectKind::Index,
        schema,
        &expected.indexes,
        &actual.indexes,
        |i| &i.name,
        describe_index,
        |a, b| {
            a.columns == b.columns
                && a.unique == b.unique
                && match (&a.predicate, &b.predicate) {
                    (Some(want), Some(have)) => same_expr(Kind::Predicate, want, have),
                    (want, have) => want.is_none() && have.is_none(),
                }
        },
    );
    compare_named(
        out,
        ObjectKind::Check,
        schema,
        &expected.checks,
        &actual.checks,
        |c| &c.name,
        |c| c.expr.clone(),
        |a, b| same_expr(Kind::Check, &a.expr, &b.expr),
    );
}

/// Every compat view must exist and read its table.
fn compare_views(expected: &SchemaState, catalog: &Catalog, out: &mut Collector) {
    use DifferenceKind::*;
    for (view, table) in expected.views() {
        let name = quoted(&[&view.schema, &view.name]);
        let targets: Vec<&Option<QualifiedName>> = catalog
            .views
            .iter()
            .filter(|(v, _)| v == view)
            .map(|(_, target)| target)
            .collect();
        let want = table.qualified_name();
        let want_text = quoted(&[&want.schema, &want.name]);
        if targets.is_empty() {
            out.push(Missing, ObjectKind::View, name).expected = Some(format!("over {want_text}"));
        } else if !targets.iter().any(|t| t.as_ref() == Some(&want)) {
            let d = out.push(Changed, ObjectKind::View, name);
            d.property = Some("table".to_owned());
            d.expected = Some(want_text);
            d.actual = Some(
                targets
                    .iter()
                    .filter_map(|t| t.as_ref().map(|t| quoted(&[&t.schema, &t.name])))
                    .collect::<Vec<_>>()
                    .join(", "),
            );
        }
    }
}

/// Compares objects matched by name: missing, unexpected, or changed as `same` says.
#[allow(clippy::too_many_arguments)]
fn compare_named<T>(
    out: &mut Collector,
    object: ObjectKind,
    schema: &str,
    expected: &[T],
    actual: &[T],
    name: impl Fn(&T) -> &str,
    describe: impl Fn(&T) -> String,
    same: impl Fn(&T, &T) -> bool,
) {
    use DifferenceKind::*;
    for want in expected {
        match actual.iter().find(|have| name(have) == name(want)) {
            None => {
                out.push(Missing, object, quoted(&[schema, name(want)]))
                    .expected = Some(describe(want));
            }
            Some(have) if !same(want, have) => {
                let d = out.push(Changed, object, quoted(&[schema, name(want)]));
                d.expected = Some(describe(want));
                d.actual = Some(describe(have));
            }
            Some(_) => {}
        }
    }
    for have in actual {
        if !expected.iter().any(|want| name(want) == name(have)) {
            out.push(Unexpected, object, quoted(&[schema, name(have)]))
                .actual = Some(describe(have));
        }
    }
}

fn describe_foreign_key(key: &ForeignKey) -> String {
    let mut text = format!(
        "({}) references {} ({})",
        key.columns.join(", "),
        quoted(&[&key.references.schema, &key.references.name]),
        key.referenced_columns.join(", ")
    );
    for (what, action) in [("on delete", key.on_delete), ("on update", key.on_update)] {
        if !action.is_default() {
            text.push_str(&format!(" {what} {}", action.sql().to_ascii_lowercase()));
        }
    }
    text
}

fn describe_index(index: &Index) -> String {
    let mut text = format!("({})", index.columns.join(", "));
    if index.unique {
        text.push_str(" unique");
    }
    if let Some(predicate) = &index.predicate {
        text.push_str(" where ");
        text.push_str(predicate);
    }
    text
}
