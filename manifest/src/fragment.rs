//! Pieces of SQL a user writes into an attribute (`default`, `check`,
//! `where`, `generated`, `using`, `with_check`, a view's query): each must be
//! one expression, or one query, and nothing more. strata puts them into the
//! statements it generates, so a `;`, an unbalanced `)` or a `--` comment
//! would let the text end the statement strata wrote and start another.
//!
//! The checks read the tokens of the one lexer, so a `;` or a `)` inside a
//! string literal, a quoted name or a dollar-quoted body is text, not syntax.

use crate::lexer::{tokenize, Token, TokenKind};

/// Why a piece of SQL is not one expression (or one query).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FragmentError {
    /// Nothing but white space and comments.
    Empty,
    /// A NUL character, which PostgreSQL refuses in any text.
    Nul,
    /// A string, quoted name, dollar-quoted body or comment that never ends.
    Unterminated(&'static str),
    /// A `;` outside any literal: a second statement.
    Semicolon,
    /// A `--` comment, which would hide what strata writes after it.
    LineComment,
    /// A `)` or `]` with no opening one, or an opening one never closed.
    Unbalanced(char),
    /// A `,` outside any parentheses: a second item of a list.
    TopLevelComma,
    /// A query that does not start as a query does.
    NotAQuery(String),
}

impl std::fmt::Display for FragmentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FragmentError::Empty => f.write_str("it is empty"),
            FragmentError::Nul => f.write_str("it holds a NUL character"),
            FragmentError::Unterminated(what) => write!(f, "its {what} is never closed"),
            FragmentError::Semicolon => {
                f.write_str("it holds a `;` outside a string, which would end the statement strata writes and start another")
            }
            FragmentError::LineComment => {
                f.write_str("it holds a `--` comment, which would hide the rest of the statement strata writes; use /* … */ or remove it")
            }
            FragmentError::Unbalanced(c) => write!(
                f,
                "its parentheses do not balance (an unmatched `{c}`), so it would reach outside the clause strata puts it in"
            ),
            FragmentError::TopLevelComma => {
                f.write_str("it holds a `,` outside parentheses, which would add a second item to the statement strata writes")
            }
            FragmentError::NotAQuery(first) => write!(
                f,
                "it starts with `{first}`, where a query starts with SELECT, WITH, VALUES, TABLE or `(`"
            ),
        }
    }
}

impl std::error::Error for FragmentError {}

/// Checks that `text` is one SQL expression and nothing more: no `;`, no
/// `--` comment, no literal left open, balanced parentheses and brackets,
/// and no `,` outside them. PostgreSQL judges the rest when it runs.
///
/// ```
/// use strata_manifest::fragment::{check_expression, FragmentError};
/// assert_eq!(check_expression("coalesce(note, 'a;b')"), Ok(()));
/// assert_eq!(check_expression("true), CONSTRAINT c CHECK (true"), Err(FragmentError::Unbalanced(')')));
/// ```
pub fn check_expression(text: &str) -> Result<(), FragmentError> {
    let tokens = checked_tokens(text, false)?;
    let mut depth = 0usize;
    for token in &tokens {
        if token.is_punct(";") {
            return Err(FragmentError::Semicolon);
        }
        if token.is_punct(",") && depth == 0 {
            return Err(FragmentError::TopLevelComma);
        }
        depth = nest(token, depth)?;
    }
    closed(depth)
}

/// Checks that `text` is an index's key list, as written inside the
/// parentheses of `CREATE INDEX … (…)`: expressions separated by commas,
/// each perhaps with `COLLATE`, an operator class, `DESC` or `NULLS LAST`.
/// No `;`, no `--` comment, no literal left open, balanced parentheses.
///
/// ```
/// use strata_manifest::fragment::{check_index_keys, FragmentError};
/// assert_eq!(check_index_keys("lower(email), created_at DESC NULLS LAST"), Ok(()));
/// assert_eq!(check_index_keys("a) WHERE (true"), Err(FragmentError::Unbalanced(')')));
/// ```
pub fn check_index_keys(text: &str) -> Result<(), FragmentError> {
    let tokens = checked_tokens(text, false)?;
    let mut depth = 0usize;
    for token in &tokens {
        if token.is_punct(";") {
            return Err(FragmentError::Semicolon);
        }
        depth = nest(token, depth)?;
    }
    closed(depth)
}

