//! Column defaults and expressions, spelt one way so a model's text and the
//! catalog's agree. Everything here reads SQL through the one lexer.

use crate::lexer::{significant, tokenize, Token, TokenKind};

/// Brings a default expression to one spelling, so that what the user wrote
/// (`'n/a'`, `0`, `NOW()`) compares equal to what `pg_get_expr` gives back
/// for it (`'n/a'::character varying`, `0`, `now()`).
///
/// A quoted literal loses the casts PostgreSQL adds after it, and a quoted
/// number loses its quotes (`'-1'::integer` is `-1`); outside literals and
/// quoted names, letters are lowercased and runs of white space folded.
pub fn canonical_default(expr: &str) -> String {
    let tokens = significant(expr);
    if let [first, rest @ ..] = &tokens[..] {
        if is_plain_string(first) && (rest.is_empty() || rest[0].is_punct("::")) {
            return match quoted_number(first) {
                Some(number) => number.to_owned(),
                None => first.text.to_owned(),
            };
        }
    }
    let mut out = String::with_capacity(expr.len());
    for token in tokenize(expr.trim()) {
        match token.kind {
            TokenKind::Space => out.push(' '),
            TokenKind::Comment => {}
            TokenKind::Word | TokenKind::Operator | TokenKind::Number | TokenKind::Punct => {
                out.push_str(&token.text.to_ascii_lowercase())
            }
            _ => out.push_str(token.text),
        }
    }
    out
}

/// Brings a check or index predicate to one spelling, so that what the user
/// wrote (`length(sku) > 0`, `deleted_at IS NULL`) compares equal to what
/// PostgreSQL prints back (`(length(sku) > 0)`, `(deleted_at IS NULL)`).
///
/// Outside string literals: letters are lowercased, and white space,
/// parentheses, name quotes and `::type` casts are dropped; `IN`, `NOT IN`,
/// `BETWEEN` and `NOT BETWEEN` over plain operands are rewritten as
/// PostgreSQL stores them. That is a comparison key, not SQL, used where no
/// server is at hand (the build); the drift check asks the server itself.
pub fn canonical_expr(expr: &str) -> String {
    let tokens = desugar(&significant(expr));
    let mut out = String::with_capacity(expr.len());
    let mut i = 0;
    while i < tokens.len() {
        let token = &tokens[i];
        i += 1;
        match token.kind {
            _ if token.is_punct("::") => i = skip_type(&tokens, i),
            _ if token.is_punct("(") || token.is_punct(")") => {}
            TokenKind::String => {
                let cast = tokens.get(i).is_some_and(|t| t.is_punct("::"));
                let token = token.as_token();
                match quoted_number(&token).filter(|_| cast) {
                    Some(number) => out.push_str(number),
                    None => out.push_str(token.text),
                }
            }
            TokenKind::QuotedIdent | TokenKind::Word => {
                out.push_str(&token.name().unwrap_or_default().to_lowercase())
            }
            _ => out.push_str(&token.text.to_ascii_lowercase()),
        }
    }
    out
}

/// A token of a rewritten expression: borrowed from the input, or made.
#[derive(Debug, Clone)]
struct Tok<'a> {
    kind: TokenKind,
    text: std::borrow::Cow<'a, str>,
}

impl<'a> Tok<'a> {
    fn made(kind: TokenKind, text: &'static str) -> Self {
        Tok {
            kind,
            text: text.into(),
        }
    }

    fn is_punct(&self, p: &str) -> bool {
        self.kind == TokenKind::Punct && self.text == p
    }

    fn as_token(&self) -> Token<'_> {
        Token {
            kind: self.kind,
            text: &self.text,
            start: 0,
        }
    }

    fn name(&self) -> Option<String> {
        self.as_token().name()
    }
}

impl<'a> From<&Token<'a>> for Tok<'a> {
    fn from(token: &Token<'a>) -> Self {
        Tok {
            kind: token.kind,
            text: token.text.into(),
        }
    }
}

fn is_plain_string(token: &Token<'_>) -> bool {
    token.kind == TokenKind::String && token.text.starts_with('\'')
}

/// `'-1'` → `-1`: the text of a quoted literal that is a number.
fn quoted_number<'t>(token: &'t Token<'_>) -> Option<&'t str> {
    let inner = token.text.strip_prefix('\'')?.strip_suffix('\'')?;
    (!inner.is_empty() && inner.parse::<f64>().is_ok()).then_some(inner)
}

