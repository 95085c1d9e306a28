//! `strata lint`: the migrations and `sql_dir` files, judged by squawk's
//! linter (the `squawk-linter` crate) with its rules tuned to what strata's
//! runtime already guarantees.
//!
//! The locks that stop a live table's writes are errors: a file that means
//! them (a quiet table, a maintenance window) says so in a comment before
//! its first statement, `-- strata:locks-confirmed`, and they become
//! warnings. A statement strata generated with squawk's ignore comment
//! (`-- squawk-ignore …`, see `strata_manifest::lint`) is not reported,
//! and a file strata generated is judged on its locks alone.
//!
//! The linter lives here, not in `strata-build`: it needs Rust 1.94, and
//! the build script is compiled by every user's crate, which strata asks
//! for Rust 1.80 only.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Serialize;
use squawk_linter::{Linter, Rule};

/// The comment that confirms a file's locks.
pub const LOCKS_CONFIRMED: &str = "-- strata:locks-confirmed";

/// The rules about locks that stop a table's reads or writes: errors
/// unless the file confirms them.
const LOCK_RULES: &[Rule] = &[
    Rule::RequireConcurrentIndexCreation,
    Rule::RequireConcurrentIndexDeletion,
    Rule::RequireConcurrentReindex,
    Rule::RequireConcurrentPartitionDetach,
    Rule::ConstraintMissingNotValid,
    Rule::AddingForeignKeyConstraint,
    Rule::ChangingColumnType,
    Rule::AddingFieldWithDefault,
    Rule::AddingNotNullableField,
    Rule::AddingSerialPrimaryKeyField,
    Rule::DisallowedUniqueConstraint,
    Rule::BanAlterDomainWithAddConstraint,
];

/// Rules that are always errors: what the runtime cannot run at all (a
/// concurrent build in a transaction, a transaction of the file's own
/// inside strata's).
const BROKEN_RULES: &[Rule] = &[
    Rule::BanConcurrentIndexCreationInTransaction,
    Rule::TransactionNesting,
    Rule::BanUncommittedTransaction,
];

/// Rules left out, since the runtime answers for them: it runs each
/// migration in a transaction (or resumes a no-transaction one), and sets
/// `lock_timeout` itself; a `statement_timeout` would cut a concurrent
/// build short.
const LEFT_OUT: &[Rule] = &[
    Rule::RequireTimeoutSettings,
    Rule::RequireLockTimeout,
    Rule::RequireStatementTimeout,
    Rule::PreferRobustStmts,
];

/// One finding.
#[derive(Debug, Serialize)]
pub struct Finding {
    /// The file, as given.
    pub file: String,
    /// Line and column, from 1.
    pub line: usize,
    pub column: usize,
    /// squawk's name for the rule.
    pub rule: String,
    /// An error fails `strata lint`; a warning does not.
    pub error: bool,
    pub message: String,
    /// What to do instead, when squawk says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
}

/// What `strata lint` read and found.
#[derive(Debug, Serialize)]
pub struct LintReport {
    /// The files read.
    pub files: usize,
    pub findings: Vec<Finding>,
}

impl LintReport {
    /// True when no finding is an error.
    pub fn passes(&self) -> bool {
        self.findings.iter().all(|f| !f.error)
    }
}

/// Lints every migration in `migrations` (and its `tenant` folder), down
/// files aside, and every `.sql` file under `sql_dir`.
pub fn lint(migrations: &Path, sql_dir: Option<&Path>) -> anyhow::Result<LintReport> {
    let mut files = Vec::new();
    for folder in [migrations.to_path_buf(), migrations.join("tenant")] {
        files.extend(sql_files(&folder, false)?);
    }
    if let Some(dir) = sql_dir {
        files.extend(sql_files(dir, true)?);
    }
    if files.is_empty() {
        anyhow::bail!(
            "no .sql file in {}{}: give --migrations (and --sql-dir) the folders of the crate's migrations and SQL objects",
            migrations.display(),
            sql_dir.map_or(String::new(), |d| format!(" or {}", d.display()))
        );
    }
    files.sort();
    let mut findings = Vec::new();
    for file in &files {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        findings.extend(lint_text(&file.display().to_string(), &text));
    }
    Ok(LintReport {
        files: files.len(),
        findings,
    })
}

