//! The one SQL lexer: every piece of strata that takes SQL text apart
//! (statement splitting, the tenant schema, expression keys, renames, the
//! `-- strata:` markers) reads the tokens it gives, never the raw bytes.
//!
//! It follows PostgreSQL's lexical rules (`scan.l`) for what matters to
//! those readers: string constants with their `E`, `B`, `X`, `N` and `U&`
//! prefixes, quoted identifiers, dollar-quoted bodies, nested block
//! comments, numbers, `$1` parameters and operators. It never fails and
//! never panics: an unterminated literal or comment runs to the end.

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// White space.
    Space,
    /// A `--` line comment (without its newline) or a `/* … */` block comment.
    Comment,
    /// A keyword or an unquoted identifier.
    Word,
    /// A `"quoted identifier"`.
    QuotedIdent,
    /// A string constant, with its prefix if any: `'x'`, `E'\n'`, `U&'…'`.
    String,
    /// A dollar-quoted string: `$$…$$`, `$body$…$body$`.
    Dollar,
    /// A numeric constant.
    Number,
    /// A positional parameter: `$1`.
    Param,
    /// An operator: `<>`, `>=`, `||`, `~*`, …
    Operator,
    /// Punctuation: `(`, `)`, `[`, `]`, `,`, `;`, `.`, `:` or `::`.
    Punct,
}

/// One token: its kind, its text and where it starts in the input (a byte
/// offset that is always on a character boundary).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    /// What it is.
    pub kind: TokenKind,
    /// Its text, exactly as in the input.
    pub text: &'a str,
    /// Its byte offset in the input.
    pub start: usize,
}

impl<'a> Token<'a> {
    /// True for white space and comments.
    pub fn is_trivia(&self) -> bool {
        matches!(self.kind, TokenKind::Space | TokenKind::Comment)
    }

    /// True for the keyword `word`, in any case (never a quoted identifier).
    pub fn is_word(&self, word: &str) -> bool {
        self.kind == TokenKind::Word && self.text.eq_ignore_ascii_case(word)
    }

    /// True for the punctuation `p`.
    pub fn is_punct(&self, p: &str) -> bool {
        self.kind == TokenKind::Punct && self.text == p
    }

    /// The byte offset just past the token.
    pub fn end(&self) -> usize {
        self.start + self.text.len()
    }

    /// The name a word or quoted identifier stands for: a word folded to
    /// lower case as PostgreSQL folds it, a quoted one unquoted.
    pub fn name(&self) -> Option<String> {
        match self.kind {
            TokenKind::Word => Some(self.text.to_ascii_lowercase()),
            TokenKind::QuotedIdent => {
                let inner = self.text.strip_prefix('"').unwrap_or(self.text);
                let inner = inner.strip_suffix('"').unwrap_or(inner);
                Some(inner.replace("\"\"", "\""))
            }
            _ => None,
        }
    }
}

/// Every token of `sql`, trivia included, so that joining their texts gives
/// `sql` back.
pub fn tokenize(sql: &str) -> Vec<Token<'_>> {
    let mut lexer = Lexer::new(sql);
    lexer.run(false);
    lexer.tokens
}

/// What `sql` leaves open at its end, if anything: a `"string literal"`, a
/// `"quoted name"`, `"dollar-quoted text"` or a `"comment"` the input ends
/// inside (the lexer runs such a token to the end of the input).
pub fn unclosed(sql: &str) -> Option<&'static str> {
    let mut lexer = Lexer::new(sql);
    lexer.run(false);
    lexer.unclosed
}

/// The white space and comments that open `sql`, lexed no further than the
/// first significant token: what a migration file's markers are read from,
/// without lexing the whole file.
pub fn leading_trivia(sql: &str) -> Vec<Token<'_>> {
    let mut lexer = Lexer::new(sql);
    lexer.run(true);
    lexer.tokens.retain(Token::is_trivia);
    lexer.tokens
}

