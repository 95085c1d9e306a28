//! A tenant moved from one server to another while it takes writes, by
//! logical replication: its schema made on the target at its version, its
//! rows copied and then followed, a short write fence on the source, the
//! last changes and the sequences carried over, the placement switched,
//! and the source's copy dropped (or archived). Each step is recorded in
//! `strata.fleet_moves` and can be run again: a move that stopped, however
//! it stopped, resumes from where it was.

use std::time::{Duration, Instant};

use super::replica::{
    check_can_publish, object_name, publish, refuse_writes, same_database, subscribe, unpublish,
    unsubscribe, wait_caught_up, wait_copied, FENCE_TRIGGER,
};
use super::Fleet;
use crate::error::db;
use crate::session::{query, query_as};
use crate::tenants::schema_exists;
use crate::{Error, TenantSchema};
use serde::Serialize;
use sqlx::{Acquire, PgPool};

/// The steps of a move, in order; each is recorded once done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MoveStep {
    /// The move is recorded; nothing is done yet.
    Planned,
    /// The tenant's schema exists on the target, at its version, empty.
    Created,
    /// The source publishes the schema, the target subscribes, and every
    /// table has its first copy.
    Copied,
    /// The source refuses writes to the tenant; the target has every
    /// change and the sequences' values; the placement names the target.
    Switched,
    /// The subscription and publication are dropped, and the source's
    /// schema is dropped or archived.
    Done,
}

impl MoveStep {
    fn as_str(self) -> &'static str {
        match self {
            MoveStep::Planned => "planned",
            MoveStep::Created => "created",
            MoveStep::Copied => "copied",
            MoveStep::Switched => "switched",
            MoveStep::Done => "done",
        }
    }

    fn parse(text: &str) -> MoveStep {
        match text {
            "created" => MoveStep::Created,
            "copied" => MoveStep::Copied,
            "switched" => MoveStep::Switched,
            "done" => MoveStep::Done,
            _ => MoveStep::Planned,
        }
    }
}

impl std::fmt::Display for MoveStep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a move did.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct MoveReport {
    /// The tenant's schema.
    pub tenant: String,
    /// The server it left.
    pub from: String,
    /// The server that holds it now.
    pub to: String,
    /// The step an earlier run had reached, when this run resumed one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resumed_from: Option<MoveStep>,
    /// How long writes to the tenant were refused: from the fence on the
    /// source to the placement naming the target.
    pub write_pause: Duration,
    /// How long the first copy of its rows took.
    pub copy: Duration,
    /// How long the whole move took.
    pub elapsed: Duration,
    /// The schema that keeps the source's copy, when it was archived
    /// rather than dropped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_archived_as: Option<String>,
}

impl std::fmt::Display for MoveReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} moved from {} to {} in {:.1?} (first copy {:.1?}, writes paused {:.1?})",
            self.tenant, self.from, self.to, self.elapsed, self.copy, self.write_pause
        )?;
        if let Some(step) = self.resumed_from {
            write!(f, ", resumed after step {step}")?;
        }
        if let Some(archive) = &self.source_archived_as {
            write!(f, "; the source's copy is kept as {archive}")?;
        }
        Ok(())
    }
}

/// Returns the move under way for a tenant: from, to, whether the source's
/// copy is kept, and its last step done.
const MOVE_OF: &str = r#"SELECT "from_server", "to_server", "keep_source", "step"
FROM "strata"."fleet_moves" WHERE "tenant" = $1"#;

const START_MOVE: &str = r#"INSERT INTO "strata"."fleet_moves" ("tenant", "from_server", "to_server", "keep_source", "step")
VALUES ($1, $2, $3, $4, 'planned')"#;

const RECORD_STEP: &str =
    r#"UPDATE "strata"."fleet_moves" SET "step" = $2, "updated_at" = now() WHERE "tenant" = $1"#;

const SWITCH: &str = r#"UPDATE "strata"."fleet_placements" SET "server" = $2, "placed_at" = now() WHERE "tenant" = $1"#;

const END_MOVE: &str = r#"DELETE FROM "strata"."fleet_moves" WHERE "tenant" = $1"#;

/// Returns the newest version of a tenant's history.
const VERSION_OF: &str = r#"SELECT coalesce(max("version") FILTER (WHERE "success"), 0)
FROM "strata"."migrations" WHERE "scope" = $1"#;

