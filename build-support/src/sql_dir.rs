//! The folder of `Builder::sql_dir`: functions, procedures, triggers and sequences,
//! one object per `.sql` file, identified by strata's SQL lexer.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use strata_manifest::{split_statements, Routine, SchemaState, Sequence, Trigger};

use crate::error::{io, Error};

/// What the folder holds: each object with the file it came from.
#[derive(Debug, Default)]
pub(crate) struct SqlObjects {
    pub routines: Vec<(PathBuf, Routine)>,
    pub triggers: Vec<(PathBuf, Trigger)>,
    pub sequences: Vec<(PathBuf, Sequence)>,
    /// Every file read, for `cargo:rerun-if-changed`.
    pub files: Vec<PathBuf>,
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
                why: "sql_dir holds only `.sql` files, one function, procedure or trigger each; move this file out of it".to_owned(),
            });
        }
        let text = std::fs::read_to_string(&path).map_err(io(&path))?;
        let statements = split_statements(&text);
        let statement = match statements.as_slice() {
            [one] => one,
            [] => {
                return Err(Error::SqlFile {
                    path,
                    line: None,
                    why: "holds no statement; write one `CREATE FUNCTION`, `CREATE PROCEDURE` or `CREATE TRIGGER`, or delete the file".to_owned(),
                })
            }
            [_, second, ..] => {
                return Err(Error::SqlFile {
                    path,
                    line: Some(second.line),
                    why: format!(
                        "holds {} statements, and sql_dir takes one object per file: move statement {} (`{}`) to a file of its own",
                        statements.len(),
                        second.number,
                        first_words(second.sql)
                    ),
                })
            }
        };
        let fail = |why: String| Error::SqlFile {
            path: path.clone(),
            line: Some(statement.line),
            why,
        };
        match strata_manifest::identify(statement.sql).map_err(&fail)? {
            strata_manifest::SqlObject::Routine { .. } => {
                let routine = Routine::from_sql(statement.sql).map_err(&fail)?;
                check_name(&routine.schema).map_err(&fail)?;
                objects.routines.push((path.clone(), routine));
            }
            strata_manifest::SqlObject::Sequence { .. } => {
                let sequence = Sequence::from_sql(statement.sql).map_err(&fail)?;
                check_name(&sequence.schema).map_err(&fail)?;
                objects.sequences.push((path.clone(), sequence));
            }
            strata_manifest::SqlObject::Trigger { .. } => {
                let trigger = Trigger::from_sql(statement.sql).map_err(&fail)?;
                objects.triggers.push((path.clone(), trigger));
            }
        }
    }
    Ok(objects)
}

fn check_name(schema: &str) -> Result<(), String> {
    strata_manifest::validate_ident(schema).map_err(|e| format!("schema `{schema}`: {e}"))
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

/// Adds the objects to the desired state, refusing two files for one
/// object and a trigger on a table no model declares.
pub(crate) fn add_to(objects: SqlObjects, state: &mut SchemaState) -> Result<(), Error> {
    for (path, routine) in objects.routines {
        if let Some(other) = state.routines.iter().find(|r| r.same_object(&routine)) {
            return Err(Error::SqlFile {
                path,
                line: None,
                why: format!(
                    "{} {} is declared twice; the other file says:\n{}",
                    routine.keyword().to_lowercase(),
                    routine.signature(),
                    other.sql
                ),
            });
        }
        state.add_routine(routine);
    }
    for (path, sequence) in objects.sequences {
        if state
            .sequences
            .iter()
            .any(|s| s.schema == sequence.schema && s.name == sequence.name)
        {
            return Err(Error::SqlFile {
                path,
                line: None,
                why: format!(
                    "sequence {}.{} is declared twice",
                    sequence.schema, sequence.name
                ),
            });
        }
        if let Some(owner) = sequence.owned_by() {
            let parts: Vec<&str> = owner.split('.').collect();
            let found = match parts.as_slice() {
                [schema, table, column] => state
                    .table(schema, table)
                    .is_some_and(|t| t.column(column).is_some()),
                _ => false,
            };
            if !found {
                return Err(Error::SqlFile {
                    path,
                    line: None,
                    why: format!(
                        "sequence {}.{} is OWNED BY {owner}, which is no column of a model; own it by a model's column or say OWNED BY NONE",
                        sequence.schema, sequence.name
                    ),
                });
            }
        }
        state.add_sequence(sequence);
    }
    for (path, trigger) in objects.triggers {
        if state.triggers.iter().any(|t| {
            t.schema == trigger.schema && t.table == trigger.table && t.name == trigger.name
        }) {
            return Err(Error::SqlFile {
                path,
                line: None,
                why: format!("trigger {} is declared twice", trigger.full_name()),
            });
        }
        let on_model = state.table(&trigger.schema, &trigger.table).is_some()
            || state
                .views
                .iter()
                .any(|v| v.schema == trigger.schema && v.name == trigger.table);
        if !on_model {
            return Err(Error::SqlFile {
                path,
                line: None,
                why: format!(
                    "trigger {} is on {}.{}, which no model declares; put it on a model's table (after a move or rename, on the table's new name)",
                    trigger.name, trigger.schema, trigger.table
                ),
            });
        }
        state.add_trigger(trigger);
    }
    Ok(())
}
