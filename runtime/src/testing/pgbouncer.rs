//! A throwaway PgBouncer in transaction pooling mode, in front of a test server.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

use sqlx::postgres::PgConnectOptions;

use super::process::{as_user, free_port, make_base_dir, run_as, spawn_watchdog};
use crate::Error;

const HELP: &str = "help: install PgBouncer (Debian/Ubuntu: `apt-get install pgbouncer`), or set PGBOUNCER to its binary";

/// PgBouncer with `pool_mode = transaction` and two server connections per
/// database, so that clients really do share them, in front of the server
/// of a PostgreSQL URL. Stopped and removed when dropped, or when the
/// process that started it ends.
#[derive(Debug)]
pub struct PgBouncer {
    base: PathBuf,
    port: u16,
    user: String,
    process: Child,
}

impl PgBouncer {
    /// Starts PgBouncer in front of the server `server_url` points at.
    pub fn start(server_url: &str) -> Result<PgBouncer, Error> {
        start(server_url).map_err(Error::TestCluster)
    }

    /// The URL of database `name` through PgBouncer.
    pub fn database_url(&self, name: &str) -> String {
        format!("postgres://{}@127.0.0.1:{}/{name}", self.user, self.port)
    }

    /// The port PgBouncer listens on.
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-INT", &self.process.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.process.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.process.kill();
        let _ = self.process.wait();
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

fn find_binary() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("PGBOUNCER") {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!(
                "PGBOUNCER is {}, which is not a file\n{HELP}",
                path.display()
            ))
        };
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/sbin")])
        .map(|dir| dir.join("pgbouncer"))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| {
            format!("no pgbouncer binary was found in PGBOUNCER, PATH or /usr/sbin\n{HELP}")
        })
}

fn start(server_url: &str) -> Result<PgBouncer, String> {
    let binary = match find_binary() {
        Ok(binary) => binary,
        // Not there on a fresh machine: install it as .ci/run would (as root, with apt-get).
        Err(missing) if std::env::var_os("PGBOUNCER").is_none() => {
            super::install::apt_install("pgbouncer").map_err(|e| format!("{missing}\n{e}"))?;
            find_binary()?
        }
        Err(missing) => return Err(missing),
    };
    let server =
        PgConnectOptions::from_str(server_url).map_err(|e| format!("{server_url}: {e}"))?;
    let user = server.get_username().to_owned();
    let run_as = run_as()?;
    let base = make_base_dir(&run_as, "strata-pgbouncer")?;
    let port = free_port()?;
    let config = format!(
        "[databases]\n\
         * = host={host} port={server_port}\n\
         [pgbouncer]\n\
         listen_addr = 127.0.0.1\n\
         listen_port = {port}\n\
         unix_socket_dir =\n\
         auth_type = trust\n\
         auth_file = {base}/userlist.txt\n\
         pool_mode = transaction\n\
         default_pool_size = 2\n\
         max_client_conn = 500\n\
         ignore_startup_parameters = extra_float_digits,options\n\
         logfile = {base}/pgbouncer.log\n",
        host = server.get_host(),
        server_port = server.get_port(),
        base = base.display(),
    );
    let write = |name: &str, text: &str| {
        let path = base.join(name);
        std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        // Readable by the unprivileged user PgBouncer runs as.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))
            .map_err(|e| format!("{}: {e}", path.display()))
    };
    write("pgbouncer.ini", &config)?;
    write("userlist.txt", &format!("\"{user}\" \"\"\n"))?;

    let mut command = Command::new(&binary);
    command
        .arg(base.join("pgbouncer.ini"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    let mut process = as_user(&mut command, &run_as)
        .spawn()
        .map_err(|e| format!("could not run {}: {e}\n{HELP}", binary.display()))?;
    spawn_watchdog(&base, process.id());

    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = process.try_wait() {
            return Err(format!(
                "PgBouncer exited ({status}) while starting:\n{}",
                log(&base)
            ));
        }
        if Instant::now() > deadline {
            let _ = process.kill();
            return Err(format!(
                "PgBouncer did not listen within 20 s:\n{}",
                log(&base)
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(PgBouncer {
        base,
        port,
        user,
        process,
    })
}

fn log(base: &Path) -> String {
    std::fs::read_to_string(base.join("pgbouncer.log")).unwrap_or_default()
}