/// Checks that `text` is one query, as a view's SQL must be: it starts with
/// `SELECT`, `WITH`, `VALUES`, `TABLE` or `(`, holds no `;` but one at its
/// end, leaves no literal open and balances its parentheses.
///
/// ```
/// use strata_manifest::fragment::{check_query, FragmentError};
/// assert_eq!(check_query("SELECT 1 AS one;"), Ok(()));
/// assert_eq!(check_query("SELECT 1; DROP TABLE t"), Err(FragmentError::Semicolon));
/// ```
pub fn check_query(text: &str) -> Result<(), FragmentError> {
    let tokens = checked_tokens(text, true)?;
    let mut significant: Vec<&Token<'_>> = tokens.iter().filter(|t| !t.is_trivia()).collect();
    while significant.last().is_some_and(|t| t.is_punct(";")) {
        significant.pop();
    }
    let first = significant.first().ok_or(FragmentError::Empty)?;
    let starts_a_query = ["select", "with", "values", "table"]
        .iter()
        .any(|w| first.is_word(w))
        || first.is_punct("(");
    if !starts_a_query {
        return Err(FragmentError::NotAQuery(first.text.to_owned()));
    }
    let mut depth = 0usize;
    for token in significant {
        if token.is_punct(";") {
            return Err(FragmentError::Semicolon);
        }
        depth = nest(token, depth)?;
    }
    closed(depth)
}

/// Whether the expression `text` (already [`check_expression`]ed) ends
/// where it must without parentheses around it: a literal or name, a signed
/// number, a function call, `ARRAY[…]`, or one of those cast to a type
/// (`'x'::text`, `'{}'::shop.tag[]`). Anything longer is written in
/// parentheses where a clause could follow it (a column's `DEFAULT`).
///
/// ```
/// use strata_manifest::fragment::is_bare;
/// assert!(is_bare("now()") && is_bare("'{}'::text[]"));
/// assert!(!is_bare("1 REFERENCES t") && !is_bare("'n/a'::character varying"));
/// ```
pub fn is_bare(text: &str) -> bool {
    let tokens: Vec<Token<'_>> = tokenize(text)
        .into_iter()
        .filter(|t| !t.is_trivia())
        .collect();
    let Some(mut at) = primary(&tokens, 0) else {
        return false;
    };
    while tokens.get(at).is_some_and(|t| t.is_punct("::")) {
        match type_name(&tokens, at + 1) {
            Some(next) => at = next,
            None => return false,
        }
    }
    at == tokens.len()
}

