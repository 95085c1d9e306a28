//! Rollouts: tenants migrated (or rolled back) in waves, canaries first,
//! with a pause or a health gate between waves and an error budget that
//! stops the rollout. The rollout's progress is kept in `strata.rollouts`,
//! so that one interrupted (a crash, a `kill -9`, a deploy) resumes on the
//! next run: tenants already where the rollout takes them are passed over
//! without a transaction, and the failures counted so far still count.

use std::time::{Duration, Instant};

use serde::Serialize;
use sqlx::{Acquire, PgConnection, PgPool};

use crate::error::db;
use crate::session::{query, query_as};
use crate::tenants::{Action, Listed};
use crate::{tracking, Error, TenantOutcome, TenantStatus, Tenants, TenantsReport};

/// Creates the rollouts' progress: one row per prefix, action and target.
const CREATE_ROLLOUTS: &str = r#"CREATE TABLE IF NOT EXISTS "strata"."rollouts" (
    "prefix" text NOT NULL,
    "action" text NOT NULL,
    "target" bigint NOT NULL,
    "state" text NOT NULL,
    "waves" integer NOT NULL,
    "waves_done" integer NOT NULL,
    "tenants" integer NOT NULL,
    "failed" integer NOT NULL,
    "reason" text,
    "started_at" timestamp with time zone NOT NULL DEFAULT now(),
    "updated_at" timestamp with time zone NOT NULL DEFAULT now(),
    PRIMARY KEY ("prefix", "action", "target")
)"#;

/// How a rollout goes: which tenants first, how many at a time, what
/// happens between waves and when it stops.
///
/// ```
/// use std::time::Duration;
/// let rollout = strata::Rollout::new()
///     .canaries(5)
///     .wave_share(0.25)
///     .pause(Duration::from_secs(30))
///     .health_gate()
///     .max_failures(3);
/// # let _ = rollout;
/// ```
#[derive(Debug, Clone, Default)]
pub struct Rollout {
    canaries: Canaries,
    wave: WaveSize,
    pause: Duration,
    health_gate: bool,
    budget: Budget,
}

#[derive(Debug, Clone, Default)]
enum Canaries {
    #[default]
    None,
    First(usize),
    Named(Vec<String>),
}

#[derive(Debug, Clone, Copy, Default)]
enum WaveSize {
    /// Everything after the canaries in one wave.
    #[default]
    All,
    Count(usize),
    Share(f64),
}

#[derive(Debug, Clone, Copy, Default)]
enum Budget {
    #[default]
    Unlimited,
    Count(usize),
    Share(f64),
}

impl Rollout {
    /// One wave of every tenant, no canaries, no pause, no budget: what a
    /// run without a rollout does, but resumable and shown by
    /// `strata tenants status`.
    pub fn new() -> Self {
        Rollout::default()
    }

    /// The first `count` tenants (in the registry's order) are a wave of
    /// their own, before every other.
    pub fn canaries(mut self, count: usize) -> Self {
        self.canaries = Canaries::First(count);
        self
    }

    /// These tenant ids are a wave of their own, before every other.
    pub fn canary_ids<I, S>(mut self, ids: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.canaries = Canaries::Named(ids.into_iter().map(Into::into).collect());
        self
    }

    /// Waves of `tenants` tenants each (at least 1).
    pub fn wave_size(mut self, tenants: usize) -> Self {
        self.wave = WaveSize::Count(tenants.max(1));
        self
    }

    /// Waves of this share of the tenants each (0.1 = a tenth), at least one tenant.
    pub fn wave_share(mut self, share: f64) -> Self {
        self.wave = WaveSize::Share(share.clamp(0.0, 1.0));
        self
    }

    /// Waits this long after each wave before the next.
    pub fn pause(mut self, pause: Duration) -> Self {
        self.pause = pause;
        self
    }

    /// After each wave, checks its tenants for drift, and stops the
    /// rollout when any has drifted.
    pub fn health_gate(mut self) -> Self {
        self.health_gate = true;
        self
    }

    /// Stops the rollout once more than `failures` tenants have failed.
    pub fn max_failures(mut self, failures: usize) -> Self {
        self.budget = Budget::Count(failures);
        self
    }

    /// Stops the rollout once more than this share of its tenants have failed.
    pub fn max_failure_share(mut self, share: f64) -> Self {
        self.budget = Budget::Share(share.clamp(0.0, 1.0));
        self
    }

