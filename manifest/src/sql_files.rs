//! The kinds of object a file of `Builder::sql_dir` holds, one per file:
//! what each kind supplies to the build (recognising its statement, taking
//! it into the state), to `strata pull` (the file it writes back) and to
//! the health report (what it lists). Each kind declares a
//! [`SqlFileKind`] in its own module; [`SQL_FILE_KINDS`] lists them, and
//! the build, pull and health read that list and name no kind.

use crate::lexer::significant;
use crate::SchemaState;

pub use crate::kinds::SQL_FILE_KINDS;

/// Which schemas' objects to keep, by name.
pub type Keep<'k> = dyn Fn(&str) -> bool + 'k;

/// One kind of `sql_dir` object.
pub struct SqlFileKind {
    /// What one is called in messages: `sequence`.
    pub noun: &'static str,
    /// The words its statement opens with, each way it may be written
    /// (`create constraint trigger`), `or replace` after `create` left
    /// out; matched in any case, by the lexer's words.
    pub opens: &'static [&'static str],
    /// A file may hold several of its statements, taken in order (the
    /// `GRANT`s and `REVOKE`s on one object); else one per file.
    pub several: bool,
    /// Reads the statement (without its semicolon) into `state`, or says
    /// why it cannot: not what the kind takes, declared twice, on no
    /// model's table. Kinds are taken in [`SQL_FILE_KINDS`] order, so a
    /// kind may look for what an earlier kind took.
    pub take: fn(sql: &str, state: &mut SchemaState) -> Result<(), String>,
    /// Every object of the kind in `state`, as a file of the folder.
    pub files: fn(&SchemaState) -> Vec<SqlFile>,
    /// Keeps the objects whose schema `keep` accepts, drops the others.
    pub retain: fn(&mut SchemaState, &Keep<'_>),
}

impl std::fmt::Debug for SqlFileKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlFileKind")
            .field("noun", &self.noun)
            .field("opens", &self.opens)
            .finish_non_exhaustive()
    }
}

/// One object of a [`SqlFileKind`], as a file holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlFile {
    /// The folder it goes in under the `sql_dir`, and how the health
    /// report names its kind: `functions`, `procedures`, `sequences`.
    pub folder: &'static str,
    /// The schema it is in.
    pub schema: String,
    /// Its name inside the schema, as the health report lists it
    /// (`orders.orders_audit` for a trigger on `orders`).
    pub name: String,
    /// The parts its file is named from (`schema`, `name`, …).
    pub stem: Vec<String>,
    /// Its statement, without the closing semicolon.
    pub sql: String,
}

/// The kind whose statement `sql` is, by its opening words; `None` when
/// no kind takes it.
pub fn kind_of(sql: &str) -> Option<&'static SqlFileKind> {
    let tokens = significant(sql);
    let mut words = tokens
        .iter()
        .map_while(|t| t.name().filter(|_| t.kind == crate::lexer::TokenKind::Word));
    let first = words.next()?;
    let mut rest: Vec<String> = words.take(4).collect();
    if first == "create"
        && rest.first().map(String::as_str) == Some("or")
        && rest.get(1).map(String::as_str) == Some("replace")
    {
        rest.drain(..2);
    }
    SQL_FILE_KINDS.iter().find(|kind| {
        kind.opens.iter().any(|open| {
            let mut pattern = open.split_whitespace();
            pattern.next() == Some(first.as_str())
                && pattern
                    .enumerate()
                    .all(|(i, word)| rest.get(i).map(String::as_str) == Some(word))
        })
    })
}

/// Why `sql` is taken by no kind: what it starts with, and what the
/// folder takes.
pub fn not_taken(sql: &str) -> String {
    let tokens = significant(sql);
    let to = tokens.get(..tokens.len().min(5)).and_then(<[_]>::last);
    let start = match (tokens.first(), to) {
        (Some(first), Some(last)) => sql.get(first.start..last.end()).unwrap_or_default(),
        _ => "",
    };
    let start: Vec<&str> = start.split_whitespace().collect();
    let nouns: Vec<&str> = SQL_FILE_KINDS.iter().map(|k| k.noun).collect();
    let opens: Vec<String> = SQL_FILE_KINDS
        .iter()
        .flat_map(|k| k.opens.iter())
        .map(|o| format!("`{}`", o.to_uppercase()))
        .collect();
    format!(
        "`{} …` is not a {}; sql_dir takes {}, one per file (write anything else as a hand-written migration)",
        start.join(" "),
        or_list(&nouns),
        opens.join(", ")
    )
}

fn or_list(nouns: &[&str]) -> String {
    match nouns {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// Takes one statement of a `sql_dir` file into `state`, by its kind.
pub fn take(sql: &str, state: &mut SchemaState) -> Result<(), String> {
    let sql = sql.trim().trim_end_matches(';').trim_end();
    let kind = kind_of(sql).ok_or_else(|| not_taken(sql))?;
    (kind.take)(sql, state)
}

/// Every `sql_dir` object of `state`, kind by kind in [`SQL_FILE_KINDS`] order.
pub fn files(state: &SchemaState) -> Vec<SqlFile> {
    SQL_FILE_KINDS
        .iter()
        .flat_map(|k| (k.files)(state))
        .collect()
}

/// The schema's name, checked as every identifier is.
pub(crate) fn checked_schema(schema: &str) -> Result<(), String> {
    crate::validate_ident(schema).map_err(|e| format!("schema `{schema}`: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_is_found_by_its_opening_words_and_nothing_else_is() {
        for kind in SQL_FILE_KINDS {
            for open in kind.opens {
                let found = kind_of(&format!("{open} x")).map(|k| k.noun);
                assert_eq!(found, Some(kind.noun), "{open}");
            }
        }
        assert_eq!(
            kind_of("create or replace function a.b() returns int return 1").map(|k| k.noun),
            Some("function or procedure")
        );
        assert!(kind_of("CREATE TABLE a.b (id int)").is_none());
        assert!(kind_of("-- only a comment").is_none());
        assert!(kind_of("").is_none());
    }

    #[test]
    fn no_two_kinds_open_alike() {
        let mut opens: Vec<&str> = SQL_FILE_KINDS
            .iter()
            .flat_map(|k| k.opens.iter().copied())
            .collect();
        let count = opens.len();
        opens.sort_unstable();
        opens.dedup();
        assert_eq!(opens.len(), count);
    }
}
