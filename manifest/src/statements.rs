//! Splitting a migration file into its statements, as PostgreSQL's lexer would.

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
/// quoted identifiers, dollar-quoted bodies and comments. Pieces that hold
/// only white space and comments are not statements, and comments before a
/// statement are not part of it.
pub fn split_statements(sql: &str) -> Vec<Statement<'_>> {
    let bytes = sql.as_bytes();
    let mut statements = Vec::new();
    // Where the current statement's first token starts, once one has been seen.
    let mut first: Option<usize> = None;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = sql[i..].find('\n').map_or(bytes.len(), |n| i + n + 1);
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                // Block comments nest in PostgreSQL.
                let mut depth = 1;
                i += 2;
                while i < bytes.len() && depth > 0 {
                    if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        i += 2;
                    } else if bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        i += 2;
                    } else {
                        i += 1;
                    }
                }
                continue;
            }
            b'\'' => {
                first.get_or_insert(i);
                let escapes = i > 0 && matches!(bytes[i - 1], b'E' | b'e');
                i += 1;
                while i < bytes.len() {
                    match bytes[i] {
                        b'\\' if escapes => i += 2,
                        b'\'' if bytes.get(i + 1) == Some(&b'\'') => i += 2,
                        b'\'' => break,
                        _ => i += 1,
                    }
                }
                i += 1;
                continue;
            }
            b'"' => {
                first.get_or_insert(i);
                i += 1;
                while i < bytes.len() {
                    match bytes[i] {
                        b'"' if bytes.get(i + 1) == Some(&b'"') => i += 2,
                        b'"' => break,
                        _ => i += 1,
                    }
                }
                i += 1;
                continue;
            }
            b'$' => {
                first.get_or_insert(i);
                // `a$b` is an identifier, not the start of a dollar quote.
                let in_word =
                    i > 0 && (bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
                if let Some(tag_len) = dollar_tag(&sql[i..]).filter(|_| !in_word) {
                    let tag = &sql[i..i + tag_len];
                    let body = i + tag_len;
                    i = sql[body..]
                        .find(tag)
                        .map_or(bytes.len(), |n| body + n + tag_len);
                    continue;
                }
                i += 1;
                continue;
            }
            b';' => {
                push(sql, first, i, &mut statements);
                first = None;
            }
            b if !b.is_ascii_whitespace() => {
                first.get_or_insert(i);
            }
            _ => {}
        }
        i += 1;
    }
    push(sql, first, bytes.len(), &mut statements);
    statements
}

fn push<'a>(sql: &'a str, first: Option<usize>, end: usize, statements: &mut Vec<Statement<'a>>) {
    if let Some(from) = first {
        statements.push(Statement {
            number: statements.len() + 1,
            line: sql[..from].matches('\n').count() + 1,
            sql: sql[from..end].trim_end(),
        });
    }
}

/// The length of a dollar-quote tag (`$$`, `$body$`) at the start of `text`.
fn dollar_tag(text: &str) -> Option<usize> {
    let rest = &text[1..];
    let end = rest.find('$')?;
    let tag = &rest[..end];
    let valid = tag.is_empty()
        || (tag.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'));
    valid.then_some(end + 2)
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
    fn numbers_statements_and_finds_their_lines() {
        let statements =
            split_statements("-- strata migration\n\nSELECT 1;\nSELECT\n  2;\n-- the end\n");
        assert_eq!(statements.len(), 2);
        assert_eq!((statements[0].number, statements[0].line), (1, 3));
        assert_eq!((statements[1].number, statements[1].line), (2, 4));
    }
}