    /// The tenants in waves: canaries first, then the rest in order.
    fn waves(&self, tenants: Vec<Listed>) -> Vec<Vec<Listed>> {
        let mut rest = tenants;
        let mut waves = Vec::new();
        let canaries: Vec<Listed> = match &self.canaries {
            Canaries::None => Vec::new(),
            Canaries::First(n) => rest.drain(..(*n).min(rest.len())).collect(),
            Canaries::Named(ids) => {
                let (named, others): (Vec<Listed>, Vec<Listed>) = rest
                    .into_iter()
                    .partition(|t| ids.iter().any(|id| id == t.id()));
                rest = others;
                named
            }
        };
        let total = canaries.len() + rest.len();
        if !canaries.is_empty() {
            waves.push(canaries);
        }
        let size = match self.wave {
            WaveSize::All => rest.len().max(1),
            WaveSize::Count(n) => n,
            WaveSize::Share(share) => ((total as f64 * share).ceil() as usize).max(1),
        };
        let mut rest = rest.into_iter().peekable();
        while rest.peek().is_some() {
            waves.push(rest.by_ref().take(size).collect());
        }
        waves
    }

    /// True when `failed` of `total` tenants is past the budget.
    fn spent(&self, failed: usize, total: usize) -> bool {
        match self.budget {
            Budget::Unlimited => false,
            Budget::Count(k) => failed > k,
            Budget::Share(share) => failed as f64 > total as f64 * share,
        }
    }
}

/// What a rollout did, in a [`TenantsReport`].
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct RolloutReport {
    /// How many waves it has, canaries included.
    pub waves: usize,
    /// How many are done, in this run and the runs it resumed.
    pub waves_done: usize,
    /// Tenants failed, in this run and the runs it resumed.
    pub failed: usize,
    /// True when it went on from an interrupted or stopped run.
    pub resumed: bool,
    /// Why it stopped before its last wave, if it did.
    pub stopped: Option<String>,
}

/// Passed to the wave callback after each wave.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct WaveProgress<'a> {
    /// This wave, from 1.
    pub wave: usize,
    /// The rollout's waves.
    pub waves: usize,
    /// This wave's outcomes.
    pub outcomes: &'a [TenantOutcome],
    /// Tenants failed so far in the rollout.
    pub failed: usize,
    /// How long this wave took.
    pub elapsed: Duration,
}

impl std::fmt::Display for WaveProgress<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let count = |pick: fn(&TenantStatus) -> bool| {
            self.outcomes.iter().filter(|o| pick(&o.status)).count()
        };
        write!(
            f,
            "wave {}/{}: {} tenants, {} changed, {} failed ({} in the rollout) in {:.1?}",
            self.wave,
            self.waves,
            self.outcomes.len(),
            count(|s| matches!(
                s,
                TenantStatus::Applied { .. } | TenantStatus::RolledBack { .. }
            )),
            count(|s| matches!(s, TenantStatus::Failed { .. })),
            self.failed,
            self.elapsed
        )
    }
}

/// A rollout in progress or stopped, as `strata tenants status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RolloutState {
    /// `migrate`, or `rollback`.
    pub action: String,
    /// The version it takes the tenants to.
    pub target: u32,
    /// `running` (or interrupted), `stopped`, or `done`.
    pub state: String,
    /// Waves done of all.
    pub waves_done: u32,
    /// Its waves.
    pub waves: u32,
    /// Its tenants.
    pub tenants: u32,
    /// Tenants failed.
    pub failed: u32,
    /// Why it stopped.
    pub reason: Option<String>,
}

