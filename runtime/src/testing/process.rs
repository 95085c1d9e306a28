//! Running helper servers (PostgreSQL, PgBouncer) for tests: as an
//! unprivileged user when we are root, in a directory of their own, and
//! stopped by a watchdog when our process ends.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{SystemTime, UNIX_EPOCH};

/// Who a server runs as: ourselves, or (as root) an unprivileged user.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RunAs {
    uid: u32,
    gid: u32,
}

impl RunAs {
    pub(crate) fn uid(&self) -> u32 {
        self.uid
    }

    pub(crate) fn gid(&self) -> u32 {
        self.gid
    }
}

/// A shell that outlives us: when our process is gone, it stops the server
/// and removes the cluster's directory.
pub(crate) fn spawn_watchdog(base: &Path, server_pid: u32) {
    // (SIGINT is a fast shutdown for PostgreSQL and a clean one for PgBouncer.)
    const SCRIPT: &str = r#"
while kill -0 "$1" 2>/dev/null; do sleep 0.5; done
kill -INT "$2" 2>/dev/null
i=0
while kill -0 "$2" 2>/dev/null && [ "$i" -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
kill -KILL "$2" 2>/dev/null
rm -rf "$3"
"#;
    let _ = Command::new("sh")
        .args(["-c", SCRIPT, "strata-pg-watchdog"])
        .arg(std::process::id().to_string())
        .arg(server_pid.to_string())
        .arg(base)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn();
}

pub(crate) fn as_user<'c>(command: &'c mut Command, run_as: &Option<RunAs>) -> &'c mut Command {
    if let Some(user) = run_as {
        command.uid(user.uid).gid(user.gid);
    }
    command
}

/// `None` when we are not root; as root, the user the server must run as.
pub(crate) fn run_as() -> Result<Option<RunAs>, String> {
    if id(&["-u"])? != 0 {
        return Ok(None);
    }
    let names = match std::env::var("STRATA_PG_USER") {
        Ok(name) => vec![name],
        Err(_) => vec!["postgres".to_owned(), "nobody".to_owned()],
    };
    for name in &names {
        if let (Ok(uid), Ok(gid)) = (id(&["-u", name]), id(&["-g", name])) {
            if uid != 0 {
                return Ok(Some(RunAs { uid, gid }));
            }
        }
    }
    Err(format!(
        "running as root, and PostgreSQL and PgBouncer refuse to run as root, but none of the users {} exists to run it as\nhelp: create one (`useradd postgres`) or name one in STRATA_PG_USER, or set DATABASE_URL",
        names.join(", ")
    ))
}

fn id(args: &[&str]) -> Result<u32, String> {
    let out = Command::new("id")
        .args(args)
        .output()
        .map_err(|e| format!("could not run `id`: {e}"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .map_err(|e| format!("`id {}` printed no number: {e}", args.join(" ")))
}

pub(crate) fn make_base_dir(run_as: &Option<RunAs>, prefix: &str) -> Result<PathBuf, String> {
    let mut parent = std::env::temp_dir();
    if run_as.is_some() && !world_searchable(&parent) {
        // The server's user must be able to reach its directory.
        parent = PathBuf::from("/tmp");
    }
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let base = parent.join(format!("{prefix}-{}-{nanos:x}", std::process::id()));
    std::fs::create_dir(&base).map_err(|e| format!("{}: {e}", base.display()))?;
    if let Some(user) = run_as {
        std::os::unix::fs::chown(&base, Some(user.uid), Some(user.gid))
            .map_err(|e| format!("{}: {e}", base.display()))?;
    }
    Ok(base)
}

fn world_searchable(dir: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(dir).is_ok_and(|m| m.permissions().mode() & 0o001 != 0)
}

pub(crate) fn free_port() -> Result<u16, String> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port on 127.0.0.1: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}