/// Returns each sequence of a schema, qualified and quoted, with its value.
const SEQUENCES: &str = r#"SELECT format('%I.%I', schemaname, sequencename), last_value
FROM pg_catalog.pg_sequences WHERE schemaname = $1 AND last_value IS NOT NULL"#;

/// One move, as recorded.
struct Move {
    from: String,
    to: String,
    keep_source: bool,
    step: MoveStep,
}

impl Fleet<'_> {
    /// Moves `tenant` to server `to` while it takes writes; see the module
    /// docs for the steps. Writes are refused only between the fence and
    /// the switch (the report says how long): a writer that asks
    /// [`Fleet::pool_for`] for each unit of work and retries a write
    /// [`Fleet::is_fenced`] refuses loses nothing. Run again after a
    /// failure or a crash, it resumes from the last step done. The source's
    /// copy is dropped, or archived with [`Fleet::keep_source_after_move`].
    pub async fn move_tenant(&self, tenant: &TenantSchema, to: &str) -> Result<MoveReport, Error> {
        let started = Instant::now();
        let placed = self.server_of(tenant).await?;
        self.url_of(to).await?;
        let recorded = self.move_of(tenant).await?;
        let resumed_from = recorded.as_ref().map(|m| m.step);
        let plan = match recorded {
            Some(m) if m.to != to => {
                return Err(self.failed(tenant, &m, m.step, format!("a move of it to {} is under way, so it cannot be moved to {to} before that one ends", m.to)));
            }
            Some(m) => m,
            None if placed == to => {
                return Ok(MoveReport {
                    tenant: tenant.name().to_owned(),
                    from: placed,
                    to: to.to_owned(),
                    resumed_from: None,
                    write_pause: Duration::ZERO,
                    copy: Duration::ZERO,
                    elapsed: started.elapsed(),
                    source_archived_as: None,
                })
            }
            None => {
                query(START_MOVE)
                    .bind(tenant.name())
                    .bind(&placed)
                    .bind(to)
                    .bind(self.keep_source)
                    .execute(&self.control)
                    .await
                    .map_err(db("recording the move in strata.fleet_moves"))?;
                let planned = Move {
                    from: placed,
                    to: to.to_owned(),
                    keep_source: self.keep_source,
                    step: MoveStep::Planned,
                };
                if self.stop_move_after == Some(MoveStep::Planned) {
                    return Err(self.failed(
                        tenant,
                        &planned,
                        MoveStep::Planned,
                        "stopped on request, as a crash would stop it".to_owned(),
                    ));
                }
                planned
            }
        };
        let mut report = MoveReport {
            tenant: tenant.name().to_owned(),
            from: plan.from.clone(),
            to: plan.to.clone(),
            resumed_from,
            write_pause: Duration::ZERO,
            copy: Duration::ZERO,
            elapsed: Duration::ZERO,
            source_archived_as: None,
        };
        let mut step = plan.step;
        while step < MoveStep::Done {
            let next = self
                .run_step(tenant, &plan, step, &mut report)
                .await
                .map_err(|e| self.failed(tenant, &plan, step, e.to_string()))?;
            step = next;
            if step < MoveStep::Done {
                query(RECORD_STEP)
                    .bind(tenant.name())
                    .bind(step.as_str())
                    .execute(&self.control)
                    .await
                    .map_err(db("recording the move's step"))?;
                if self.stop_move_after == Some(step) {
                    return Err(self.failed(
                        tenant,
                        &plan,
                        step,
                        "stopped on request, as a crash would stop it".to_owned(),
                    ));
                }
            }
        }
        query(END_MOVE)
            .bind(tenant.name())
            .execute(&self.control)
            .await
            .map_err(db("ending the move in strata.fleet_moves"))?;
        report.elapsed = started.elapsed();
        tracing::info!(
            tenant = tenant.name(),
            from = plan.from,
            to = plan.to,
            pause_ms = report.write_pause.as_millis() as u64,
            "strata: tenant moved"
        );
        Ok(report)
    }

    /// Finishes every move that stopped, in tenant order.
    pub async fn resume_moves(&self) -> Result<Vec<MoveReport>, Error> {
        let rows: Vec<(String, String)> =
            query_as(r#"SELECT "tenant", "to_server" FROM "strata"."fleet_moves" ORDER BY 1"#)
                .fetch_all(&self.control)
                .await
                .map_err(db("reading strata.fleet_moves"))?;
        let mut reports = Vec::new();
        for (tenant, to) in rows {
            let tenant = self.tenant_of_schema(&tenant)?;
            reports.push(self.move_tenant(&tenant, &to).await?);
        }
        Ok(reports)
    }

    /// Moves tenants from the servers with the most to those with the
    /// fewest, one at a time, until no two servers differ by more than
    /// one tenant.
    pub async fn rebalance(&self) -> Result<Vec<MoveReport>, Error> {
        let mut reports = self.resume_moves().await?;
        loop {
            let servers = self.servers().await?;
            let (Some(most), Some(fewest)) = (
                servers
                    .iter()
                    .max_by(|a, b| a.tenants.cmp(&b.tenants).then_with(|| b.name.cmp(&a.name))),
                servers
                    .iter()
                    .min_by(|a, b| a.tenants.cmp(&b.tenants).then_with(|| a.name.cmp(&b.name))),
            ) else {
                return Ok(reports);
            };
            if most.tenants <= fewest.tenants + 1 {
                return Ok(reports);
            }
            let tenant = self
                .placement()
                .await?
                .into_iter()
                .rfind(|p| p.server == most.name)
                .map(|p| p.tenant);
            let Some(tenant) = tenant else {
                return Ok(reports);
            };
            let tenant = self.tenant_of_schema(&tenant)?;
            reports.push(self.move_tenant(&tenant, &fewest.name).await?);
        }
    }

    /// Keep the source's copy of a moved tenant, archived on the source
    /// (as [`crate::Tenants::archive`] keeps it), rather than drop it.
    pub fn keep_source_after_move(mut self, keep: bool) -> Self {
        self.keep_source = keep;
        self
    }

    #[doc(hidden)]
    /// Stops a move after `step` is recorded, as a crash there would: for
    /// the tests of resuming.
    pub fn __stop_move_after(mut self, step: MoveStep) -> Self {
        self.stop_move_after = Some(step);
        self
    }

    async fn move_of(&self, tenant: &TenantSchema) -> Result<Option<Move>, Error> {
        let row: Option<(String, String, bool, String)> = query_as(MOVE_OF)
            .bind(tenant.name())
            .fetch_optional(&self.control)
            .await
            .map_err(db("reading strata.fleet_moves"))?;
        Ok(row.map(|(from, to, keep_source, step)| Move {
            from,
            to,
            keep_source,
            step: MoveStep::parse(&step),
        }))
    }

    fn failed(&self, tenant: &TenantSchema, plan: &Move, step: MoveStep, message: String) -> Error {
        Error::MoveFailed(Box::new(crate::error::MoveFailure {
            tenant: tenant.name().to_owned(),
            id: tenant.id().to_owned(),
            from: plan.from.clone(),
            to: plan.to.clone(),
            step: step.to_string(),
            serving: match step >= MoveStep::Switched {
                true => plan.to.clone(),
                false => plan.from.clone(),
            },
            message,
        }))
    }

    /// Runs the step after `done`; returns the step reached.
    async fn run_step(
        &self,
        tenant: &TenantSchema,
        plan: &Move,
        done: MoveStep,
        report: &mut MoveReport,
    ) -> Result<MoveStep, Error> {
        let source = self.pool_of(&plan.from).await?;
        let target = self.pool_of(&plan.to).await?;
        let name = move_name(&source, tenant).await?;
        match done {
            MoveStep::Planned => {
                if same_database(&source, &target).await? {
                    return Err(Error::InvalidServer {
                        server: plan.to.clone(),
                        reason: format!("it is the same database as {}", plan.from),
                    });
                }
                check_can_publish(&source, &plan.from).await?;
                super::replica::check_replica_identity(
                    &source,
                    &plan.from,
                    std::slice::from_ref(&tenant.name().to_owned()),
                )
                .await?;
                self.create_on_target(tenant, &source, &target).await?;
                Ok(MoveStep::Created)
            }
            MoveStep::Created => {
                let started = Instant::now();
                let source_url = self.url_of(&plan.from).await?;
                publish(
                    &source,
                    &name,
                    std::slice::from_ref(&tenant.name().to_owned()),
                )
                .await?;
                subscribe(&target, &source, &source_url, &name, &name).await?;
                wait_copied(&target, &source, &name, &name, self.copy_timeout).await?;
                report.copy = started.elapsed();
                Ok(MoveStep::Copied)
            }
            MoveStep::Copied => {
                let fenced = Instant::now();
                let why = format!(
                    "tenant {} is moving to server {}: ask Fleet::pool_for again",
                    tenant.name(),
                    plan.to
                );
                refuse_writes(&source, &[tenant.name().to_owned()], FENCE_TRIGGER, &why).await?;
                let switched = self
                    .catch_up_and_switch(tenant, plan, &source, &target, &name)
                    .await;
                if let Err(error) = switched {
                    // Writes go back to the source, unless the switch did
                    // commit (its answer lost on the way).
                    if self.server_of(tenant).await.ok().as_deref() == Some(plan.from.as_str()) {
                        lift_fence(&source, tenant).await?;
                    }
                    return Err(error);
                }
                report.write_pause = fenced.elapsed();
                Ok(MoveStep::Switched)
            }
            MoveStep::Switched | MoveStep::Done => {
                unsubscribe(&target, &source, &name).await?;
                unpublish(&source, &name).await?;
                let mut conn = source.acquire().await.map_err(db("connecting"))?;
                let there = schema_exists(&mut conn, tenant).await?;
                drop(conn);
                if there {
                    match plan.keep_source {
                        true => {
                            let archived = self.on_server().archive(&source, tenant).await?;
                            report.source_archived_as = Some(archived.archived_as);
                        }
                        false => {
                            self.on_server()
                                .confirm(tenant.name())
                                .drop_tenant(&source, tenant)
                                .await?;
                        }
                    }
                }
                Ok(MoveStep::Done)
            }
        }
    }

    /// After the fence: waits until the target has every write, carries the
    /// sequences over and switches the placement, recording the step with it.
    async fn catch_up_and_switch(
        &self,
        tenant: &TenantSchema,
        plan: &Move,
        source: &PgPool,
        target: &PgPool,
        name: &str,
    ) -> Result<(), Error> {
        // The fence's commit is flushed (it commits synchronously),
        // and every write before it with it: the slot's subscriber
        // has them all once it confirms this position.
        let (lsn,): (String,) = query_as("SELECT pg_catalog.pg_current_wal_flush_lsn()::text")
            .fetch_one(source)
            .await
            .map_err(db("reading the source's WAL position"))?;
        wait_caught_up(source, name, &lsn, self.copy_timeout).await?;
        copy_sequences(source, target, tenant).await?;
        let mut conn = self.control.acquire().await.map_err(db("connecting"))?;
        let mut tx = conn.begin().await.map_err(db("starting a transaction"))?;
        query(SWITCH)
            .bind(tenant.name())
            .bind(&plan.to)
            .execute(&mut *tx)
            .await
            .map_err(db("switching the tenant's placement"))?;
        query(RECORD_STEP)
            .bind(tenant.name())
            .bind(MoveStep::Switched.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db("recording the move's step"))?;
        tx.commit()
            .await
            .map_err(db("committing the tenant's new placement"))?;
        Ok(())
    }

    /// Gives up a move that has not switched: the subscription, its slot
    /// and the publication dropped, the source's fence lifted, the target's
    /// copy dropped, and the move forgotten. The tenant stays where it was.
    pub async fn cancel_move(&self, tenant: &TenantSchema) -> Result<(), Error> {
        let Some(plan) = self.move_of(tenant).await? else {
            return Ok(());
        };
        if plan.step >= MoveStep::Switched {
            return Err(self.failed(
                tenant,
                &plan,
                plan.step,
                format!(
                    "its placement names {} already, so the move can only be finished",
                    plan.to
                ),
            ));
        }
        let source = self.pool_of(&plan.from).await?;
        let target = self.pool_of(&plan.to).await?;
        let name = move_name(&source, tenant).await?;
        unsubscribe(&target, &source, &name).await?;
        unpublish(&source, &name).await?;
        lift_fence(&source, tenant).await?;
        let mut conn = target.acquire().await.map_err(db("connecting"))?;
        let copied = schema_exists(&mut conn, tenant).await?;
        drop(conn);
        if copied {
            self.on_server()
                .confirm(tenant.name())
                .drop_tenant(&target, tenant)
                .await?;
        }
        query(END_MOVE)
            .bind(tenant.name())
            .execute(&self.control)
            .await
            .map_err(db("ending the move in strata.fleet_moves"))?;
        Ok(())
    }

    /// Makes the tenant's schema on the target at the source's version, with
    /// no rows: made by the tenant migrations, or, left by a run that
    /// stopped before its subscription, emptied.
    async fn create_on_target(
        &self,
        tenant: &TenantSchema,
        source: &PgPool,
        target: &PgPool,
    ) -> Result<(), Error> {
        let (version,): (i64,) = query_as(VERSION_OF)
            .bind(tenant.name())
            .fetch_one(source)
            .await
            .map_err(db("reading the tenant's version on the source"))?;
        let version = u32::try_from(version).unwrap_or(0);
        let mut conn = target.acquire().await.map_err(db("connecting"))?;
        let exists = schema_exists(&mut conn, tenant).await?;
        drop(conn);
        if !exists {
            self.on_server()
                .target(version)
                .create(target, tenant)
                .await?;
            return Ok(());
        }
        // There already: made by a run that stopped before it subscribed.
        // Its rows (none but copies: the placement still names the source)
        // are removed, so that the copy starts from nothing.
        let (there,): (i64,) = query_as(VERSION_OF)
            .bind(tenant.name())
            .fetch_one(target)
            .await
            .map_err(db("reading the tenant's version on the target"))?;
        if u32::try_from(there).unwrap_or(0) != version {
            return Err(Error::ReplicationUnavailable {
                server: "target".to_owned(),
                reason: format!("schema {tenant} exists there at version {there}, and the tenant is at {version} on the source\nhelp: if it is left over, drop it on the target (`strata tenants drop`), then move again"),
            });
        }
        let tables: Vec<(String,)> = query_as(
            "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_catalog.pg_class c
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition",
        )
        .bind(tenant.name())
        .fetch_all(target)
        .await
        .map_err(db("listing the tenant's tables on the target"))?;
        if !tables.is_empty() {
            let list: Vec<String> = tables.into_iter().map(|(t,)| t).collect();
            let sql = format!("TRUNCATE {}", list.join(", "));
            query(&sql)
                .execute(target)
                .await
                .map_err(db("emptying the tenant's tables on the target"))?;
        }
        Ok(())
    }
}