impl Tenants<'_> {
    /// Runs `action` over `tenants` in the waves of `rollout`.
    pub(crate) async fn roll_out(
        &self,
        pool: &PgPool,
        rollout: &Rollout,
        tenants: Vec<Listed>,
        action: Action,
    ) -> Result<TenantsReport, Error> {
        let started = Instant::now();
        let (name, target) = match action {
            Action::Migrate => ("migrate", self.target_version()?),
            Action::Rollback(to) => ("rollback", to),
        };
        let total = tenants.len();
        let waves = rollout.waves(tenants);
        let mut conn = pool.acquire().await.map_err(db("connecting"))?;
        tracking::ensure(&mut conn).await?;
        let (done_before, resumed) =
            begin(&mut conn, &self.prefix, name, target, waves.len(), total).await?;
        if resumed {
            tracing::info!(
                action = name,
                target,
                waves_done = done_before,
                "strata: resuming the tenants' rollout"
            );
        }
        // Failures are counted afresh: the waves done before are run again,
        // their tenants already there passed over, those that failed tried again.
        let mut failed = 0;
        drop(conn);

        let mut outcomes = Vec::with_capacity(total);
        let mut stopped = None;
        let mut waves_done = 0;
        let count = waves.len();
        let mut waves = waves.into_iter();
        let mut before = 0;
        for (at, wave) in waves.by_ref().enumerate() {
            let wave_started = Instant::now();
            let size = wave.len();
            let names: Vec<crate::TenantSchema> =
                wave.iter().filter_map(Listed::schema).cloned().collect();
            let report = self.run_each(pool, wave, action, (before, total)).await?;
            before += size;
            failed += report.failed().count();
            waves_done = at + 1;
            let progress = WaveProgress {
                wave: at + 1,
                waves: count,
                outcomes: &report.tenants,
                failed,
                elapsed: wave_started.elapsed(),
            };
            tracing::info!("strata: {progress}");
            if let Some(callback) = &self.wave_progress {
                callback(progress);
            }
            outcomes.extend(report.tenants);
            let last = at + 1 == count;
            if rollout.spent(failed, total) {
                stopped = Some(format!(
                    "{failed} of {total} tenants failed, past the error budget"
                ));
            } else if rollout.health_gate && !last {
                let drift = self.check_drift(pool, &names).await?;
                if !drift.drifted.is_empty() {
                    stopped = Some(format!(
                        "the health gate found drift in {} tenant(s) of wave {}: {}",
                        drift.drifted.len(),
                        at + 1,
                        drift.drifted.keys().cloned().collect::<Vec<_>>().join(", ")
                    ));
                }
            }
            let state = match (&stopped, last) {
                (Some(_), _) => "stopped",
                (None, true) => "done",
                (None, false) => "running",
            };
            record(
                pool,
                &self.prefix,
                name,
                target,
                state,
                waves_done,
                failed,
                stopped.as_deref(),
            )
            .await?;
            if stopped.is_some() {
                break;
            }
            if !last && !rollout.pause.is_zero() {
                tokio::time::sleep(rollout.pause).await;
            }
        }
        // The waves the rollout did not reach: their tenants stay as they are.
        for tenant in waves.flatten() {
            outcomes.push(TenantOutcome {
                tenant: tenant.label().to_owned(),
                status: TenantStatus::NotReached,
            });
        }
        Ok(TenantsReport {
            tenants: outcomes,
            elapsed: started.elapsed(),
            rollout: Some(RolloutReport {
                waves: count,
                waves_done: waves_done.max(done_before),
                failed,
                resumed,
                stopped,
            }),
        })
    }

    /// The rollouts of this prefix that are not done.
    pub async fn rollouts(&self, pool: &PgPool) -> Result<Vec<RolloutState>, Error> {
        let mut conn = pool.acquire().await.map_err(db("connecting"))?;
        let context = "reading strata.rollouts";
        let (exists,): (bool,) =
            query_as(r#"SELECT to_regclass('"strata"."rollouts"') IS NOT NULL"#)
                .fetch_one(&mut *conn)
                .await
                .map_err(db(context))?;
        if !exists {
            return Ok(Vec::new());
        }
        type Row = (String, i64, String, i32, i32, i32, i32, Option<String>);
        let rows: Vec<Row> = query_as(
            r#"SELECT "action", "target", "state", "waves_done", "waves", "tenants", "failed", "reason"
            FROM "strata"."rollouts" WHERE "prefix" = $1 AND "state" <> 'done' ORDER BY "started_at""#,
        )
        .bind(&self.prefix)
        .fetch_all(&mut *conn)
        .await
        .map_err(db(context))?;
        let n = |v: i32| u32::try_from(v).unwrap_or(0);
        Ok(rows
            .into_iter()
            .map(
                |(action, target, state, waves_done, waves, tenants, failed, reason)| {
                    RolloutState {
                        action,
                        target: u32::try_from(target).unwrap_or(0),
                        state,
                        waves_done: n(waves_done),
                        waves: n(waves),
                        tenants: n(tenants),
                        failed: n(failed),
                        reason,
                    }
                },
            )
            .collect())
    }
}