/// Where a literal, name, signed number, call or `ARRAY[…]` that starts at
/// `at` ends.
fn primary(tokens: &[Token<'_>], at: usize) -> Option<usize> {
    let first = tokens.get(at)?;
    let is_name = |t: &Token<'_>| matches!(t.kind, TokenKind::Word | TokenKind::QuotedIdent);
    match first.kind {
        TokenKind::Operator if matches!(first.text, "-" | "+") => {
            (tokens.get(at + 1)?.kind == TokenKind::Number).then_some(at + 2)
        }
        TokenKind::Word if first.is_word("array") && tokens.get(at + 1)?.is_punct("[") => {
            closing(tokens, at + 1)
        }
        _ if is_name(first) => {
            // A name, perhaps qualified, and perhaps called.
            let mut end = at + 1;
            while tokens.get(end).is_some_and(|t| t.is_punct("."))
                && tokens.get(end + 1).is_some_and(is_name)
            {
                end += 2;
            }
            match tokens.get(end) {
                Some(t) if t.is_punct("(") => closing(tokens, end),
                _ => Some(end),
            }
        }
        TokenKind::String | TokenKind::Number | TokenKind::Dollar | TokenKind::Param => {
            Some(at + 1)
        }
        _ => None,
    }
}

/// Where a one-word type name (perhaps qualified, perhaps an array) that
/// starts at `at` ends.
fn type_name(tokens: &[Token<'_>], at: usize) -> Option<usize> {
    let is_name = |t: &Token<'_>| matches!(t.kind, TokenKind::Word | TokenKind::QuotedIdent);
    tokens.get(at).filter(|t| is_name(t))?;
    let mut end = at + 1;
    while tokens.get(end).is_some_and(|t| t.is_punct("."))
        && tokens.get(end + 1).is_some_and(is_name)
    {
        end += 2;
    }
    while tokens.get(end).is_some_and(|t| t.is_punct("["))
        && tokens.get(end + 1).is_some_and(|t| t.is_punct("]"))
    {
        end += 2;
    }
    Some(end)
}

/// Just past the bracket that closes the one at `open`.
fn closing(tokens: &[Token<'_>], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, token) in tokens.iter().enumerate().skip(open) {
        depth = nest(token, depth).ok()?;
        if depth == 0 {
            return Some(i + 1);
        }
    }
    None
}

/// The tokens of `text`, once it is known to hold something, no NUL, no
/// literal left open and (unless `line_comments`) no `--` comment. A
/// query may hold them: strata ends the statement on a line of its own.
fn checked_tokens(text: &str, line_comments: bool) -> Result<Vec<Token<'_>>, FragmentError> {
    if text.contains('\0') {
        return Err(FragmentError::Nul);
    }
    if let Some(what) = crate::lexer::unclosed(text) {
        return Err(FragmentError::Unterminated(what));
    }
    let tokens = tokenize(text);
    for token in &tokens {
        if !line_comments && token.kind == TokenKind::Comment && token.text.starts_with("--") {
            return Err(FragmentError::LineComment);
        }
    }
    if tokens.iter().all(Token::is_trivia) {
        return Err(FragmentError::Empty);
    }
    Ok(tokens)
}

/// The depth of parentheses and brackets after `token`.
fn nest(token: &Token<'_>, depth: usize) -> Result<usize, FragmentError> {
    if token.is_punct("(") || token.is_punct("[") {
        Ok(depth + 1)
    } else if token.is_punct(")") || token.is_punct("]") {
        let c = if token.is_punct(")") { ')' } else { ']' };
        depth.checked_sub(1).ok_or(FragmentError::Unbalanced(c))
    } else {
        Ok(depth)
    }
}

fn closed(depth: usize) -> Result<(), FragmentError> {
    match depth {
        0 => Ok(()),
        _ => Err(FragmentError::Unbalanced('(')),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_inside_literals_is_not_syntax() {
        for expr in [
            "'a;b'",
            "'it''s; fine'",
            "E'a\\';b'",
            "\"odd;name\" > 0",
            "$$;)$$",
            "coalesce(a, 'x')",
            "ARRAY[1, 2]",
            "a /* a comment; with ) */ > 0",
            "'-- not a comment'",
        ] {
            assert_eq!(check_expression(expr), Ok(()), "{expr}");
        }
    }

    #[test]
    fn whatever_would_reach_outside_is_refused() {
        use FragmentError::*;
        for (expr, why) in [
            ("1; DROP TABLE t", Semicolon),
            ("true), CONSTRAINT sneaky CHECK (true", Unbalanced(')')),
            ("(1", Unbalanced('(')),
            ("1]", Unbalanced(']')),
            ("now() -- when", LineComment),
            ("1, extra int", TopLevelComma),
            ("'open", Unterminated("string literal")),
            ("E'open\\'", Unterminated("string literal")),
            ("\"open", Unterminated("quoted name")),
            ("$x$ open", Unterminated("dollar-quoted text")),
            ("/* open /* nested */", Unterminated("comment")),
            ("  /* only */ ", Empty),
            ("a\0", Nul),
        ] {
            assert_eq!(check_expression(expr), Err(why), "{expr}");
        }
    }

    #[test]
    fn a_query_is_one_query() {
        for query in [
            "SELECT 1",
            "select 1;\n",
            "WITH x AS (SELECT 1) SELECT * FROM x",
            "VALUES (1, 'a;b')",
            "(SELECT 1) UNION (SELECT 2)",
            "-- the orders of each customer\nSELECT 1",
        ] {
            assert_eq!(check_query(query), Ok(()), "{query}");
        }
        assert_eq!(
            check_query("SELECT 1 AS one; DROP TABLE victim.keep"),
            Err(FragmentError::Semicolon)
        );
        assert_eq!(
            check_query("DROP TABLE t"),
            Err(FragmentError::NotAQuery("DROP".to_owned()))
        );
        assert_eq!(check_query(";"), Err(FragmentError::Empty));
    }

    #[test]
    fn bare_expressions_end_where_they_must() {
        for bare in [
            "0",
            "-1",
            "'pending'",
            "true",
            "now()",
            "pg_catalog.now()",
            "nextval('shop.seq'::regclass)",
            "'x'::text",
            "'{}'::shop.tag[]",
            "ARRAY[1, 2]::integer[]",
            "CURRENT_TIMESTAMP",
        ] {
            assert!(is_bare(bare), "{bare}");
        }
        for wrapped in [
            "1 REFERENCES t",
            "now() NOT NULL",
            "1 + 2",
            "'x'::character varying",
            "now() CHECK (false)",
            "a.b c",
            "(1)",
        ] {
            assert!(!is_bare(wrapped), "{wrapped}");
        }
    }
}
