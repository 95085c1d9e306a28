//! `strata diff`: what [`strata_tools::DatabaseDiff`] plans and does, as a report.

use anyhow::Context;
use serde::Serialize;
use strata_tools::{DatabaseDiff, StageOutcome};

use crate::args::Diff;
use crate::commands::pool;

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
    let from = pool(&args.from, "--from", 2).await?;
    let to = pool(&args.to, "--to", 2).await?;
    let plan = DatabaseDiff::plan(&from, &to, args.schemas.as_deref(), args.allow_unsafe).await?;
    let mut report = DiffReport {
        stages: plan
            .stages
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
            std::fs::write(path, &plan.sql)
                .with_context(|| format!("writing {}", path.display()))?;
            report.out = Some(path.display().to_string());
        }
        None => report.sql = plan.sql.clone(),
    }
    if !args.apply {
        return Ok(report);
    }
    let outcomes = plan.apply(&from).await?;
    for (line, outcome) in report.stages.iter_mut().zip(outcomes) {
        (line.outcome, line.error) = match outcome {
            StageOutcome::Applied => ("applied", None),
            StageOutcome::Failed { error } => ("failed", Some(error)),
            StageOutcome::NotRun => ("not run", None),
        };
    }
    let remaining = plan.remaining(&from, &to).await?;
    report.parity = Some(Parity {
        clean: remaining.is_empty(),
        remaining,
    });
    Ok(report)
}