/// The name of a move's publication, slot and subscription. Slots are
/// named cluster-wide: the source database's identity keeps two fleets on
/// one cluster apart.
async fn move_name(source: &PgPool, tenant: &TenantSchema) -> Result<String, Error> {
    let source = super::replica::identity(source).await?;
    Ok(object_name("move", &format!("{source}/{}", tenant.name())))
}

/// Drops a move's fence from the tenant's tables on the source.
async fn lift_fence(source: &PgPool, tenant: &TenantSchema) -> Result<(), Error> {
    let tables: Vec<(String,)> = query_as(
        "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_catalog.pg_trigger t
         JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid
         JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = $1 AND t.tgname = $2",
    )
    .bind(tenant.name())
    .bind(FENCE_TRIGGER)
    .fetch_all(source)
    .await
    .map_err(db("reading the fence's triggers"))?;
    let mut conn = source.acquire().await.map_err(db("connecting"))?;
    let mut tx = conn.begin().await.map_err(db("lifting the fence"))?;
    for (table,) in tables {
        let sql = format!(
            "DROP TRIGGER IF EXISTS {} ON {table}",
            strata_manifest::quote_ident(FENCE_TRIGGER)
        );
        query(&sql)
            .execute(&mut *tx)
            .await
            .map_err(db("lifting the fence"))?;
    }
    tx.commit().await.map_err(db("lifting the fence"))
}

/// Sets every sequence of the tenant's schema on the target to its value on
/// the source (the source refuses writes by now, so they no longer move).
async fn copy_sequences(
    source: &PgPool,
    target: &PgPool,
    tenant: &TenantSchema,
) -> Result<(), Error> {
    let rows: Vec<(String, i64)> = query_as(SEQUENCES)
        .bind(tenant.name())
        .fetch_all(source)
        .await
        .map_err(db("reading the tenant's sequences on the source"))?;
    for (sequence, value) in rows {
        query("SELECT pg_catalog.setval($1::regclass, $2, true)")
            .bind(&sequence)
            .bind(value)
            .execute(target)
            .await
            .map_err(db("setting the tenant's sequences on the target"))?;
    }
    Ok(())
}
