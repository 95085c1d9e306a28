//! The independent judges of "these two databases are the same": migra
//! (installed once, pinned, into a virtual environment under the target
//! directory, unless `MIGRA` names one) and a normalised `pg_dump
//! --schema-only`.

use std::process::Command;

/// migra, the independent judge of "these two databases are the same":
/// `MIGRA` if set, else the pinned set installed once into a virtual
/// environment under the target directory (PyPI is reachable where the
/// tests run; python3 is needed).
pub fn migra() -> std::path::PathBuf {
    if let Some(path) = std::env::var_os("MIGRA") {
        return path.into();
    }
    let target = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/migra-venv");
    let migra = target.join("bin/migra");
    if migra.is_file() {
        return migra;
    }
    let run = |program: &std::path::Path, args: &[&str]| {
        let status = Command::new(program)
            .args(args)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap_or_else(|e| {
                panic!(
                    "{} cannot run ({e}): install python3 with venv, or set MIGRA",
                    program.display()
                )
            });
        assert!(
            status.success(),
            "{} {args:?} failed: set MIGRA to a migra binary",
            program.display()
        );
    };
    // One install at a time in this process; a venv cannot be moved once
    // made (its scripts name their interpreter by path), so it is made in
    // place, and an interrupted install is completed by the next one.
    static INSTALL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    if !migra.is_file() {
        run(
            std::path::Path::new("python3"),
            &["-m", "venv", target.to_str().unwrap()],
        );
        run(
            &target.join("bin/pip"),
            &[
                "install",
                "-q",
                "migra==3.0.1663481299",
                "schemainspect==3.1.1663587362",
                "sqlbag==0.1.1617247075",
                "sqlalchemy>=1.4,<2",
                "psycopg2-binary",
            ],
        );
    }
    migra
}

/// What migra would change to turn `from` into `to` (empty when they are
/// the same), leaving out strata's own schema.
pub fn changes(from: &str, to: &str) -> String {
    try_changes(from, to).unwrap_or_else(|e| panic!("{e}"))
}

/// [`changes`], or why migra could not say.
pub fn try_changes(from: &str, to: &str) -> Result<String, String> {
    // SQLAlchemy knows the scheme as postgresql:// only.
    let sqlalchemy = |url: &str| match url.strip_prefix("postgres://") {
        Some(rest) => format!("postgresql://{rest}"),
        None => url.to_owned(),
    };
    let output = Command::new(migra())
        .args(["--unsafe", "--exclude_schema", "strata"])
        .arg(sqlalchemy(from))
        .arg(sqlalchemy(to))
        .output()
        .map_err(|e| format!("migra cannot run: {e}"))?;
    // migra exits 0 when the databases are the same, 2 when they differ.
    if !matches!(output.status.code(), Some(0 | 2)) {
        return Err(format!(
            "migra failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// `pg_dump --schema-only` of the database at `url`, normalised so that two
/// databases with the same schema give the same text: without comments,
/// `SET` lines, blank lines, strata's own schema and its event trigger.
/// The second judge beside migra, which skips ownership and privileges.
pub fn schema_dump(url: &str) -> String {
    let dump = try_schema_dump(url).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        dump.contains("CREATE TABLE"),
        "pg_dump wrote no table: {dump}"
    );
    dump
}

/// [`schema_dump`] of a database that may hold no table, or why `pg_dump`
/// could not make one.
pub fn try_schema_dump(url: &str) -> Result<String, String> {
    let bin = strata::testing::bin_dir().map_err(|e| e.to_string())?;
    let output = Command::new(bin.join("pg_dump"))
        .args([
            "--schema-only",
            "--no-tablespaces",
            "--exclude-schema",
            "strata",
            "--dbname",
            url,
        ])
        .output()
        .map_err(|e| format!("pg_dump cannot run: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "pg_dump failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let dump = String::from_utf8_lossy(&output.stdout).into_owned();
    Ok(dump
        .lines()
        .filter(|line| {
            let line = line.trim();
            !(line.is_empty()
                || line.starts_with("--")
                || line.starts_with("SET ")
                || line.starts_with("SELECT pg_catalog.set_config")
                || line.contains("strata_ddl")
                || line.contains("strata.log_ddl")
                || line.starts_with("\\restrict")
                || line.starts_with("\\unrestrict"))
        })
        .collect::<Vec<_>>()
        .join("\n"))
}

/// Whether the databases at `a` and `b` hold the same schema, as both
/// judges see it; else the first thing one judge finds: `migra finds: …`
/// or `pg_dump differs at: …`.
pub fn same(a: &str, b: &str) -> Result<(), String> {
    for (x, y) in [(a, b), (b, a)] {
        let found = try_changes(x, y)?;
        if !found.trim().is_empty() {
            return Err(format!("migra finds: {}", first_line(&found)));
        }
    }
    let (dump_a, dump_b) = (try_schema_dump(a)?, try_schema_dump(b)?);
    if dump_a != dump_b {
        let differs = dump_a
            .lines()
            .zip(dump_b.lines())
            .find(|(x, y)| x != y)
            .map_or_else(
                || {
                    // One is the other and more: name the first line more.
                    let (short, long) = match dump_a.len() < dump_b.len() {
                        true => (&dump_a, &dump_b),
                        false => (&dump_b, &dump_a),
                    };
                    let extra = long.lines().nth(short.lines().count()).unwrap_or_default();
                    format!("one dump has more, from: {}", extra.trim())
                },
                |(x, _)| x.trim().to_owned(),
            );
        return Err(format!("pg_dump differs at: {differs}"));
    }
    Ok(())
}

/// The first line of `text` that is neither blank nor a `--` comment (with
/// the line after, when it is a heading), cut to 200 characters: what a
/// report of many cases shows of each.
pub fn first_line(text: &str) -> String {
    let mut lines = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("--"));
    let mut line = lines.next().unwrap_or_default().to_owned();
    // A heading (`… drifted from the models:`) says little without its
    // first item, and a count (`3 differences`) less still.
    while line.ends_with(':') || line.ends_with("differences") || line.ends_with("difference") {
        match lines.next() {
            Some(next) => line = format!("{line} {next}"),
            None => break,
        }
    }
    line.chars().take(200).collect()
}

/// The two databases at `a` and `b` hold the same schema, as both judges
/// see it: migra finds nothing to change either way, and their normalised
/// schema dumps are equal.
pub fn assert_same(a: &str, b: &str) {
    assert_eq!(changes(a, b), "", "migra, {a} to {b}");
    assert_eq!(changes(b, a), "", "migra, {b} to {a}");
    assert_eq!(schema_dump(a), schema_dump(b), "pg_dump --schema-only");
}
