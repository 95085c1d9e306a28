//! Finding PostgreSQL's server binaries on a machine we know nothing about.

use std::path::{Path, PathBuf};
use std::process::Command;

const HELP: &str = "no PostgreSQL server binaries (initdb and postgres) were found in PG_BIN, `pg_config --bindir`, PATH or /usr/lib/postgresql/*/bin.
help: install the PostgreSQL server (Debian/Ubuntu: `apt-get install postgresql`; Fedora: `dnf install postgresql-server`; macOS: `brew install postgresql`), or set PG_BIN to the directory that holds initdb and postgres, or set DATABASE_URL to an existing server";

/// The directory holding `initdb` and `postgres`.
pub(crate) fn find_bin_dir() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("PG_BIN") {
        let dir = PathBuf::from(dir);
        return if has_server(&dir) {
            Ok(dir)
        } else {
            Err(format!(
                "PG_BIN is {}, which holds no initdb and postgres\nhelp: point PG_BIN at the directory of PostgreSQL's server binaries",
                dir.display()
            ))
        };
    }
    candidates()
        .into_iter()
        .find(|dir| has_server(dir))
        .ok_or_else(|| HELP.to_owned())
}

fn candidates() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        if out.status.success() {
            dirs.push(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
        }
    }
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    // Debian and Ubuntu keep each major version apart; prefer the newest.
    let mut versioned: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .collect();
    versioned.sort_by_key(|(version, _)| std::cmp::Reverse(*version));
    dirs.extend(versioned.into_iter().map(|(_, dir)| dir));
    dirs.push(PathBuf::from("/usr/local/pgsql/bin"));
    dirs
}

fn has_server(dir: &Path) -> bool {
    dir.join("initdb").is_file() && dir.join("postgres").is_file()
}
