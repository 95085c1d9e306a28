//! What a command reports, as text for people or JSON for scripts, and the
//! exit status that goes with it.

use std::fmt;

use serde::Serialize;

/// The exit status of a command that found differences (drift, pending
/// migrations, a failed tenant).
pub const DIFFERENCES: u8 = 2;

/// The exit status of a command that failed.
pub const ERROR: u8 = 1;

/// A command's report and whether it found differences.
#[derive(Debug)]
pub struct Outcome {
    pub report: Report,
    pub differences: bool,
}

impl Outcome {
    /// `report`, with differences unless `clean`.
    pub fn new(report: Report, clean: bool) -> Self {
        Outcome {
            report,
            differences: !clean,
        }
    }

    /// A report of something done, which has no differences to find.
    pub fn done(report: Report) -> Self {
        Outcome::new(report, true)
    }

    /// The exit status.
    pub fn status(&self) -> u8 {
        if self.differences {
            DIFFERENCES
        } else {
            0
        }
    }
}

/// What a command reports.
#[derive(Debug, Serialize)]
#[serde(tag = "report", rename_all = "snake_case")]
pub enum Report {
    Created {
        file: String,
    },
    Lint(crate::lint::LintReport),
    Status(strata::Status),
    Plan(strata::Plan),
    Migrated(strata::RunReport),
    RolledBack(strata::RollbackReport),
    Drift(strata::DriftAt),
    Baseline(strata::BaselineReport),
    Diff(crate::diff::DiffReport),
    Pulled(PullReport),
    Tenants(strata::TenantList),
    TenantsMigrated(strata::TenantsReport),
    TenantDrift(strata::TenantDrift),
    TenantsBaseline(strata::TenantBaselineReport),
    TenantsStatus(strata::FleetStatus),
    Graph(strata_tools::graph::Graph),
    TenantsRolledBack(strata::TenantsReport),
    TenantDropped {
        tenant: String,
    },
    TenantArchived(strata::ArchivedTenant),
    TenantRestored(strata::TenantsReport),
    Placement {
        servers: Vec<strata::Server>,
        placement: Vec<strata::Placement>,
    },
    Moved {
        moves: Vec<strata::MoveReport>,
    },
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Report::Created { file } => {
                writeln!(f, "created {file}: write its SQL, then build")
            }
            Report::Status(status) => write!(f, "{status}"),
            Report::Plan(plan) => write!(f, "{plan}"),
            Report::Migrated(report) => {
                for m in &report.applied {
                    writeln!(
                        f,
                        "applied {:04} {} in {} ms",
                        m.version,
                        m.name,
                        m.duration.as_millis()
                    )?;
                }
                writeln!(
                    f,
                    "{} applied, {} already applied",
                    report.applied.len(),
                    report.already_applied
                )?;
                for file in &report.in_progress {
                    writeln!(
                        f,
                        "in progress elsewhere: {file}: another process is applying it; the migrations after it and the drift check wait for it: run again once it is done"
                    )?;
                }
                for partition in &report.partitions_made {
                    writeln!(f, "made partition {partition}")?;
                }
                for partition in &report.partitions_dropped {
                    writeln!(f, "dropped partition {partition} (confirmed)")?;
                }
                for partition in &report.partitions_unconfirmed {
                    writeln!(
                        f,
                        "kept partition {partition}: past partitions_kept; drop it with --confirm {partition}"
                    )?;
                }
                writeln!(f, "drift: {}", report.drift)
            }
            Report::RolledBack(report) => {
                for m in &report.reverted {
                    writeln!(f, "reverted {:04} {}", m.version, m.name)?;
                }
                writeln!(f, "{} reverted", report.reverted.len())?;
                writeln!(f, "drift: {}", report.drift)
            }
            Report::Drift(drift) => writeln!(f, "drift: {drift}"),
            Report::Diff(report) => write!(f, "{report}"),
            Report::Lint(report) => {
                for finding in &report.findings {
                    writeln!(
                        f,
                        "{}:{}:{}: {}: {}: {}",
                        finding.file,
                        finding.line,
                        finding.column,
                        if finding.error { "error" } else { "warning" },
                        finding.rule,
                        finding.message
                    )?;
                    if let Some(help) = &finding.help {
                        writeln!(f, "  help: {help}")?;
                    }
                }
                let errors = report.findings.iter().filter(|f| f.error).count();
                let count = |n: usize, what: &str| match n {
                    1 => format!("1 {what}"),
                    n => format!("{n} {what}s"),
                };
                writeln!(
                    f,
                    "{} linted: {}, {}",
                    count(report.files, "file"),
                    count(errors, "error"),
                    count(report.findings.len() - errors, "warning")
                )
            }
            Report::Pulled(report) => {
                for file in &report.files {
                    writeln!(f, "wrote {file}")?;
                }
                if let Some(tenants) = &report.tenants {
                    writeln!(
                        f,
                        "tenant schemas: {} under the prefix {} ({}), pulled as #[strata::schema(tenant)] models in src/models/tenant.rs; migrate them with Tenants::new(&TENANT_MIGRATIONS).prefix({:?})",
                        tenants.schemas.len(),
                        tenants.prefix,
                        tenants.schemas.join(", "),
                        tenants.prefix
                    )?;
                }
                if !report.wrote_build_script {
                    writeln!(
                        f,
                        "the crate has a build.rs already: make its Builder do what this one does\n{}",
                        report.build_script
                    )?;
                }
                if report.not_expressed.is_empty() {
                    return writeln!(f, "every object is in the models");
                }
                writeln!(
                    f,
                    "not in the models ({}): write a migration for each by hand, or leave it unmanaged",
                    report.not_expressed.len()
                )?;
                for object in &report.not_expressed {
                    writeln!(f, "  - {object}")?;
                }
                Ok(())
            }
            Report::Baseline(report) => {
                for m in &report.recorded {
                    writeln!(f, "recorded {:04} {} as applied", m.version, m.name)?;
                }
                writeln!(
                    f,
                    "scope {}: {} migration(s) recorded, none run; drift: {}",
                    report.scope,
                    report.recorded.len(),
                    report.drift
                )
            }
            Report::Tenants(list) => {
                for tenant in &list.tenants {
                    writeln!(f, "{}\t{tenant}", tenant.id())?;
                }
                for invalid in &list.invalid {
                    writeln!(f, "{invalid}")?;
                }
                writeln!(f, "{} tenants", list.tenants.len())?;
                if !list.invalid.is_empty() {
                    writeln!(
                        f,
                        "{} registry row(s) name no tenant schema: correct or delete them",
                        list.invalid.len()
                    )?;
                }
                Ok(())
            }
            Report::TenantsMigrated(report) | Report::TenantsRolledBack(report) => {
                writeln!(f, "{report}")
            }
            Report::TenantsStatus(status) => write!(f, "{status}"),
            Report::Graph(graph) => write!(f, "{}", graph.text),
            Report::TenantDropped { tenant } => {
                writeln!(
                    f,
                    "dropped {tenant}: its schema, its history and its registry row"
                )
            }
            Report::TenantArchived(archived) => writeln!(
                f,
                "archived {} into schema {}: restore it with `strata tenants restore {}`",
                archived.tenant, archived.archived_as, archived.id
            ),
            Report::TenantRestored(report) => writeln!(f, "restored; {report}"),
            Report::Placement { servers, placement } => {
                if servers.is_empty() {
                    writeln!(f, "the fleet has no server: add one with --server NAME=URL")?;
                }
                for server in servers {
                    writeln!(
                        f,
                        "server {}: {} tenant(s), {}",
                        server.name, server.tenants, server.url
                    )?;
                }
                for placed in placement {
                    match &placed.moving_to {
                        Some(to) => {
                            writeln!(f, "{} on {} (moving to {to})", placed.tenant, placed.server)?
                        }
                        None => writeln!(f, "{} on {}", placed.tenant, placed.server)?,
                    }
                }
                Ok(())
            }
            Report::Moved { moves } => {
                if moves.is_empty() {
                    writeln!(f, "the fleet is balanced: nothing moved")?;
                }
                for moved in moves {
                    writeln!(f, "{moved}")?;
                }
                Ok(())
            }
            Report::TenantDrift(drift) => writeln!(f, "tenant drift: {drift}"),
            Report::TenantsBaseline(report) => {
                writeln!(
                    f,
                    "{} tenant(s) recorded at tenant migration {}, none run",
                    report.tenants.len(),
                    report.recorded.last().map_or(0, |m| m.version)
                )?;
                for invalid in &report.invalid {
                    writeln!(f, "left out: {invalid}")?;
                }
                Ok(())
            }
        }
    }
}

