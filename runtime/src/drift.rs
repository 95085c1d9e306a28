//! Compares the live catalog with the manifest's state.

use std::fmt;

use serde::Serialize;
use sqlx::PgPool;
use strata_manifest::{canonical_expr, SchemaState};

use crate::canonical::{Kind, TableSpelling};
use crate::catalog::{compare_tables, Compare, KINDS};
use crate::error::db;
use crate::expected::Expected;
use crate::introspect::{self, Catalog};
use crate::{Error, Migrations};

/// What a start-up does when the database has drifted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum DriftPolicy {
    /// Refuse to start: `run` returns [`Error::Drift`].
    #[default]
    Fail,
    /// Start, and leave the differences in [`crate::RunReport::drift`] for the application to log.
    Warn,
    /// Do not check.
    Ignore,
}

/// How a start-up checked drift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum DriftCheck {
    /// The whole catalog was read and compared.
    Full,
    /// The DDL watch showed no DDL since the last clean check against the
    /// same migrations, so only what fires no DDL event (the database's
    /// settings) was read and compared. See the guide, "Start-up, drift and the DDL watch".
    Unchanged,
    /// The policy is [`DriftPolicy::Ignore`], or a migration another
    /// process is applying held the run back (`RunReport::in_progress`).
    Skipped,
}

/// Every difference between the database and the models.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct DriftReport {
    /// The differences, kind by kind (schemas, extensions, enums, tables, columns,
    /// keys, indexes, checks, views, settings), each in schema and name order.
    pub differences: Vec<Difference>,
}

/// One difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
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
#[non_exhaustive]
pub enum DifferenceKind {
    /// The models have it; the database does not.
    Missing,
    /// The database has it in a managed schema; the models do not.
    Unexpected,
    /// Both have it, but not alike.
    Changed,
}

/// Declares [`ObjectKind`], each kind with the noun a report names it by.
macro_rules! object_kinds {
    ($($(#[$doc:meta])* $kind:ident = $noun:literal,)*) => {
        /// The sort of object that differs.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
        #[serde(rename_all = "snake_case")]
        #[non_exhaustive]
        pub enum ObjectKind {
            $($(#[$doc])* $kind,)*
        }

        impl ObjectKind {
            /// How a report names it: `primary key`, `exclusion constraint`.
            pub fn noun(self) -> &'static str {
                match self {
                    $(ObjectKind::$kind => $noun,)*
                }
            }
        }
    };
}

object_kinds! {
    /// A schema.
    Schema = "schema",
    /// A table.
    Table = "table",
    /// A column.
    Column = "column",
    /// A primary key.
    PrimaryKey = "primary key",
    /// A unique constraint.
    Unique = "unique constraint",
    /// A foreign key.
    ForeignKey = "foreign key",
    /// An index.
    Index = "index",
    /// A check constraint.
    Check = "check",
    /// A compat view.
    View = "view",
    /// A database setting such as `search_path`.
    Setting = "setting",
    /// An extension.
    Extension = "extension",
    /// An enum type.
    Enum = "enum",
    /// A function of `Builder::sql_dir`.
    Function = "function",
    /// A procedure of `Builder::sql_dir`.
    Procedure = "procedure",
    /// A trigger of `Builder::sql_dir`.
    Trigger = "trigger",
    /// A sequence of `Builder::sql_dir`.
    Sequence = "sequence",
    /// A row-level security policy.
    Policy = "policy",
    /// A role's privileges on a table, or its `USAGE` on a schema.
    Grant = "grant",
    /// A partition a partitioned table's rule needs.
    Partition = "partition",
    /// A domain of `Builder::sql_dir`.
    Domain = "domain",
    /// An exclusion constraint of `Builder::sql_dir`.
    Exclusion = "exclusion constraint",
    /// An event trigger of `Builder::sql_dir`.
    EventTrigger = "event trigger",
    /// A publication of `Builder::sql_dir`.
    Publication = "publication",
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
        let object = self.object.noun();
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
    check_state(pool, &migrations.expected()?).await
}

/// Checks the database against the state after migration `version`, for a
/// database deliberately kept at an older version (see `Migrator::target`).
pub async fn check_drift_at(
    pool: &PgPool,
    migrations: &Migrations,
    version: u32,
) -> Result<DriftReport, Error> {
    let manifest = migrations.manifest()?;
    check_state(pool, &Expected::owned(manifest.state_at(version))).await
}

pub(crate) async fn check_state(
    pool: &PgPool,
    expected: &Expected<'_>,
) -> Result<DriftReport, Error> {
    let mut conn = pool.acquire().await.map_err(db("connecting"))?;
    let actual = introspect::read_catalog_for_drift(&mut conn, expected).await?;
    Ok(compare_expected(expected, &actual))
}

/// The differences found so far.
#[derive(Default)]
pub(crate) struct Collector(Vec<Difference>);

impl Collector {
    pub(crate) fn extend(&mut self, differences: impl IntoIterator<Item = Difference>) {
        self.0.extend(differences);
    }

    pub(crate) fn into_differences(self) -> Vec<Difference> {
        self.0
    }

    pub(crate) fn push(
        &mut self,
        kind: DifferenceKind,
        object: ObjectKind,
        name: String,
    ) -> &mut Difference {
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

/// The differences between the expected and the actual state, kind by kind.
pub(crate) fn compare(expected: &SchemaState, catalog: &Catalog) -> DriftReport {
    compare_expected(&Expected::whole(expected), catalog)
}

pub(crate) fn compare_expected(expected: &Expected<'_>, catalog: &Catalog) -> DriftReport {
    compare_kinds(KINDS, expected, catalog)
}

/// The differences of the given kinds only.
pub(crate) fn compare_kinds(
    kinds: &[crate::catalog::Part],
    expected: &Expected<'_>,
    catalog: &Catalog,
) -> DriftReport {
    let mut out = Collector::default();
    for kind in kinds {
        match &kind.compare {
            Compare::State(compare) => compare(&expected.state, catalog, &mut out),
            Compare::Table(how) => {
                // Kinds compared by table are in KINDS, never UNWATCHED.
                let at = KINDS
                    .iter()
                    .position(|k| k.name == kind.name)
                    .expect("a kind compared by table is one of KINDS");
                compare_tables(at, how, expected, catalog, &mut out);
            }
        }
    }
    DriftReport { differences: out.0 }
}

/// The server's spelling of the model's expression against the live one;
/// without it (a standby cannot make scratch tables), a comparison key.
/// A model that states the live spelling itself is the same expression
/// too: PostgreSQL's printing is not always a fixed point (a `varchar`
/// column's `IN` list prints as `(ARRAY[…])::text[]`, which parses and
/// prints again as `ARRAY[(…)::text, …]`), and a model pulled from a live
/// database holds exactly what it printed.
pub(crate) fn same_expr(spelling: &TableSpelling<'_>, kind: Kind, want: &str, have: &str) -> bool {
    if want.trim() == have.trim() {
        return true;
    }
    match spelling.get(kind, None, want) {
        Some(spelled) => spelled == have,
        None => canonical_expr(want) == canonical_expr(have),
    }
}

/// `tenant_kct.customers.note`, each part in double quotes only where it
/// needs them: the names confirmations use too.
pub(crate) fn quoted(parts: &[&str]) -> String {
    strata_manifest::object_name(parts)
}

/// Compares objects matched by name: missing, unexpected, or changed as `same` says.
#[allow(clippy::too_many_arguments)]
pub(crate) fn compare_named<T>(
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
