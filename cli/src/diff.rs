//! `strata diff`: two live databases read as the drift check reads them,
//! the model diff between them, and its stages applied one transaction each.

use std::collections::BTreeSet;

use anyhow::Context;
use serde::Serialize;
use strata::sqlx::{self, Connection, PgConnection, PgPool};
use strata_manifest::{diff_with, render_migration, stages, Confirm, SchemaState};

use crate::args::Diff;

/// What `diff` found and, with `--apply`, did.
#[derive(Debug, Serialize)]
pub struct DiffReport {
    /// The stages of the migration, in order.
    pub stages: Vec<StageReport>,
    /// The migration, as written.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub sql: String,
    /// Where it was written, with `--out`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub out: Option<String>,
    /// With `--apply`: whether the two databases compared equal afterwards,
    /// and what still differs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parity: Option<Parity>,
}

/// One stage: what it holds and, with `--apply`, how it went.
#[derive(Debug, Serialize)]
pub struct StageReport {
    pub stage: usize,
    pub title: String,
    pub objects: usize,
    /// `applied`, `failed`, `not run` (after a failed stage), or `planned`.
    pub outcome: &'static str,
    /// Why it failed: the statement and PostgreSQL's reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The comparison after applying.
#[derive(Debug, Serialize)]
pub struct Parity {
    pub clean: bool,
    /// What still differs, one line each, as the next diff would change it.
    pub remaining: Vec<String>,
}

impl DiffReport {
    /// True when the databases are (or were made) equal.
    pub fn is_clean(&self) -> bool {
        match &self.parity {
            Some(parity) => parity.clean,
            None => self.stages.is_empty(),
        }
    }
}

impl std::fmt::Display for DiffReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.parity.is_none() && self.out.is_none() {
            write!(f, "{}", self.sql)?;
            return Ok(());
        }
        if let Some(out) = &self.out {
            writeln!(f, "wrote {out}")?;
        }
        writeln!(
            f,
            "{:<6} {:<44} {:>7}  outcome",
            "stage", "objects", "count"
        )?;
        for s in &self.stages {
            writeln!(
                f,
                "{:<6} {:<44} {:>7}  {}{}",
                s.stage,
                s.title,
                s.objects,
                s.outcome,
                s.error
                    .as_ref()
                    .map(|e| format!(": {e}"))
                    .unwrap_or_default()
            )?;
        }
        if let Some(parity) = &self.parity {
            match parity.clean {
                true => writeln!(f, "parity: clean")?,
                false => {
                    writeln!(f, "parity: {} difference(s) remain", parity.remaining.len())?;
                    for line in &parity.remaining {
                        writeln!(f, "  - {line}")?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Runs `strata diff`.
pub async fn run(args: &Diff) -> anyhow::Result<DiffReport> {
    let from = pool(&args.from, "--from").await?;
    let to = pool(&args.to, "--to").await?;
    let (old, new) = read_both(&from, &to, args.schemas.as_deref()).await?;
    let confirm = match args.allow_unsafe {
        true => Confirm::all(),
        false => Confirm::none(),
    };
    let changes = diff_with(&old, &new, &confirm).map_err(|e| {
        anyhow::anyhow!(
            "{e}\nhelp: pass --unsafe to write these changes too, once you have checked that --from may lose them"
        )
    })?;
    let sql = render_migration(1, "diff", &changes);
    let staged = stages(&changes);
    let mut report = DiffReport {
        stages: staged
            .iter()
            .map(|s| StageReport {
                stage: s.number,
                title: s.title.clone(),
                objects: s.changes,
                outcome: "planned",
                error: None,
            })
            .collect(),
        sql: String::new(),
        out: None,
        parity: None,
    };
    match &args.out {
        Some(path) => {
            std::fs::write(path, &sql).with_context(|| format!("writing {}", path.display()))?;
            report.out = Some(path.display().to_string());
        }
        None => report.sql = sql,
    }
    if !args.apply {
        return Ok(report);
    }
    let mut failed = false;
    for (stage, line) in staged.iter().zip(report.stages.iter_mut()) {
        if failed {
            line.outcome = "not run";
            continue;
        }
        match apply_stage(&from, &stage.sql).await {
            Ok(()) => line.outcome = "applied",
            Err(why) => {
                line.outcome = "failed";
                line.error = Some(why);
                failed = true;
            }
        }
    }
    let (old, new) = read_both(&from, &to, args.schemas.as_deref()).await?;
    let remaining: Vec<String> = diff_with(&old, &new, &Confirm::all())
        .map(|changes| changes.iter().map(describe).collect())
        .unwrap_or_else(|e| vec![e.to_string()]);
    report.parity = Some(Parity {
        clean: remaining.is_empty(),
        remaining,
    });
    Ok(report)
}

/// A change as one line: its first line of SQL.
fn describe(change: &strata_manifest::Change) -> String {
    let sql = render_migration(1, "x", std::slice::from_ref(change));
    sql.lines()
        .find(|l| !l.starts_with("--") && !l.trim().is_empty())
        .unwrap_or_default()
        .to_owned()
}

/// Both databases, over the same schemas: those named, or every schema
/// either one's users made.
async fn read_both(
    from: &PgPool,
    to: &PgPool,
    schemas: Option<&[String]>,
) -> anyhow::Result<(SchemaState, SchemaState)> {
    let names: Vec<String> = match schemas {
        Some(names) => names.to_vec(),
        None => {
            let a = strata::read_database(from, None).await?;
            let b = strata::read_database(to, None).await?;
            a.schemas
                .union(&b.schemas)
                .cloned()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect()
        }
    };
    let old = strata::read_database(from, Some(&names))
        .await
        .context("reading --from")?;
    let new = strata::read_database(to, Some(&names))
        .await
        .context("reading --to")?;
    Ok((old, new))
}

/// One stage in one transaction: all of it or none. On failure, the stage
/// is run again statement by statement (in a transaction rolled back) to
/// name the statement that fails, with PostgreSQL's reason.
async fn apply_stage(pool: &PgPool, sql: &str) -> Result<(), String> {
    let mut conn = pool.acquire().await.map_err(|e| e.to_string())?;
    let mut tx = conn.begin().await.map_err(|e| e.to_string())?;
    match sqlx::raw_sql(sql).execute(&mut *tx).await {
        Ok(_) => tx.commit().await.map_err(|e| e.to_string()),
        Err(error) => {
            drop(tx);
            Err(name_failure(&mut conn, sql)
                .await
                .unwrap_or_else(|| error.to_string()))
        }
    }
}

async fn name_failure(conn: &mut PgConnection, sql: &str) -> Option<String> {
    let mut tx = conn.begin().await.ok()?;
    for statement in strata_manifest::split_statements(sql) {
        if let Err(error) = sqlx::raw_sql(statement.sql).execute(&mut *tx).await {
            let first = statement.sql.lines().next().unwrap_or_default().to_owned();
            return Some(format!(
                "statement at line {} ({first}): {error}",
                statement.line
            ));
        }
    }
    None
}

async fn pool(url: &str, flag: &str) -> anyhow::Result<PgPool> {
    let first = PgConnection::connect(url)
        .await
        .with_context(|| format!("connecting to the database of {flag}"))?;
    let _ = first.close().await;
    strata::sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect(url)
        .await
        .with_context(|| format!("connecting to the database of {flag}"))
}
