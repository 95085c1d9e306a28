//! One throwaway PostgreSQL cluster: initdb, start, stop, remove.

use std::fs::File;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::binaries::find_bin_dir;
use crate::Error;

/// The superuser of a throwaway cluster.
const SUPERUSER: &str = "strata";
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A PostgreSQL cluster in a temporary directory, listening on 127.0.0.1.
/// Stopped and removed when dropped, and in any case when the process that
/// started it ends, even by a signal: a small watchdog process sees to that.
#[derive(Debug)]
pub struct Cluster {
    base: PathBuf,
    port: u16,
    server: Child,
}

/// Who the server runs as: ourselves, or (as root) an unprivileged user.
struct RunAs {
    uid: u32,
    gid: u32,
}

impl Cluster {
    /// Runs `initdb` and starts the server; waits until it accepts connections.
    pub fn start() -> Result<Cluster, Error> {
        start().map_err(Error::TestCluster)
    }

    /// The superuser's URL for the `postgres` database.
    pub fn url(&self) -> String {
        self.database_url("postgres")
    }

    /// The superuser's URL for database `name`.
    pub fn database_url(&self, name: &str) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/{name}", self.port)
    }

    /// The TCP port the server listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The directory holding the data directory, the socket and the server log.
    pub fn dir(&self) -> &Path {
        &self.base
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // SIGINT is PostgreSQL's fast shutdown: it rolls back open sessions and exits.
        let _ = Command::new("kill")
            .args(["-INT", &self.server.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.server.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.server.kill();
        let _ = self.server.wait();
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

fn start() -> Result<Cluster, String> {
    let bin = find_bin_dir()?;
    let run_as = run_as()?;
    let base = make_base_dir(&run_as)?;
    let data = base.join("data");

    let mut initdb = Command::new(bin.join("initdb"));
    initdb.arg("-D").arg(&data).args([
        "-U",
        SUPERUSER,
        "-A",
        "trust",
        "-E",
        "UTF8",
        "--locale=C",
        "-N",
    ]);
    let out = as_user(&mut initdb, &run_as)
        .output()
        .map_err(|e| format!("could not run {}: {e}", bin.join("initdb").display()))?;
    if !out.status.success() {
        let _ = std::fs::remove_dir_all(&base);
        return Err(format!(
            "initdb failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }

    // A port can be taken between our probe and the server's bind; try a few.
    let mut last_error = String::new();
    for _ in 0..5 {
        let port = free_port()?;
        match start_server(&bin, &base, port, &run_as) {
            Ok(server) => {
                spawn_watchdog(&base, server.id());
                return Ok(Cluster { base, port, server });
            }
            Err(error) => last_error = error,
        }
    }
    let _ = std::fs::remove_dir_all(&base);
    Err(last_error)
}

fn start_server(
    bin: &Path,
    base: &Path,
    port: u16,
    run_as: &Option<RunAs>,
) -> Result<Child, String> {
    let log_path = base.join("postgres.log");
    let log = File::create(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
    let mut command = Command::new(bin.join("postgres"));
    command
        .arg("-D")
        .arg(base.join("data"))
        .args(["-p", &port.to_string(), "-k"])
        .arg(base)
        .args([
            "-c",
            "listen_addresses=127.0.0.1",
            // A throwaway cluster needs no durability; tests get faster.
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "max_connections=200",
        ])
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| e.to_string())?)
        .stderr(log)
        // Its own process group: a Ctrl-C meant for the tests does not reach it
        // before the watchdog has a chance to stop it cleanly.
        .process_group(0);
    let mut server = as_user(&mut command, run_as)
        .spawn()
        .map_err(|e| format!("could not run {}: {e}", bin.join("postgres").display()))?;

    let pid_file = base.join("data").join("postmaster.pid");
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Ok(Some(status)) = server.try_wait() {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            return Err(format!(
                "the PostgreSQL server exited ({status}) while starting:\n{log}"
            ));
        }
        // The last line of postmaster.pid turns to "ready" once connections are accepted.
        let ready = std::fs::read_to_string(&pid_file)
            .map(|text| text.lines().any(|l| l.trim() == "ready"))
            .unwrap_or(false);
        if ready {
            return Ok(server);
        }
        if Instant::now() > deadline {
            let _ = server.kill();
            let _ = server.wait();
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            return Err(format!(
                "the PostgreSQL server did not become ready within {START_TIMEOUT:?}:\n{log}"
            ));
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// A shell that outlives us: when our process is gone, it stops the server
/// and removes the cluster's directory.
fn spawn_watchdog(base: &Path, server_pid: u32) {
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

fn as_user<'c>(command: &'c mut Command, run_as: &Option<RunAs>) -> &'c mut Command {
    if let Some(user) = run_as {
        command.uid(user.uid).gid(user.gid);
    }
    command
}

/// `None` when we are not root; as root, the user the server must run as.
fn run_as() -> Result<Option<RunAs>, String> {
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
        "running as root, and PostgreSQL refuses to run as root, but none of the users {} exists to run it as\nhelp: create one (`useradd postgres`) or name one in STRATA_PG_USER, or set DATABASE_URL",
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

fn make_base_dir(run_as: &Option<RunAs>) -> Result<PathBuf, String> {
    let mut parent = std::env::temp_dir();
    if run_as.is_some() && !world_searchable(&parent) {
        // The server's user must be able to reach its directory.
        parent = PathBuf::from("/tmp");
    }
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let base = parent.join(format!("strata-pg-{}-{nanos:x}", std::process::id()));
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

fn free_port() -> Result<u16, String> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port on 127.0.0.1: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}