/// Rewrites what PostgreSQL rewrites before it stores an expression:
/// `x IN (a, b)` is kept as `x = ANY (ARRAY[a, b])`, `x NOT IN (…)` as
/// `x <> ALL (ARRAY[…])`, `x BETWEEN a AND b` as `x >= a AND x <= b` and
/// `x NOT BETWEEN a AND b` as `x < a OR x > b`. Only plain operands (names,
/// literals, numbers) are rewritten; anything else is left as written.
fn desugar<'a>(tokens: &[Token<'a>]) -> Vec<Tok<'a>> {
    use TokenKind::*;
    let word = |i: usize, w: &str| tokens.get(i).is_some_and(|t| t.is_word(w));
    // The length of a plain operand at `i`: a name, literal or number, or a negative number.
    let operand = |i: usize| -> Option<usize> {
        let t = tokens.get(i)?;
        let keyword = ["and", "or", "not", "in", "between"]
            .iter()
            .any(|w| t.is_word(w));
        match t.kind {
            Word | QuotedIdent | String | Number if !keyword => Some(1),
            Operator if t.text == "-" && tokens.get(i + 1)?.kind == Number => Some(2),
            _ => None,
        }
    };
    let copy = |from: usize, len: usize| tokens[from..from + len].iter().map(Tok::from);
    let mut out: Vec<Tok<'a>> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let Some(x_len) = operand(i) else {
            out.push(Tok::from(&tokens[i]));
            i += 1;
            continue;
        };
        let negated = word(i + x_len, "not");
        let at = i + x_len + usize::from(negated);
        if word(at, "in") && tokens.get(at + 1).is_some_and(|t| t.is_punct("(")) {
            let close = (at + 2..tokens.len())
                .find(|&j| tokens[j].is_punct(")") || tokens[j].is_punct("("));
            if let Some(close) = close.filter(|&j| tokens[j].is_punct(")")) {
                let (op, quantifier) = if negated { ("<>", "all") } else { ("=", "any") };
                let items = &tokens[at + 2..close];
                out.extend(copy(i, x_len));
                out.push(Tok::made(Operator, op));
                // A one-item list is stored as a plain comparison.
                if items.iter().any(|t| t.is_punct(",")) {
                    out.push(Tok::made(Word, quantifier));
                    out.push(Tok::made(Word, "array"));
                    out.push(Tok::made(Punct, "["));
                    out.extend(items.iter().map(Tok::from));
                    out.push(Tok::made(Punct, "]"));
                } else {
                    out.extend(items.iter().map(Tok::from));
                }
                i = close + 1;
                continue;
            }
        }
        if word(at, "between") {
            if let Some(low) = operand(at + 1) {
                if word(at + 1 + low, "and") {
                    if let Some(high) = operand(at + 2 + low) {
                        let (first, join, second) = if negated {
                            ("<", "or", ">")
                        } else {
                            (">=", "and", "<=")
                        };
                        out.extend(copy(i, x_len));
                        out.push(Tok::made(Operator, first));
                        out.extend(copy(at + 1, low));
                        out.push(Tok::made(Word, join));
                        out.extend(copy(i, x_len));
                        out.push(Tok::made(Operator, second));
                        out.extend(copy(at + 2 + low, high));
                        i = at + 2 + low + high;
                        continue;
                    }
                }
            }
        }
        out.extend(copy(i, x_len));
        i += x_len;
    }
    out
}

