//! What one SQL-bodied object's statement is: the kind, schema, name and
//! argument types of a `CREATE FUNCTION` or `CREATE PROCEDURE`, the name,
//! table and function of a `CREATE TRIGGER`. Read from the tokens of the one
//! [`crate::lexer`], so a body in dollar quotes, a comment or a string
//! never looks like a name.
//!
//! It identifies, it does not validate: PostgreSQL checks the statement when
//! the migration runs.

use std::ops::Range;

use crate::lexer::{significant, Token};
use crate::types::canonical_type;
use crate::QualifiedName;

/// A function or a procedure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RoutineKind {
    /// `CREATE FUNCTION`.
    Function,
    /// `CREATE PROCEDURE`.
    Procedure,
}

impl RoutineKind {
    /// `FUNCTION` or `PROCEDURE`.
    pub fn keyword(self) -> &'static str {
        match self {
            RoutineKind::Function => "FUNCTION",
            RoutineKind::Procedure => "PROCEDURE",
        }
    }
}

/// What a statement creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqlObject {
    /// A function or procedure.
    Routine {
        /// Which.
        kind: RoutineKind,
        /// Its schema and name.
        name: QualifiedName,
        /// The types of its input arguments, spelled as the catalog spells
        /// them (no type modifiers), joined with `, `: its identity.
        args: String,
        /// The tokens of the argument list and the `RETURNS` clause, joined
        /// with single spaces: when they change, `CREATE OR REPLACE` is
        /// refused and the routine must be dropped and made again.
        header: String,
        /// Where the schema-qualified name is in the statement.
        name_span: Range<usize>,
        /// Whether the statement says `OR REPLACE`; where `CREATE` ends.
        or_replace: bool,
        /// The byte offset just past `CREATE`.
        after_create: usize,
    },
    /// A sequence.
    Sequence {
        /// Its schema and name.
        name: QualifiedName,
        /// Its options, each with its key (`as`, `increment`, `minvalue`,
        /// `maxvalue`, `start`, `cache`, `cycle`, `owned`), its text and
        /// where it is in the statement.
        options: Vec<SequenceOption>,
    },
    /// A trigger.
    Trigger {
        /// Its name.
        name: String,
        /// The table it is on.
        table: QualifiedName,
        /// The function it executes (its schema when the statement names one).
        function: (Option<String>, String),
        /// Where its name is in the statement.
        name_span: Range<usize>,
        /// Where the table's name is in the statement.
        table_span: Range<usize>,
    },
}

/// One option of a `CREATE SEQUENCE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SequenceOption {
    /// `as`, `increment`, `minvalue`, `maxvalue`, `start`, `cache`, `cycle` or `owned`.
    pub key: &'static str,
    /// Its words, as written, joined with single spaces.
    pub text: String,
    /// Its value: the number, the type, `none`/`cycle`/`no`, or for
    /// `owned` the column named (`schema.table.column`) or `none`.
    pub value: String,
    /// Where it is in the statement.
    pub span: Range<usize>,
}

/// Reads what `sql` (one statement, without its semicolon) creates, or says
/// why it is not something strata takes.
pub fn identify(sql: &str) -> Result<SqlObject, String> {
    let tokens = significant(sql);
    let mut at = Cursor {
        tokens: &tokens,
        i: 0,
    };
    if !at.eat_word("create") {
        return Err(crate::sql_files::not_taken(sql));
    }
    let after_create = tokens.first().map_or(0, Token::end);
    let or_replace = at.eat_word("or") && at.eat_word("replace");
    if at.eat_word("constraint") {
        // `CREATE CONSTRAINT TRIGGER`: a trigger that can be deferred to
        // the end of the transaction, dropped and read back as any other.
        if or_replace || !at.eat_word("trigger") {
            return Err("`CREATE CONSTRAINT` here is not a constraint trigger: write `CREATE CONSTRAINT TRIGGER name AFTER … ON schema.table … EXECUTE FUNCTION schema.function()` (a table's constraints belong on its model)".to_owned());
        }
        return trigger(&mut at);
    }
    if at.eat_word("function") {
        routine(&mut at, RoutineKind::Function, or_replace, after_create)
    } else if at.eat_word("procedure") {
        routine(&mut at, RoutineKind::Procedure, or_replace, after_create)
    } else if at.eat_word("trigger") {
        trigger(&mut at)
    } else if at.eat_word("sequence") {
        sequence(&mut at)
    } else {
        Err(crate::sql_files::not_taken(sql))
    }
}