/// The tokens of `sql` without white space and comments.
pub fn significant(sql: &str) -> Vec<Token<'_>> {
    tokenize(sql)
        .into_iter()
        .filter(|t| !t.is_trivia())
        .collect()
}

/// Which `;` end a statement, fed the tokens in order: every one but
/// those inside a function's SQL-standard body (`BEGIN ATOMIC … END`,
/// PostgreSQL 14), whose statements end in `;` too. Inside such a body a
/// `CASE … END` nests; outside one, nothing does.
#[derive(Debug, Default, Clone)]
pub struct StatementEnds {
    /// How many `BEGIN ATOMIC` and, inside one, `CASE` are open.
    depth: usize,
    /// The last significant token was `BEGIN`.
    after_begin: bool,
}

impl StatementEnds {
    /// True when `token` is a `;` that ends the statement it closes.
    pub fn ends_at(&mut self, token: &Token<'_>) -> bool {
        if token.is_trivia() {
            return false;
        }
        let after_begin = std::mem::replace(&mut self.after_begin, token.is_word("begin"));
        let opens = token.is_word("atomic") && after_begin;
        if opens || (self.depth > 0 && token.is_word("case")) {
            self.depth += 1;
        } else if self.depth > 0 && token.is_word("end") {
            self.depth -= 1;
        }
        token.is_punct(";") && self.depth == 0
    }
}

const OPERATOR_CHARS: &str = "+-*/<>=~!@#%^&|`?";

struct Lexer<'a> {
    sql: &'a str,
    chars: std::iter::Peekable<std::str::CharIndices<'a>>,
    tokens: Vec<Token<'a>>,
    /// What the input ended inside of, if it did.
    unclosed: Option<&'static str>,
}

impl<'a> Lexer<'a> {
    fn new(sql: &'a str) -> Self {
        Lexer {
            sql,
            chars: sql.char_indices().peekable(),
            tokens: Vec::new(),
            unclosed: None,
        }
    }

    /// Lexes to the end, or (`until_significant`) up to and including the
    /// first token that is not trivia.
    fn run(&mut self, until_significant: bool) {
        while let Some(&(start, c)) = self.chars.peek() {
            let kind = self.token(c);
            let end = self.offset();
            let token = Token {
                kind,
                text: self.sql.get(start..end).unwrap_or_default(),
                start,
            };
            let stop = until_significant && !token.is_trivia();
            self.tokens.push(token);
            if stop {
                break;
            }
        }
    }

    /// Where the next character starts.
    fn offset(&mut self) -> usize {
        self.chars.peek().map_or(self.sql.len(), |&(i, _)| i)
    }

