//! The folder of `Builder::sql_dir`: one object per `.sql` file, of any
//! kind in strata-manifest's `SQL_FILE_KINDS` (functions, procedures,
//! sequences, domains, triggers, exclusion constraints), identified by
//! strata's SQL lexer. Nothing here names a kind.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use strata_manifest::{split_statements, SchemaState, SqlFileKind, SQL_FILE_KINDS};

use crate::error::{io, Error};

/// What the folder holds: each file's one statement, with its kind.
#[derive(Debug, Default)]
pub(crate) struct SqlObjects {
    statements: Vec<Taken>,
    /// Every file read, for `cargo:rerun-if-changed`.
    pub files: Vec<PathBuf>,
}

#[derive(Debug)]
struct Taken {
    kind: &'static SqlFileKind,
    path: PathBuf,
    line: usize,
    sql: String,
}

/// Reads every `.sql` file under `dir` (in path order), but those in
/// `skip` (the files views name with `sql_file`).
pub(crate) fn read(dir: &Path, skip: &BTreeSet<PathBuf>) -> Result<SqlObjects, Error> {
    let mut files = Vec::new();
    walk(dir, &mut files)?;
    files.sort();
    let mut objects = SqlObjects::default();
    for path in files {
        if skip.contains(&path) {
            continue;
        }
        objects.files.push(path.clone());
        if path.extension().and_then(|e| e.to_str()) != Some("sql") {
            return Err(Error::StrayFile {
                path,
                why: "sql_dir holds only `.sql` files, one object each; move this file out of it"
                    .to_owned(),
            });
        }
        let text = std::fs::read_to_string(&path).map_err(io(&path))?;
        let statements = split_statements(&text);
        if statements.is_empty() {
            return Err(Error::SqlFile {
                path,
                line: None,
                why: format!(
                    "holds no statement; write one {}, or delete the file",
                    opening_words()
                ),
            });
        }
        let mut kinds = Vec::new();
        for statement in &statements {
            let Some(kind) = strata_manifest::sql_files::kind_of(statement.sql) else {
                return Err(Error::SqlFile {
                    path,
                    line: Some(statement.line),
                    why: strata_manifest::sql_files::not_taken(statement.sql),
                });
            };
            kinds.push(kind);
        }
        // One object per file; a kind that says so (grants) may have
        // several statements of its own there.
        if let (Some(second), false) = (statements.get(1), kinds.iter().all(|k| k.several)) {
            return Err(Error::SqlFile {
                path,
                line: Some(second.line),
                why: format!(
                    "holds {} statements, and sql_dir takes one object per file: move statement {} (`{}`) to a file of its own",
                    statements.len(),
                    second.number,
                    first_words(second.sql)
                ),
            });
        }
        for (statement, kind) in statements.iter().zip(kinds) {
            objects.statements.push(Taken {
                kind,
                path: path.clone(),
                line: statement.line,
                sql: statement.sql.to_owned(),
            });
        }
    }
    Ok(objects)
}

/// `CREATE FUNCTION`, … or `ALTER TABLE`: what a file may open with.
fn opening_words() -> String {
    let opens: Vec<String> = SQL_FILE_KINDS
        .iter()
        .flat_map(|k| k.opens.iter())
        .map(|o| format!("`{}`", o.to_uppercase()))
        .collect();
    opens.join(", ")
}

fn first_words(sql: &str) -> String {
    let words: Vec<&str> = sql.split_whitespace().take(4).collect();
    format!("{} …", words.join(" "))
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let path = entry.map_err(io(dir))?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else {
            out.push(path);
        }
    }
    Ok(())
}

/// Adds the objects to the desired state, kind by kind in
/// `SQL_FILE_KINDS` order, each refusing what the state cannot take (two
/// files for one object, a trigger on a table no model declares).
pub(crate) fn add_to(objects: SqlObjects, state: &mut SchemaState) -> Result<(), Error> {
    for kind in SQL_FILE_KINDS {
        for taken in objects
            .statements
            .iter()
            .filter(|t| std::ptr::eq(t.kind, kind))
        {
            let sql = taken.sql.trim().trim_end_matches(';').trim_end();
            (kind.take)(sql, state).map_err(|why| Error::SqlFile {
                path: taken.path.clone(),
                line: Some(taken.line),
                why,
            })?;
        }
    }
    Ok(())
}