/// A walk over a statement's significant tokens.
pub(crate) struct Cursor<'t, 'a> {
    pub(crate) tokens: &'t [Token<'a>],
    pub(crate) i: usize,
}

impl<'t, 'a> Cursor<'t, 'a> {
    pub(crate) fn peek(&self) -> Option<&Token<'a>> {
        self.tokens.get(self.i)
    }

    pub(crate) fn peek_word(&self, word: &str) -> bool {
        self.peek().is_some_and(|t| t.is_word(word))
    }

    pub(crate) fn eat_word(&mut self, word: &str) -> bool {
        let found = self.peek_word(word);
        if found {
            self.i += 1;
        }
        found
    }

    /// A name, `schema.name` or `name`, with its span.
    pub(crate) fn name(&mut self) -> Option<(Option<String>, String, Range<usize>)> {
        let first = *self.peek()?;
        let first_name = first.name()?;
        let start = first.start;
        self.i += 1;
        if self.peek().is_some_and(|t| t.is_punct(".")) {
            let second = *self.tokens.get(self.i + 1)?;
            let second_name = second.name()?;
            self.i += 2;
            return Some((Some(first_name), second_name, start..second.end()));
        }
        Some((None, first_name, start..first.end()))
    }

    /// The tokens inside the parentheses that start here, the cursor left
    /// after the closing one.
    pub(crate) fn parenthesised(&mut self) -> Option<&'t [Token<'a>]> {
        if !self.peek().is_some_and(|t| t.is_punct("(")) {
            return None;
        }
        let open = self.i;
        let mut depth = 0usize;
        while let Some(token) = self.peek() {
            if token.is_punct("(") {
                depth += 1;
            } else if token.is_punct(")") {
                depth -= 1;
                if depth == 0 {
                    self.i += 1;
                    return self.tokens.get(open + 1..self.i - 1);
                }
            }
            self.i += 1;
        }
        None
    }
}

/// Words that end a `RETURNS` clause.
const ATTRIBUTES: &[&str] = &[
    "language",
    "as",
    "immutable",
    "stable",
    "volatile",
    "strict",
    "called",
    "security",
    "external",
    "leakproof",
    "not",
    "parallel",
    "cost",
    "rows",
    "support",
    "set",
    "window",
    "transform",
    "begin",
    "return",
];