    fn rest(&mut self) -> &'a str {
        let at = self.offset();
        self.sql.get(at..).unwrap_or_default()
    }

    fn bump(&mut self) -> Option<char> {
        self.chars.next().map(|(_, c)| c)
    }

    fn bump_while(&mut self, keep: impl Fn(char) -> bool) {
        while self.chars.peek().is_some_and(|&(_, c)| keep(c)) {
            self.chars.next();
        }
    }

    /// Consumes one token starting with `c` and says what it was.
    fn token(&mut self, c: char) -> TokenKind {
        let rest = self.rest();
        if c.is_whitespace() {
            self.bump_while(char::is_whitespace);
            TokenKind::Space
        } else if rest.starts_with("--") {
            self.bump_while(|c| c != '\n');
            TokenKind::Comment
        } else if rest.starts_with("/*") {
            self.block_comment();
            TokenKind::Comment
        } else if c == '\'' {
            self.quoted('\'', false);
            TokenKind::String
        } else if c == '"' {
            self.quoted('"', false);
            TokenKind::QuotedIdent
        } else if c == '$' {
            self.dollar()
        } else if c.is_ascii_digit()
            || (c == '.' && rest.chars().nth(1).is_some_and(|d| d.is_ascii_digit()))
        {
            self.number();
            TokenKind::Number
        } else if is_ident_start(c) {
            self.word()
        } else if rest.starts_with("::") {
            self.bump();
            self.bump();
            TokenKind::Punct
        } else if "()[],;.:".contains(c) {
            self.bump();
            TokenKind::Punct
        } else if OPERATOR_CHARS.contains(c) {
            for _ in 0..operator_len(rest) {
                self.bump();
            }
            TokenKind::Operator
        } else {
            // Anything else PostgreSQL would reject stands alone.
            self.bump();
            TokenKind::Operator
        }
    }

    fn block_comment(&mut self) {
        self.bump();
        self.bump();
        let mut depth = 1;
        while depth > 0 {
            let rest = self.rest();
            if rest.is_empty() {
                self.unclosed = Some("comment");
                return;
            }
            if rest.starts_with("/*") {
                depth += 1;
                self.bump();
            } else if rest.starts_with("*/") {
                depth -= 1;
                self.bump();
            }
            self.bump();
        }
    }

    /// A literal or quoted identifier up to its closing `quote`, where a
    /// doubled quote stands for one and, with `escapes`, a backslash escapes
    /// the next character.
    fn quoted(&mut self, quote: char, escapes: bool) {
        self.bump();
        while let Some(c) = self.bump() {
            if escapes && c == '\\' {
                self.bump();
            } else if c == quote {
                if self.chars.peek().is_some_and(|&(_, n)| n == quote) {
                    self.bump();
                } else {
                    return;
                }
            }
        }
        self.unclosed = Some(match quote {
            '"' => "quoted name",
            _ => "string literal",
        });
    }

    fn dollar(&mut self) -> TokenKind {
        let rest = self.rest();
        let after = rest.strip_prefix('$').unwrap_or_default();
        if after.starts_with(|c: char| c.is_ascii_digit()) {
            self.bump();
            self.bump_while(|c| c.is_ascii_digit());
            return TokenKind::Param;
        }
        let tag_len = after
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(after.len());
        let is_tag = after.get(tag_len..).is_some_and(|t| t.starts_with('$'));
        if !is_tag {
            self.bump();
            return TokenKind::Operator;
        }
        let tag = rest.get(..tag_len + 2).unwrap_or("$$");
        let body_start = self.offset() + tag.len();
        let body = self.sql.get(body_start..).unwrap_or_default();
        let end = match body.find(tag) {
            Some(n) => body_start + n + tag.len(),
            None => {
                self.unclosed = Some("dollar-quoted text");
                self.sql.len()
            }
        };
        while self.offset() < end {
            self.bump();
        }
        TokenKind::Dollar
    }

    fn number(&mut self) {
        self.bump_while(|c| c.is_ascii_digit() || c == '_');
        let rest = self.rest();
        // `1..2` is not a number followed by `.`, but `1.5` and `1.` are numbers.
        if rest.starts_with('.') && !rest.starts_with("..") {
            self.bump();
            self.bump_while(|c| c.is_ascii_digit() || c == '_');
        }
        let rest = self.rest();
        let mut exponent = rest.chars();
        if matches!(exponent.next(), Some('e' | 'E')) {
            let mut next = exponent.next();
            if matches!(next, Some('+' | '-')) {
                next = exponent.next();
            }
            if next.is_some_and(|d| d.is_ascii_digit()) {
                self.bump();
                if self.rest().starts_with(['+', '-']) {
                    self.bump();
                }
                self.bump_while(|c| c.is_ascii_digit());
            }
        }
    }

    fn word(&mut self) -> TokenKind {
        let start = self.offset();
        self.bump_while(|c| is_ident_start(c) || c.is_ascii_digit() || c == '$');
        let end = self.offset();
        let word = self.sql.get(start..end).unwrap_or_default();
        let rest = self.rest();
        let lower = word.to_ascii_lowercase();
        if rest.starts_with('\'') && matches!(lower.as_str(), "e" | "b" | "x" | "n") {
            self.quoted('\'', lower == "e");
            return TokenKind::String;
        }
        if lower == "u" && (rest.starts_with("&'") || rest.starts_with("&\"")) {
            self.bump();
            let quote = if rest.starts_with("&'") { '\'' } else { '"' };
            self.quoted(quote, false);
            return if quote == '\'' {
                TokenKind::String
            } else {
                TokenKind::QuotedIdent
            };
        }
        TokenKind::Word
    }
}