/// The `.sql` files in `dir`, down files aside; with `deep`, in its
/// subfolders too. A folder that does not exist has none.
fn sql_files(dir: &Path, deep: bool) -> anyhow::Result<Vec<PathBuf>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for entry in entries {
        let path = entry
            .with_context(|| format!("reading {}", dir.display()))?
            .path();
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if path.is_dir() {
            if deep {
                out.extend(sql_files(&path, true)?);
            }
        } else if name.ends_with(".sql") && !name.ends_with(".down.sql") {
            out.push(path);
        }
    }
    Ok(out)
}

/// The findings in one file's `text`, named `file`. A tenant migration's
/// steps after its `-- strata:after-transaction` line run outside a
/// transaction, and are judged so.
pub fn lint_text(file: &str, text: &str) -> Vec<Finding> {
    let (head, tail) = strata_manifest::after_transaction(text);
    let mut findings = lint_part(file, head, text, false);
    if let Some(tail) = tail {
        let lines = head.matches('\n').count();
        findings.extend(lint_part(file, tail, text, true).into_iter().map(|mut f| {
            f.line += lines;
            f
        }));
    }
    findings
}

/// The findings in `text`, a part of `whole` (whose leading comments mark
/// it), `outside` a transaction if so.
fn lint_part(file: &str, text: &str, whole: &str, outside: bool) -> Vec<Finding> {
    let markers: Vec<String> = strata_manifest::lexer::leading_trivia(whole)
        .iter()
        .filter(|t| t.kind == strata_manifest::lexer::TokenKind::Comment)
        .map(|t| t.text.trim().to_owned())
        .collect();
    // A marker, alone or followed by its reason: `-- strata:locks-confirmed: a new table`.
    let marked = |marker: &str| {
        markers.iter().any(|m| {
            m.strip_prefix(marker)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with([':', ' ']))
        })
    };
    let confirmed = marked(LOCKS_CONFIRMED);
    // A file strata generated is judged on its locks alone: its types and
    // names are the models', chosen there.
    let generated = whole.contains("\n-- Generated from the models by strata.");
    let mut linter = match generated {
        true => Linter::from(LOCK_RULES.iter().chain(BROKEN_RULES).copied()),
        false => Linter::with_rules(&[], LEFT_OUT),
    };
    linter.settings.assume_in_transaction = !(outside || marked(strata::NO_TRANSACTION));
    let parsed = squawk_syntax::SourceFile::parse(text);
    let mut findings: Vec<Finding> = linter
        .lint(&parsed, text)
        .into_iter()
        .map(|violation| {
            let at = usize::from(violation.text_range.start()).min(text.len());
            let before = text.get(..at).unwrap_or_default();
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().unwrap_or_default().chars().count() + 1;
            let lock = LOCK_RULES.contains(&violation.code);
            let mut help = violation.help;
            if lock && !confirmed {
                let confirm = format!(
                    "if the table is new, small or quiet, open the file with `{LOCKS_CONFIRMED}` to confirm its locks"
                );
                help = Some(match help {
                    Some(h) => format!("{} Or, {confirm}.", h.trim_end_matches('.').to_owned() + "."),
                    None => format!("If {}.", confirm.trim_start_matches("if ")),
                });
            }
            Finding {
                file: file.to_owned(),
                line,
                column,
                rule: violation.code.to_string(),
                error: (lock && !confirmed) || BROKEN_RULES.contains(&violation.code),
                message: violation.message,
                help,
            }
        })
        .collect();
    // squawk reports a concurrent build in a transaction only in a file of
    // two statements or more; strata runs a one-statement file in a
    // transaction too, where PostgreSQL refuses it.
    const IN_TRANSACTION: &str = "ban-concurrent-index-creation-in-transaction";
    if linter.settings.assume_in_transaction && !findings.iter().any(|f| f.rule == IN_TRANSACTION) {
        if let Some(at) = concurrently_at(text) {
            let before = text.get(..at).unwrap_or_default();
            findings.push(Finding {
                file: file.to_owned(),
                line: before.matches('\n').count() + 1,
                column: before.rsplit('\n').next().unwrap_or_default().chars().count() + 1,
                rule: IN_TRANSACTION.to_owned(),
                error: true,
                message: "strata runs this file in a transaction, where PostgreSQL refuses `CONCURRENTLY`".to_owned(),
                help: Some(format!(
                    "open the file with `{}`, alone in a migration of its own",
                    strata::NO_TRANSACTION
                )),
            });
        }
    }
    findings.sort_by_key(|f| (f.line, f.column));
    findings
}

