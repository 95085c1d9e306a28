//! One live database brought to parity with another: both read as the
//! drift check reads a database, the build's own diff between them, and
//! its stages applied one transaction each.

use std::collections::BTreeSet;

use serde::Serialize;
use strata::sqlx::PgPool;
use strata::{read_database, run_sql, user_schemas, RunIn};
use strata_manifest::{
    diff_with, plan, render_migration, stages, Confirm, SchemaState, Stage, Stream as PlanStream,
    NO_TRANSACTION,
};

use crate::Error;

/// The migration that turns one database into another, in stages.
#[derive(Debug, Clone)]
pub struct DatabaseDiff {
    /// The schemas compared.
    pub schemas: Vec<String>,
    /// The stages, in order.
    pub stages: Vec<Stage>,
    /// For each stage, whether it runs outside a transaction, statement by
    /// statement: the index builds and drops, validations and keys that
    /// keep the `from` database's tables writable (`CONCURRENTLY`), as the
    /// build writes them for a live table.
    pub no_transaction: Vec<bool>,
    /// The whole migration: the file without a transaction (if any)
    /// before the rest, the rest, and the one after it.
    pub sql: String,
}

/// How one stage went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum StageOutcome {
    /// Applied whole, in its transaction.
    Applied,
    /// Rolled back: nothing of it stays. The statement that failed and
    /// PostgreSQL's reason.
    Failed {
        /// Where and why.
        error: String,
    },
    /// Not run, because a stage before it failed.
    NotRun,
}

impl DatabaseDiff {
    /// Reads `from` and `to` (the `schemas` named, or every schema either
    /// one's users made) and plans the changes that turn `from` into `to`.
    /// What can lose data on `from` is refused (listed in the error) unless
    /// `allow_loss`. A column whose type changes is converted with an
    /// explicit cast (`USING col::type`, but for a type with a length or
    /// precision, which an assignment cast checks instead of cutting): a
    /// value that does not convert fails its stage, and nothing of it stays.
    pub async fn plan(
        from: &PgPool,
        to: &PgPool,
        schemas: Option<&[String]>,
        allow_loss: bool,
    ) -> Result<Self, Error> {
        let (old, mut new, schemas) = read_both(from, to, schemas).await?;
        cast_changed_types(&old, &mut new);
        let confirm = match allow_loss {
            true => Confirm::all(),
            false => Confirm::none(),
        };
        // `from` is live: its tables keep taking writes, as in a build; the
        // one planner cuts the changes as it does a build's.
        let planned =
            plan(&old, &new, &confirm, PlanStream::DatabaseDiff).map_err(Error::DiffRefused)?;
        let mut diff = DatabaseDiff {
            schemas,
            stages: Vec::new(),
            no_transaction: Vec::new(),
            sql: String::new(),
        };
        for migration in planned.migrations {
            let parts = stages(&migration.changes);
            diff.no_transaction
                .extend(std::iter::repeat(!migration.in_transaction).take(parts.len()));
            diff.stages.extend(parts);
            if !diff.sql.is_empty() {
                diff.sql.push('\n');
            }
            if !migration.in_transaction {
                diff.sql.push_str(NO_TRANSACTION);
                diff.sql.push('\n');
            }
            diff.sql
                .push_str(&render_migration(1, "diff", &migration.changes));
        }
        Ok(diff)
    }

    /// True when the two databases were the same.
    pub fn is_empty(&self) -> bool {
        self.stages.is_empty()
    }

    /// Runs the stages on `from`, in order, each in one transaction: a stage
    /// applies whole or not at all, and after one fails the rest are not run.
    pub async fn apply(&self, from: &PgPool) -> Result<Vec<StageOutcome>, Error> {
        let mut outcomes = Vec::with_capacity(self.stages.len());
        for stage in &self.stages {
            if outcomes
                .iter()
                .any(|o| matches!(o, StageOutcome::Failed { .. }))
            {
                outcomes.push(StageOutcome::NotRun);
                continue;
            }
            let outside = self.no_transaction.get(outcomes.len()).copied() == Some(true);
            outcomes.push(apply_stage(from, &stage.sql, outside).await?);
        }
        Ok(outcomes)
    }

    /// What still differs between `from` and `to` over these schemas, one
    /// line per change the next diff would make (empty at parity).
    pub async fn remaining(&self, from: &PgPool, to: &PgPool) -> Result<Vec<String>, Error> {
        let (old, mut new, _) = read_both(from, to, Some(&self.schemas)).await?;
        cast_changed_types(&old, &mut new);
        Ok(match diff_with(&old, &new, &Confirm::all()) {
            Ok(changes) => changes
                .iter()
                .map(|change| {
                    first_statement(&render_migration(1, "x", std::slice::from_ref(change)))
                })
                .collect(),
            Err(refused) => vec![refused.to_string()],
        })
    }
}

fn first_statement(sql: &str) -> String {
    sql.lines()
        .find(|l| !l.starts_with("--") && !l.trim().is_empty())
        .unwrap_or_default()
        .to_owned()
}

/// Gives every column of `new` whose type differs from its namesake's in
/// `old`, with no assignment cast between them, an explicit cast.
fn cast_changed_types(old: &SchemaState, new: &mut SchemaState) {
    for table in &mut new.tables {
        let Some(before) = old.table(&table.schema, &table.name) else {
            continue;
        };
        for column in &mut table.columns {
            let Some(was) = before.columns.iter().find(|c| c.name == column.name) else {
                continue;
            };
            // An explicit cast converts wherever an assignment cast does,
            // and where none is known (an enum, a domain); not to a type
            // with a length or precision, which it would cut values to.
            if was.sql_type != column.sql_type
                && column.using.is_none()
                && !column.sql_type.contains('(')
            {
                column.using = Some(format!(
                    "{}::{}",
                    strata_manifest::quote_ident(&column.name),
                    column.sql_type
                ));
            }
        }
    }
}

/// Both databases over the same schemas: those named, or every schema
/// either one's users made.
async fn read_both(
    from: &PgPool,
    to: &PgPool,
    schemas: Option<&[String]>,
) -> Result<(SchemaState, SchemaState, Vec<String>), Error> {
    let names: Vec<String> = match schemas {
        Some(names) => names.to_vec(),
        None => {
            let (a, b) =
                futures_util::future::try_join(user_schemas(from), user_schemas(to)).await?;
            let names: BTreeSet<String> = a.into_iter().chain(b).collect();
            names.into_iter().collect()
        }
    };
    // The two servers (or two databases of one) read at once.
    let (old, new) = futures_util::future::try_join(
        read_database(from, Some(&names)),
        read_database(to, Some(&names)),
    )
    .await?;
    Ok((old, new, names))
}

/// One stage, run as a migration's statements run (`strata::run_sql`):
/// in one transaction, or each statement on its own.
async fn apply_stage(pool: &PgPool, sql: &str, outside: bool) -> Result<StageOutcome, Error> {
    let run_in = match outside {
        true => RunIn::EachOnItsOwn,
        false => RunIn::OneTransaction,
    };
    Ok(match run_sql(pool, sql, run_in).await? {
        None => StageOutcome::Applied,
        Some(why) if outside => StageOutcome::Failed {
            error: format!("{why} (outside a transaction: the statements before it stay applied)"),
        },
        Some(why) => StageOutcome::Failed { error: why },
    })
}