/// How many characters the operator at the start of `rest` has. As in
/// PostgreSQL, it stops before a comment, and a multi-character operator
/// ends in `+` or `-` only if it holds one of `~!@#%^&|`?` (so `<>-1` is
/// `<>` and `-1`).
fn operator_len(rest: &str) -> usize {
    let mut chars: Vec<char> = Vec::new();
    for (i, c) in rest.char_indices() {
        let tail = rest.get(i..).unwrap_or_default();
        if !OPERATOR_CHARS.contains(c)
            || (i > 0 && (tail.starts_with("--") || tail.starts_with("/*")))
        {
            break;
        }
        chars.push(c);
    }
    if chars.len() > 1 && !chars.iter().any(|c| "~!@#%^&|`?".contains(*c)) {
        while chars.len() > 1 && matches!(chars.last(), Some('+' | '-')) {
            chars.pop();
        }
    }
    chars.len().max(1)
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_' || (!c.is_ascii() && !c.is_whitespace())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(sql: &str) -> Vec<(TokenKind, &str)> {
        significant(sql).iter().map(|t| (t.kind, t.text)).collect()
    }

    #[test]
    fn joins_back_to_its_input() {
        for sql in [
            "SELECT 'a''b', E'it\\'s', $q$ x $q$, \"Mixed\"\"Case\" -- done",
            "x::numeric(10,2)[] >= -1.5e3 /* a /* nested */ comment */",
            "label <> 'abé' AND Ünïcode = U&'\\00e9' AND $1 IS NULL",
            "'unterminated",
            "/* unterminated",
            "$$ unterminated",
        ] {
            let joined: String = tokenize(sql).iter().map(|t| t.text).collect();
            assert_eq!(joined, sql);
        }
    }

    #[test]
    fn leading_trivia_stops_at_the_first_statement() {
        for sql in [
            "-- strata:no-transaction\n/* a */ CREATE INDEX x ON t (a); -- later",
            "CREATE TABLE t (); -- strata:no-transaction",
            "-- only a comment",
            "",
            "/* unterminated",
        ] {
            let whole: Vec<Token<'_>> = tokenize(sql)
                .into_iter()
                .take_while(Token::is_trivia)
                .collect();
            assert_eq!(leading_trivia(sql), whole, "{sql:?}");
        }
    }

    #[test]
    fn knows_literals_names_and_punctuation() {
        use TokenKind::*;
        assert_eq!(
            kinds("CREATE TABLE \"{tenant}\".\"t\" (x text DEFAULT E'a\\'b');"),
            vec![
                (Word, "CREATE"),
                (Word, "TABLE"),
                (QuotedIdent, "\"{tenant}\""),
                (Punct, "."),
                (QuotedIdent, "\"t\""),
                (Punct, "("),
                (Word, "x"),
                (Word, "text"),
                (Word, "DEFAULT"),
                (String, "E'a\\'b'"),
                (Punct, ")"),
                (Punct, ";"),
            ]
        );
        assert_eq!(
            kinds("a$b $1 $body$ ; $body$ x::int"),
            vec![
                (Word, "a$b"),
                (Param, "$1"),
                (Dollar, "$body$ ; $body$"),
                (Word, "x"),
                (Punct, "::"),
                (Word, "int"),
            ]
        );
        assert_eq!(
            kinds("a<>-1--c"),
            vec![
                (Word, "a"),
                (Operator, "<>"),
                (Operator, "-"),
                (Number, "1")
            ]
        );
    }
}