/// What `pull` wrote, and what it could not put in the models.
#[derive(Debug, Serialize)]
pub struct PullReport {
    pub files: Vec<String>,
    /// The tenant schemas recognised: prefix and schemas.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenants: Option<PulledTenants>,
    pub wrote_build_script: bool,
    pub build_script: String,
    pub not_expressed: Vec<String>,
}

/// Tenant schemas `pull` recognised.
#[derive(Debug, Serialize)]
pub struct PulledTenants {
    pub prefix: String,
    pub schemas: Vec<String>,
    pub differing: Vec<String>,
}

impl From<strata_tools::pull::Pulled> for PullReport {
    fn from(pulled: strata_tools::pull::Pulled) -> Self {
        PullReport {
            files: pulled
                .files
                .iter()
                .map(|f| f.display().to_string())
                .collect(),
            tenants: pulled.tenants.map(|t| PulledTenants {
                prefix: t.prefix,
                schemas: t.schemas,
                differing: t.differing,
            }),
            wrote_build_script: pulled.wrote_build_script,
            build_script: pulled.build.build_script(),
            not_expressed: pulled.not_expressed,
        }
    }
}

/// Prints `outcome` as text or JSON.
pub fn print(outcome: &Outcome, json: bool) {
    if json {
        match serde_json::to_string_pretty(&outcome.report) {
            Ok(text) => println!("{text}"),
            Err(e) => eprintln!("error: the report could not be written as JSON: {e}"),
        }
    } else {
        print!("{}", outcome.report);
    }
}

/// Prints an error: to standard error as text, and as JSON on standard
/// output too when `json`, so a script reading it always gets a document.
pub fn print_error(error: &anyhow::Error, json: bool) {
    // The library's errors name its calls in their help; here, the flags.
    let message = match error.downcast_ref::<strata::Error>() {
        Some(own) if error.chain().count() == 1 => own.in_terms_of(strata::Caller::CommandLine),
        _ => chain(error),
    };
    if json {
        println!(
            "{}",
            serde_json::json!({ "report": "error", "error": message })
        );
    }
    eprintln!("error: {message}");
}

/// The error and its causes, each said once: a cause whose text the
/// message already holds (sqlx's database errors repeat their source) is
/// left out.
pub fn chain(error: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if message.contains(&text) {
            continue;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&text);
    }
    message
}