/// Where the first `CONCURRENTLY` of an index statement stands, if any.
fn concurrently_at(text: &str) -> Option<usize> {
    let words: Vec<_> = strata_manifest::lexer::significant(text)
        .into_iter()
        .filter(|t| t.kind == strata_manifest::lexer::TokenKind::Word || t.is_punct(";"))
        .collect();
    let mut statement_start = true;
    let mut index_statement = false;
    let mut ends = strata_manifest::lexer::StatementEnds::default();
    for token in words {
        if ends.ends_at(&token) {
            statement_start = true;
            index_statement = false;
            continue;
        }
        if statement_start {
            index_statement =
                token.is_word("CREATE") || token.is_word("DROP") || token.is_word("REINDEX");
            statement_start = false;
        }
        if index_statement && token.is_word("CONCURRENTLY") {
            return Some(token.start);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_is_an_error_until_the_file_confirms_it() {
        let sql = "CREATE INDEX orders_status ON shop.orders (status);\n";
        let found = lint_text("m.sql", sql);
        let index = found
            .iter()
            .find(|f| f.rule == "require-concurrent-index-creation")
            .unwrap_or_else(|| panic!("{found:?}"));
        assert!(index.error, "{index:?}");
        assert_eq!((index.line, index.column), (1, 1));
        assert!(index
            .help
            .as_deref()
            .is_some_and(|h| h.contains("-- strata:locks-confirmed")));

        let confirmed = format!("{LOCKS_CONFIRMED}: the table is new\n{sql}");
        let found = lint_text("m.sql", &confirmed);
        assert!(found
            .iter()
            .any(|f| f.rule == "require-concurrent-index-creation" && !f.error));
    }

    #[test]
    fn what_the_runtime_guarantees_is_not_reported_and_what_it_cannot_run_is_an_error() {
        // A transaction and lock_timeout are the runtime's: no timeout or
        // IF NOT EXISTS finding.
        let found = lint_text(
            "m.sql",
            "ALTER TABLE shop.orders ADD CONSTRAINT positive CHECK (cents > 0) NOT VALID;\n",
        );
        assert_eq!(
            found.iter().map(|f| f.rule.as_str()).collect::<Vec<_>>(),
            Vec::<&str>::new()
        );
        // A concurrent build in a file that runs in a transaction fails.
        let concurrently = "CREATE INDEX CONCURRENTLY i ON shop.orders (status);\n";
        let found = lint_text("m.sql", concurrently);
        assert!(
            found
                .iter()
                .any(|f| f.rule == "ban-concurrent-index-creation-in-transaction" && f.error),
            "{found:?}"
        );
        // Unless the file runs outside one.
        let outside = format!("{}\n{concurrently}", strata::NO_TRANSACTION);
        assert!(lint_text("m.sql", &outside).is_empty());
        // Or it stands after a tenant migration's transaction, where a
        // build in place would still be a lock finding, on its own line.
        let tenant = format!(
            "ALTER TABLE shop.orders ADD COLUMN note text;\n{}\n{concurrently}CREATE INDEX j ON shop.orders (note);\n",
            strata_manifest::AFTER_TRANSACTION
        );
        let found = lint_text("m.sql", &tenant);
        assert_eq!(
            found
                .iter()
                .map(|f| (f.rule.as_str(), f.line))
                .collect::<Vec<_>>(),
            [("require-concurrent-index-creation", 4)],
            "{found:?}"
        );
    }

    #[test]
    fn a_statement_strata_marked_is_not_reported() {
        let sql = "-- squawk-ignore changing-column-type -- varchar(40) to text changes only the catalog\nALTER TABLE shop.c ALTER COLUMN email TYPE text;\n";
        assert!(
            lint_text("m.sql", sql).is_empty(),
            "{:?}",
            lint_text("m.sql", sql)
        );
    }
}