/// Skips a type name after `::`, from `tokens[i]`: `text`, `"char"`,
/// `pg_catalog.int4`, `character varying(64)`, `timestamp(3) with time zone`,
/// `integer[]`. Returns the index after it.
fn skip_type(tokens: &[Tok<'_>], mut i: usize) -> usize {
    let is_name = |i: usize| {
        tokens
            .get(i)
            .is_some_and(|t| matches!(t.kind, TokenKind::Word | TokenKind::QuotedIdent))
    };
    let is_word = |i: usize, w: &str| {
        tokens
            .get(i)
            .is_some_and(|t| t.kind == TokenKind::Word && t.text.eq_ignore_ascii_case(w))
    };
    let is_punct = |i: usize, p: &str| tokens.get(i).is_some_and(|t| t.is_punct(p));
    if !is_name(i) {
        return i;
    }
    i += 1;
    while is_punct(i, ".") && is_name(i + 1) {
        i += 2;
    }
    let skip_args = |mut i: usize| {
        if is_punct(i, "(") {
            let mut j = i + 1;
            while tokens
                .get(j)
                .is_some_and(|t| t.kind == TokenKind::Number || t.is_punct(","))
            {
                j += 1;
            }
            if is_punct(j, ")") {
                i = j + 1;
            }
        }
        i
    };
    if is_word(i, "varying") || is_word(i, "precision") {
        i += 1;
    }
    i = skip_args(i);
    if (is_word(i, "with") || is_word(i, "without"))
        && is_word(i + 1, "time")
        && is_word(i + 2, "zone")
    {
        i += 3;
    }
    while is_punct(i, "[") {
        let close = if is_punct(i + 1, "]") {
            i + 1
        } else if tokens
            .get(i + 1)
            .is_some_and(|t| t.kind == TokenKind::Number)
            && is_punct(i + 2, "]")
        {
            i + 2
        } else {
            break;
        };
        i = close + 1;
    }
    i
}

/// `expr` with the column names it mentions renamed by `rename`, as
/// PostgreSQL itself rewrites a stored check or index predicate when a
/// column is renamed. String literals, comments and the rest are left alone.
pub(crate) fn rename_identifiers(expr: &str, rename: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(expr.len());
    for token in tokenize(expr) {
        let renamed = match token.kind {
            TokenKind::Word | TokenKind::QuotedIdent => token.name().and_then(|n| rename(&n)),
            _ => None,
        };
        match renamed {
            Some(new) => out.push_str(&crate::quote_ident(&new)),
            None => out.push_str(token.text),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::canonical_default as c;

    #[test]
    fn model_and_catalog_spellings_agree() {
        assert_eq!(c("'n/a'"), c("'n/a'::character varying"));
        assert_eq!(c("-1"), c("'-1'::integer"));
        assert_eq!(c("NOW()"), c("now()"));
        assert_eq!(c("TRUE"), c("true"));
        assert_eq!(c("'it''s'"), c("'it''s'::text"));
        assert_ne!(c("'A'"), c("'a'"));
        assert_ne!(c("1"), c("2"));
    }

    #[test]
    fn expressions_as_written_and_as_printed_agree() {
        use super::canonical_expr as e;
        assert_eq!(e("length(sku) > 0"), e("(length(sku) > 0)"));
        assert_eq!(e("deleted_at IS NULL"), e("(deleted_at IS NULL)"));
        assert_eq!(e("status <> 'void'"), e("((status)::text <> 'void'::text)"));
        assert_eq!(e("total_cents >= 0"), e("(total_cents >= 0)"));
        assert_ne!(e("status <> 'Void'"), e("status <> 'void'"));
        assert_ne!(e("a > 0"), e("a > 1"));
        assert_eq!(e("a::integer AND b"), "aandb");
        assert_eq!(e("x > -1"), e("(x > '-1'::integer)"));
        assert_ne!(e("x = '1'"), e("x = 1"));
        assert_eq!(e("(name)::character varying(64) = 'x'::text"), "name='x'");
        assert_eq!(
            e("rating BETWEEN 1 AND 5"),
            e("((rating >= 1) AND (rating <= 5))")
        );
        assert_eq!(
            e("rating NOT BETWEEN 1 AND 5"),
            e("((rating < 1) OR (rating > 5))")
        );
        assert_eq!(
            e("status IN ('open', 'paid')"),
            e("((status)::text = ANY ((ARRAY['open'::character varying, 'paid'::character varying])::text[]))")
        );
        assert_eq!(
            e("status NOT IN ('void', 'lost')"),
            e("(status <> ALL (ARRAY['void'::text, 'lost'::text]))")
        );
        assert_eq!(
            e("status NOT IN ('void')"),
            e("((status)::text <> 'void'::text)")
        );
        assert_ne!(
            e("status IN ('open')"),
            e("(status = ANY (ARRAY['paid'::text]))")
        );
    }
}

#[cfg(test)]
mod rename_tests {
    use super::rename_identifiers;

    #[test]
    fn renames_columns_not_literals_or_functions() {
        let rename = |n: &str| (n == "note").then(|| "remark".to_owned());
        assert_eq!(
            rename_identifiers("length(note) < 10 AND note <> 'note'", rename),
            r#"length("remark") < 10 AND "remark" <> 'note'"#
        );
        assert_eq!(
            rename_identifiers(r#""note" IS NOT NULL"#, rename),
            r#""remark" IS NOT NULL"#
        );
        assert_eq!(rename_identifiers("Note > 0", rename), r#""remark" > 0"#);
    }
}