fn routine(
    at: &mut Cursor<'_, '_>,
    kind: RoutineKind,
    or_replace: bool,
    after_create: usize,
) -> Result<SqlObject, String> {
    let keyword = kind.keyword();
    let Some((schema, name, name_span)) = at.name() else {
        return Err(format!("`CREATE {keyword}` must be followed by its name"));
    };
    let Some(schema) = schema else {
        return Err(format!(
            "name the schema of {keyword} {name}: `CREATE {keyword} app.{name}(…)`, so that it is created where strata manages it whatever the search_path"
        ));
    };
    let Some(arg_tokens) = at.parenthesised() else {
        return Err(format!(
            "{keyword} {schema}.{name} needs its argument list in parentheses"
        ));
    };
    let mut header: Vec<&str> = arg_tokens.iter().map(|t| t.text).collect();
    let args = identity(arg_tokens, kind);
    if at.eat_word("returns") {
        header.push("returns");
        let mut depth = 0usize;
        while let Some(token) = at.peek() {
            if depth == 0 && ATTRIBUTES.iter().any(|w| token.is_word(w)) {
                break;
            }
            if token.is_punct("(") {
                depth += 1;
            } else if token.is_punct(")") {
                depth = depth.saturating_sub(1);
            }
            header.push(token.text);
            at.i += 1;
        }
    }
    let header = header
        .iter()
        .map(|t| t.to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join(" ");
    Ok(SqlObject::Routine {
        kind,
        name: QualifiedName::new(schema, name),
        args,
        header,
        name_span,
        or_replace,
        after_create,
    })
}

/// Words that start a type of more than one word, so that the word before
/// is no argument name.
const TWO_WORD_TYPES: &[(&str, &str)] = &[
    ("double", "precision"),
    ("character", "varying"),
    ("bit", "varying"),
    ("timestamp", "with"),
    ("timestamp", "without"),
    ("time", "with"),
    ("time", "without"),
];

/// The input argument types of an argument list, as the catalog spells them.
pub(crate) fn identity(tokens: &[Token<'_>], kind: RoutineKind) -> String {
    let mut args: Vec<&[Token<'_>]> = Vec::new();
    let mut depth = 0usize;
    let mut from = 0;
    for (i, token) in tokens.iter().enumerate() {
        if token.is_punct("(") || token.is_punct("[") {
            depth += 1;
        } else if token.is_punct(")") || token.is_punct("]") {
            depth = depth.saturating_sub(1);
        } else if token.is_punct(",") && depth == 0 {
            args.push(tokens.get(from..i).unwrap_or_default());
            from = i + 1;
        }
    }
    if from < tokens.len() {
        args.push(tokens.get(from..).unwrap_or_default());
    }
    let mut types = Vec::new();
    for arg in args {
        let mut arg = arg;
        // Without its default.
        if let Some(cut) = arg
            .iter()
            .position(|t| t.is_word("default") || (t.text == "=" && !t.is_trivia()))
        {
            arg = arg.get(..cut).unwrap_or_default();
        }
        let mode = ["in", "out", "inout", "variadic"]
            .into_iter()
            .find(|m| arg.first().is_some_and(|t| t.is_word(m)));
        if mode.is_some() {
            arg = arg.get(1..).unwrap_or_default();
        }
        // OUT arguments are no part of a function's identity.
        if mode == Some("out") && kind == RoutineKind::Function {
            continue;
        }
        let named = match arg {
            [first, second, ..] => {
                let two_word = TWO_WORD_TYPES
                    .iter()
                    .any(|(a, b)| first.is_word(a) && second.is_word(b));
                first.name().is_some()
                    && !two_word
                    && !second.is_punct(".")
                    && !second.is_punct("(")
                    && !second.is_punct("[")
                    && second.text != "%"
            }
            _ => false,
        };
        if named {
            arg = arg.get(1..).unwrap_or_default();
        }
        types.push(spell_type(arg));
    }
    types.join(", ")
}

/// A type as the catalog spells an argument's: qualified names unquoted,
/// built-in names canonical, without type modifiers.
fn spell_type(tokens: &[Token<'_>]) -> String {
    if let [schema, dot, name, rest @ ..] = tokens {
        if dot.is_punct(".") {
            if let (Some(schema), Some(name)) = (schema.name(), name.name()) {
                let dims: String = rest.iter().map(|t| t.text).collect();
                return format!("{schema}.{name}{dims}");
            }
        }
    }
    let mut text = String::new();
    let mut depth = 0usize;
    for token in tokens {
        if token.is_punct("(") {
            depth += 1;
            continue;
        }
        if token.is_punct(")") {
            depth = depth.saturating_sub(1);
            continue;
        }
        if depth > 0 {
            continue;
        }
        if !text.is_empty() && !token.is_punct("[") && !token.is_punct("]") {
            text.push(' ');
        }
        match token.name() {
            Some(name) if token.kind == crate::lexer::TokenKind::Word => text.push_str(&name),
            _ => text.push_str(token.text),
        }
    }
    canonical_type(&text.replace(" [", "[").replace("[ ]", "[]"))
}

fn trigger(at: &mut Cursor<'_, '_>) -> Result<SqlObject, String> {
    let Some((None, name, name_span)) = at.name() else {
        return Err("`CREATE TRIGGER` must be followed by its name (a trigger has no schema of its own: it lives on its table)".to_owned());
    };
    // Up to the ON before the table.
    while at.peek().is_some_and(|t| !t.is_word("on")) {
        at.i += 1;
    }
    if !at.eat_word("on") {
        return Err(format!("trigger {name} needs `ON schema.table`"));
    }
    let Some((Some(schema), table, table_span)) = at.name() else {
        return Err(format!(
            "name the schema of the table trigger {name} is on: `ON app.orders`"
        ));
    };
    while at.peek().is_some_and(|t| !t.is_word("execute")) {
        at.i += 1;
    }
    if !(at.eat_word("execute") && (at.eat_word("function") || at.eat_word("procedure"))) {
        return Err(format!(
            "trigger {name} needs `EXECUTE FUNCTION schema.function()`"
        ));
    }
    let Some((fn_schema, function, _)) = at.name() else {
        return Err(format!(
            "trigger {name} needs `EXECUTE FUNCTION schema.function()`"
        ));
    };
    Ok(SqlObject::Trigger {
        name,
        table: QualifiedName::new(schema, table),
        function: (fn_schema, function),
        name_span,
        table_span,
    })
}

const SEQUENCE_OPTIONS: &str = "AS type, INCREMENT BY n, MINVALUE n | NO MINVALUE, MAXVALUE n | NO MAXVALUE, START WITH n, CACHE n, [NO] CYCLE, OWNED BY schema.table.column | NONE";

fn sequence(at: &mut Cursor<'_, '_>) -> Result<SqlObject, String> {
    if at.eat_word("if") {
        return Err("write `CREATE SEQUENCE schema.name`, without IF NOT EXISTS: strata knows whether it exists".to_owned());
    }
    let Some((schema, name, _)) = at.name() else {
        return Err("`CREATE SEQUENCE` must be followed by its name".to_owned());
    };
    let Some(schema) = schema else {
        return Err(format!(
            "name the schema of sequence {name}: `CREATE SEQUENCE app.{name}`"
        ));
    };
    let label = format!("sequence {schema}.{name}");
    let mut options: Vec<SequenceOption> = Vec::new();
    let number = |at: &mut Cursor<'_, '_>, what: &str| -> Result<String, String> {
        let mut text = String::new();
        if let Some(sign) = at.peek().filter(|t| t.text == "-" || t.text == "+") {
            text.push_str(sign.text);
            at.i += 1;
        }
        match at.peek() {
            Some(t) if t.kind == crate::lexer::TokenKind::Number => {
                text.push_str(t.text);
                at.i += 1;
                Ok(text)
            }
            _ => Err(format!("{label}: {what} takes a number")),
        }
    };
    while let Some(first) = at.peek().copied() {
        let start = first.start;
        let (key, value) = if at.eat_word("as") {
            let mut words = Vec::new();
            while let Some(t) = at.peek() {
                if t.kind != crate::lexer::TokenKind::Word
                    || [
                        "increment",
                        "minvalue",
                        "maxvalue",
                        "start",
                        "cache",
                        "cycle",
                        "no",
                        "owned",
                    ]
                    .iter()
                    .any(|w| t.is_word(w))
                {
                    break;
                }
                words.push(t.text.to_ascii_lowercase());
                at.i += 1;
            }
            ("as", canonical_type(&words.join(" ")))
        } else if at.eat_word("increment") {
            at.eat_word("by");
            ("increment", number(at, "INCREMENT BY")?)
        } else if at.eat_word("minvalue") {
            ("minvalue", number(at, "MINVALUE")?)
        } else if at.eat_word("maxvalue") {
            ("maxvalue", number(at, "MAXVALUE")?)
        } else if at.eat_word("start") {
            at.eat_word("with");
            ("start", number(at, "START WITH")?)
        } else if at.eat_word("cache") {
            ("cache", number(at, "CACHE")?)
        } else if at.eat_word("cycle") {
            ("cycle", "cycle".to_owned())
        } else if at.eat_word("no") {
            if at.eat_word("minvalue") {
                ("minvalue", "none".to_owned())
            } else if at.eat_word("maxvalue") {
                ("maxvalue", "none".to_owned())
            } else if at.eat_word("cycle") {
                ("cycle", "no".to_owned())
            } else {
                return Err(format!("{label}: NO takes MINVALUE, MAXVALUE or CYCLE"));
            }
        } else if at.eat_word("owned") {
            if !at.eat_word("by") {
                return Err(format!("{label}: write OWNED BY schema.table.column"));
            }
            if at.eat_word("none") {
                ("owned", "none".to_owned())
            } else {
                let mut parts = Vec::new();
                while let Some(part) = at.peek().and_then(Token::name) {
                    parts.push(part);
                    at.i += 1;
                    if !at.peek().is_some_and(|t| t.is_punct(".")) {
                        break;
                    }
                    at.i += 1;
                }
                if parts.len() != 3 {
                    return Err(format!(
                        "{label}: name the owning column with its schema and table: OWNED BY app.orders.number"
                    ));
                }
                ("owned", parts.join("."))
            }
        } else {
            return Err(format!(
                "{label}: `{}` is not a sequence option strata takes ({SEQUENCE_OPTIONS})",
                first.text
            ));
        };
        if options.iter().any(|o| o.key == key) {
            return Err(format!("{label}: {key} is given twice"));
        }
        let end =
            at.i.checked_sub(1)
                .and_then(|i| at.tokens.get(i))
                .map_or(start, Token::end);
        let text = at
            .tokens
            .iter()
            .filter(|t| t.start >= start && t.end() <= end)
            .map(|t| t.text)
            .collect::<Vec<_>>()
            .join(" ");
        options.push(SequenceOption {
            key,
            text,
            value,
            span: start..end,
        });
    }
    Ok(SqlObject::Sequence {
        name: QualifiedName::new(schema, name),
        options,
    })
}

/// A definition as `pg_get_functiondef` or `pg_get_triggerdef` prints it,
/// without the object's own name (and a trigger's table), so that the
/// server's spelling of a scratch copy compares with the live object's; and
/// without schema qualifiers outside its body, which the server prints or
/// leaves out by the `search_path` of the session that reads it.
pub fn definition_shape(def: &str) -> String {
    unqualified(&named_shape(def))
}

/// `text` with each `qualifier.` before a name dropped, outside strings,
/// bodies and comments.
fn unqualified(text: &str) -> String {
    let tokens = crate::lexer::tokenize(text);
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while let Some(token) = tokens.get(i) {
        let qualifier = token.name().is_some()
            && tokens.get(i + 1).is_some_and(|t| t.is_punct("."))
            && tokens.get(i + 2).is_some_and(|t| t.name().is_some());
        if qualifier {
            i += 2;
            continue;
        }
        out.push_str(token.text);
        i += 1;
    }
    out
}

fn named_shape(def: &str) -> String {
    const MARK: &str = "\u{1f}";
    match identify(def) {
        Ok(SqlObject::Routine { name_span, .. }) => replace_spans(def, &[(name_span, MARK)]),
        Ok(SqlObject::Trigger {
            name_span,
            table_span,
            ..
        }) => replace_spans(def, &[(name_span, MARK), (table_span, MARK)]),
        Ok(SqlObject::Sequence { .. }) | Err(_) => def.to_owned(),
    }
}

/// `sql` with the spans replaced, in order (they must not overlap).
pub fn replace_spans(sql: &str, spans: &[(Range<usize>, &str)]) -> String {
    let mut spans: Vec<&(Range<usize>, &str)> = spans.iter().collect();
    spans.sort_by_key(|(r, _)| r.start);
    let mut out = String::new();
    let mut at = 0;
    for (range, text) in spans {
        out.push_str(sql.get(at..range.start).unwrap_or_default());
        out.push_str(text);
        at = range.end;
    }
    out.push_str(sql.get(at..).unwrap_or_default());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(sql: &str) -> String {
        match identify(sql).unwrap() {
            SqlObject::Routine { args, .. } => args,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn argument_types_are_spelt_as_the_catalog_spells_them() {
        assert_eq!(
            args("CREATE FUNCTION app.f(a int, b varchar(10), VARIADIC c text[], OUT d bool) RETURNS record AS $$ $$ LANGUAGE sql"),
            "integer, character varying, text[]"
        );
        assert_eq!(
            args("create or replace function app.g(double precision, timestamptz, shop.order_status DEFAULT 'paid') returns void language plpgsql as $$begin end$$"),
            "double precision, timestamp with time zone, shop.order_status"
        );
        assert_eq!(
            args("CREATE FUNCTION \"App\".\"F\"() RETURNS int RETURN 1"),
            ""
        );
    }

    #[test]
    fn a_name_in_a_body_or_comment_is_not_taken_for_the_object() {
        let sql = "-- CREATE FUNCTION wrong.name()\nCREATE FUNCTION audit.log_change() RETURNS trigger LANGUAGE plpgsql AS $body$ BEGIN CREATE TABLE x.y (); END $body$";
        match identify(sql).unwrap() {
            SqlObject::Routine { name, header, .. } => {
                assert_eq!(name, QualifiedName::new("audit", "log_change"));
                assert_eq!(header, "returns trigger");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_trigger_names_its_table_and_function() {
        let sql = "CREATE TRIGGER orders_audit AFTER INSERT OR UPDATE OF status ON shop.orders FOR EACH ROW WHEN (NEW.id > 0) EXECUTE FUNCTION audit.log_change('orders')";
        match identify(sql).unwrap() {
            SqlObject::Trigger {
                name,
                table,
                function,
                ..
            } => {
                assert_eq!(name, "orders_audit");
                assert_eq!(table, QualifiedName::new("shop", "orders"));
                assert_eq!(
                    function,
                    (Some("audit".to_owned()), "log_change".to_owned())
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn what_sql_dir_does_not_take_says_so() {
        for (sql, says) in [
            (
                "CREATE TABLE app.t (id int)",
                "`CREATE TABLE app.t …` is not a function or procedure, sequence, domain, trigger, exclusion constraint, event trigger, publication, comment or grant",
            ),
            (
                "CREATE FUNCTION f() RETURNS int RETURN 1",
                "name the schema",
            ),
            (
                "CREATE TRIGGER t AFTER INSERT ON orders EXECUTE FUNCTION f()",
                "name the schema of the table",
            ),
            (
                "CREATE CONSTRAINT t AFTER INSERT ON a.b EXECUTE FUNCTION f()",
                "not a constraint trigger",
            ),
            ("", "is not a function"),
            ("DROP FUNCTION app.f()", "`DROP FUNCTION app.f …` is not"),
        ] {
            let error = identify(sql).unwrap_err();
            assert!(error.contains(says), "{sql}: {error}");
        }
    }

    #[test]
    fn a_sequence_gives_its_options() {
        let sql = "CREATE SEQUENCE shop.order_no AS integer INCREMENT BY 10 NO MAXVALUE START WITH -5 CACHE 20 NO CYCLE OWNED BY shop.orders.number";
        let SqlObject::Sequence { name, options } = identify(sql).unwrap() else {
            panic!()
        };
        assert_eq!(name, QualifiedName::new("shop", "order_no"));
        let got: Vec<(&str, &str)> = options.iter().map(|o| (o.key, o.value.as_str())).collect();
        assert_eq!(
            got,
            [
                ("as", "integer"),
                ("increment", "10"),
                ("maxvalue", "none"),
                ("start", "-5"),
                ("cache", "20"),
                ("cycle", "no"),
                ("owned", "shop.orders.number")
            ]
        );
        let owned = options.last().unwrap();
        assert_eq!(
            sql.get(owned.span.clone()),
            Some("OWNED BY shop.orders.number")
        );
        for (bad, says) in [
            ("CREATE SEQUENCE shop.s RESTART 5", "not a sequence option"),
            (
                "CREATE SEQUENCE shop.s OWNED BY orders.number",
                "with its schema and table",
            ),
            ("CREATE SEQUENCE s", "name the schema"),
            ("CREATE SEQUENCE shop.s CACHE 2 CACHE 3", "given twice"),
            (
                "CREATE SEQUENCE IF NOT EXISTS shop.s",
                "without IF NOT EXISTS",
            ),
        ] {
            let error = identify(bad).unwrap_err();
            assert!(error.contains(says), "{bad}: {error}");
        }
    }

    #[test]
    fn the_shape_leaves_out_the_name_only() {
        let a = definition_shape("CREATE OR REPLACE FUNCTION pg_temp_3.strata_x_0()\n RETURNS integer\n LANGUAGE sql\nAS $function$select 1$function$\n");
        let b = definition_shape("CREATE OR REPLACE FUNCTION app.one()\n RETURNS integer\n LANGUAGE sql\nAS $function$select 1$function$\n");
        assert_eq!(a, b);
        let c = definition_shape(
            "CREATE TRIGGER t AFTER INSERT ON shop.orders FOR EACH ROW EXECUTE FUNCTION f()",
        );
        let d = definition_shape("CREATE TRIGGER strata_x_1 AFTER INSERT ON pg_temp_3.strata_t_0 FOR EACH ROW EXECUTE FUNCTION audit.f()");
        assert_eq!(c, d);
    }
}
