//! Installing a missing server package, the way `.ci/run` does, so that the
//! README's test command works on a fresh machine: only as root, only with
//! apt-get, and one install at a time in the process.

use std::process::{Command, Stdio};
use std::sync::Mutex;

static APT: Mutex<()> = Mutex::new(());

/// Installs a Debian package with apt-get (updating the package lists if it
/// is not found at first). An error says what to do by hand.
pub(crate) fn apt_install(package: &str) -> Result<(), String> {
    let _one_at_a_time = APT.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let apt = Command::new("apt-get")
        .arg("--version")
        .stdout(Stdio::null())
        .status();
    if !root || !apt.is_ok_and(|s| s.success()) {
        return Err(format!(
            "{package} is not installed, and it can be installed automatically only as root with apt-get\nhelp: install {package} with your package manager"
        ));
    }
    eprintln!("strata testing: installing {package} with apt-get");
    let install = || {
        Command::new("apt-get")
            .args(["install", "-y", "-qq", "--no-install-recommends", package])
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if install() {
        return Ok(());
    }
    let _ = Command::new("apt-get")
        .args(["update", "-qq"])
        .stdout(Stdio::null())
        .status();
    if install() {
        Ok(())
    } else {
        Err(format!(
            "apt-get could not install {package}\nhelp: install {package} by hand"
        ))
    }
}
