//! Splitting a migration file into its statements, as PostgreSQL's lexer would.

use crate::lexer::{tokenize, StatementEnds};

/// One statement of a migration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement<'a> {
    /// Its number in the file, from 1.
    pub number: usize,
    /// The line it starts on, from 1.
    pub line: usize,
    /// Its text, without the closing semicolon.
    pub sql: &'a str,
}

/// The statements of `sql`, split on semicolons outside string literals,
/// quoted identifiers, dollar-quoted bodies, comments (by the one
/// [`crate::lexer`]) and SQL-standard function bodies (`BEGIN ATOMIC`). Pieces that hold only white space and comments are not
/// statements, and comments before a statement are not part of it.
pub fn split_statements(sql: &str) -> Vec<Statement<'_>> {
    let mut statements = Vec::new();
    // Where the current statement's first token starts, once one has been seen.
    let mut first: Option<usize> = None;
    let mut ends = StatementEnds::default();
    for token in tokenize(sql) {
        if ends.ends_at(&token) {
            push(sql, first.take(), token.start, &mut statements);
        } else if !token.is_trivia() {
            first.get_or_insert(token.start);
        }
    }
    push(sql, first, sql.len(), &mut statements);
    statements
}

fn push<'a>(sql: &'a str, first: Option<usize>, end: usize, statements: &mut Vec<Statement<'a>>) {
    if let Some(from) = first {
        let before = sql.get(..from).unwrap_or_default();
        statements.push(Statement {
            number: statements.len() + 1,
            line: before.matches('\n').count() + 1,
            sql: sql.get(from..end).unwrap_or_default().trim_end(),
        });
    }
}

/// The first statement of `sql` that controls the transaction itself
/// (`BEGIN`, `START TRANSACTION`, `COMMIT`, `END`, `ROLLBACK`, `ABORT`,
/// `SAVEPOINT`, `RELEASE`, `PREPARE TRANSACTION`): the runtime owns a
/// migration's transaction, and one of these would commit part of it.
pub fn transaction_control(sql: &str) -> Option<Statement<'_>> {
    split_statements(sql).into_iter().find(|statement| {
        let tokens = crate::lexer::significant(statement.sql);
        let first = tokens.first();
        let is = |w: &str| first.is_some_and(|t| t.is_word(w));
        let second = |w: &str| tokens.get(1).is_some_and(|t| t.is_word(w));
        is("begin")
            || (is("start") && second("transaction"))
            || is("commit")
            || is("end")
            || is("rollback")
            || is("abort")
            || is("savepoint")
            || is("release")
            || (is("prepare") && second("transaction"))
    })
}

/// The statements of a down file `sql` that can lose data (drops,
/// truncations, deletes, updates, type changes) and that `known` (the down
/// file strata generated, empty for a hand-written one) does not hold, each
/// named by `file` as a confirmation names it.
pub fn lossy_statements(file: &str, sql: &str, known: &str) -> Vec<crate::Unconfirmed> {
    let known: Vec<&str> = split_statements(known).iter().map(|s| s.sql).collect();
    split_statements(sql)
        .into_iter()
        .filter(|statement| {
            let tokens = crate::lexer::significant(statement.sql);
            let first = |w: &str| tokens.first().is_some_and(|t| t.is_word(w));
            let any = |w: &str| tokens.iter().any(|t| t.is_word(w));
            first("drop")
                || first("truncate")
                || first("delete")
                || first("update")
                || (first("alter") && (any("drop") || any("type")))
        })
        .filter(|statement| !known.contains(&statement.sql))
        .map(|statement| crate::Unconfirmed {
            object: file.to_owned(),
            what: format!(
                "statement {} (line {}) can lose data: {}",
                statement.number,
                statement.line,
                statement.sql.lines().next().unwrap_or_default().trim()
            ),
            help: String::new(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(sql: &str) -> Vec<&str> {
        split_statements(sql).into_iter().map(|s| s.sql).collect()
    }

    #[test]
    fn splits_on_semicolons_outside_quotes_comments_and_bodies() {
        let sql = "-- header; not a statement\nCREATE TABLE \"a;b\" (x text DEFAULT 'x;y');\n\
                   /* a /* nested; */ comment */\n\
                   DO $s$ BEGIN PERFORM 1; END $s$;\n\
                   SELECT E'it\\'s; fine', 'it''s; fine';\n\
                   SELECT $$;$$";
        assert_eq!(
            texts(sql),
            vec![
                "CREATE TABLE \"a;b\" (x text DEFAULT 'x;y')",
                "DO $s$ BEGIN PERFORM 1; END $s$",
                "SELECT E'it\\'s; fine', 'it''s; fine'",
                "SELECT $$;$$",
            ]
        );
    }

    #[test]
    fn a_sql_standard_function_body_is_one_statement_with_its_semicolons() {
        let sql = "BEGIN;\nCREATE FUNCTION f(a int) RETURNS int LANGUAGE sql\n\
                   begin atomic\n  SELECT CASE WHEN a > 0 THEN a ELSE 0 END;\n  SELECT a;\nend;\n\
                   CREATE TABLE t (begin int, atomic int);\nCOMMIT;";
        assert_eq!(
            texts(sql),
            vec![
                "BEGIN",
                "CREATE FUNCTION f(a int) RETURNS int LANGUAGE sql\nbegin atomic\n  SELECT CASE WHEN a > 0 THEN a ELSE 0 END;\n  SELECT a;\nend",
                "CREATE TABLE t (begin int, atomic int)",
                "COMMIT",
            ]
        );
    }

    #[test]
    fn numbers_statements_and_finds_their_lines() {
        let statements =
            split_statements("-- strata migration\n\nSELECT 1;\nSELECT\n  2;\n-- the end\n");
        assert_eq!(statements.len(), 2);
        assert_eq!((statements[0].number, statements[0].line), (1, 3));
        assert_eq!((statements[1].number, statements[1].line), (2, 4));
    }

    #[test]
    fn finds_the_statements_of_a_down_file_that_lose_data() {
        let sql = "-- undo\nUPDATE t SET a = lower(a);\nCREATE INDEX i ON t (a);\nALTER TABLE t DROP COLUMN b;\nALTER TABLE t ADD COLUMN c text;\nDROP SCHEMA shop CASCADE;";
        let lossy = lossy_statements("0002_x.down.sql", sql, "");
        assert_eq!(lossy.len(), 3);
        assert!(lossy[0].what.contains("UPDATE"));
        assert!(lossy[1].what.contains("DROP COLUMN"));
        // What the generated down file held is judged by its changes, not here.
        let generated = "ALTER TABLE t DROP COLUMN b;";
        let added = lossy_statements("0002_x.down.sql", sql, generated);
        assert_eq!(added.len(), 2);
        assert!(added[1].what.contains("DROP SCHEMA shop CASCADE"));
    }

    #[test]
    fn finds_what_controls_the_transaction_but_not_a_body() {
        let sql = "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN COMMIT; END $$;\nDO $$ BEGIN NULL; END $$;\nUPDATE t SET a = 1;\nCOMMIT;\nUPDATE t SET b = 2;";
        let found = transaction_control(sql).unwrap();
        assert_eq!((found.number, found.line, found.sql), (4, 4, "COMMIT"));
        for sql in [
            "begin;",
            "START TRANSACTION",
            "end",
            "SAVEPOINT a",
            "rollback to a",
            "prepare transaction 'x'",
        ] {
            assert!(transaction_control(sql).is_some(), "{sql}");
        }
        assert!(transaction_control("PREPARE q AS SELECT 1; SELECT 'COMMIT'").is_none());
    }
}