/// Starts a rollout's row, or takes up the one a run left unfinished (the
/// waves it had done), and says whether it resumed.
async fn begin(
    conn: &mut PgConnection,
    prefix: &str,
    action: &str,
    target: u32,
    waves: usize,
    tenants: usize,
) -> Result<(usize, bool), Error> {
    let context = "starting the rollout in strata.rollouts";
    let mut tx = conn.begin().await.map_err(db(context))?;
    tracking::lock(&mut tx, "").await?;
    query(CREATE_ROLLOUTS)
        .execute(&mut *tx)
        .await
        .map_err(db(context))?;
    let found: Option<(String, i32)> = query_as(
        r#"SELECT "state", "waves_done" FROM "strata"."rollouts"
        WHERE "prefix" = $1 AND "action" = $2 AND "target" = $3"#,
    )
    .bind(prefix)
    .bind(action)
    .bind(i64::from(target))
    .fetch_optional(&mut *tx)
    .await
    .map_err(db(context))?;
    let count = |v: i32| usize::try_from(v).unwrap_or(0);
    let as_i32 = |v: usize| i32::try_from(v).unwrap_or(i32::MAX);
    let (done, resumed) = match found {
        Some((state, done)) if state != "done" => (count(done), true),
        _ => (0, false),
    };
    query(
        r#"INSERT INTO "strata"."rollouts" ("prefix", "action", "target", "state", "waves", "waves_done", "tenants", "failed")
        VALUES ($1, $2, $3, 'running', $4, $5, $6, $7)
        ON CONFLICT ("prefix", "action", "target") DO UPDATE SET "state" = 'running', "waves" = $4,
            "waves_done" = $5, "tenants" = $6, "failed" = $7, "reason" = NULL, "updated_at" = now(),
            "started_at" = CASE WHEN $8 THEN "strata"."rollouts"."started_at" ELSE now() END"#,
    )
    .bind(prefix)
    .bind(action)
    .bind(i64::from(target))
    .bind(as_i32(waves))
    .bind(as_i32(done))
    .bind(as_i32(tenants))
    .bind(0_i32)
    .bind(resumed)
    .execute(&mut *tx)
    .await
    .map_err(db(context))?;
    tx.commit().await.map_err(db(context))?;
    Ok((done, resumed))
}

/// Records a rollout's progress after a wave.
#[allow(clippy::too_many_arguments)]
async fn record(
    pool: &PgPool,
    prefix: &str,
    action: &str,
    target: u32,
    state: &str,
    waves_done: usize,
    failed: usize,
    reason: Option<&str>,
) -> Result<(), Error> {
    let as_i32 = |v: usize| i32::try_from(v).unwrap_or(i32::MAX);
    query(
        r#"UPDATE "strata"."rollouts" SET "state" = $4, "waves_done" = greatest("waves_done", $5),
            "failed" = $6, "reason" = $7, "updated_at" = now()
        WHERE "prefix" = $1 AND "action" = $2 AND "target" = $3"#,
    )
    .bind(prefix)
    .bind(action)
    .bind(i64::from(target))
    .bind(state)
    .bind(as_i32(waves_done))
    .bind(as_i32(failed))
    .bind(reason)
    .execute(pool)
    .await
    .map_err(db("recording the rollout's progress in strata.rollouts"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TenantSchema;

    fn listed(count: usize) -> Vec<Listed> {
        (0..count)
            .map(|i| Listed::Tenant(TenantSchema::new(&format!("t{i:02}")).unwrap()))
            .collect()
    }

    fn sizes(waves: &[Vec<Listed>]) -> Vec<usize> {
        waves.iter().map(Vec::len).collect()
    }

    #[test]
    fn waves_put_the_canaries_first_and_split_the_rest() {
        assert_eq!(sizes(&Rollout::new().waves(listed(10))), [10]);
        assert_eq!(
            sizes(&Rollout::new().canaries(2).wave_size(3).waves(listed(10))),
            [2, 3, 3, 2]
        );
        // A share of all the tenants, canaries included, rounded up.
        assert_eq!(
            sizes(
                &Rollout::new()
                    .canaries(1)
                    .wave_share(0.25)
                    .waves(listed(10))
            ),
            [1, 3, 3, 3]
        );
        let named = Rollout::new()
            .canary_ids(["t07", "t03"])
            .wave_size(4)
            .waves(listed(10));
        assert_eq!(sizes(&named), [2, 4, 4]);
        let first: Vec<&str> = named[0].iter().map(Listed::id).collect();
        assert_eq!(first, ["t03", "t07"], "in the registry's order");
        assert!(named[1..]
            .iter()
            .flatten()
            .all(|t| !["t03", "t07"].contains(&t.id())));
        // More canaries than tenants, or none at all.
        assert_eq!(sizes(&Rollout::new().canaries(50).waves(listed(3))), [3]);
        assert!(Rollout::new().waves(Vec::new()).is_empty());
    }

    #[test]
    fn the_budget_is_spent_once_more_fail_than_it_allows() {
        let count = Rollout::new().max_failures(3);
        assert!(!count.spent(3, 200) && count.spent(4, 200));
        let share = Rollout::new().max_failure_share(0.01);
        assert!(!share.spent(2, 200) && share.spent(3, 200));
        assert!(!Rollout::new().spent(200, 200));
    }
}
