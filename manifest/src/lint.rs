//! The lock findings a linter reports on generated SQL that strata already
//! answers for, marked where they stand.
//!
//! A linter reads one file and cannot know what strata knows: that a
//! change was confirmed as a hazard or a loss, that `varchar(40)` to `text`
//! changes only the catalog, that an index is on a materialized view made
//! by the statement above. Before each such statement strata writes
//! squawk's ignore comment, naming the rules it falls under and why:
//!
//! ```sql
//! -- squawk-ignore changing-column-type -- varchar(40) to text changes only the catalog
//! ALTER TABLE "shop"."customers" ALTER COLUMN "email" TYPE text;
//! ```
//!
//! so squawk stays quiet there and a reviewer reads the reason. Every other
//! statement is left to the linter: a finding on it is a defect of strata's
//! SQL, which `.ci/run` fails on.

use crate::lexer::{tokenize, Token, TokenKind};

/// The squawk rules about locks that `statement` falls under, from its
/// words; empty for a statement that takes no lock worth a finding. May
/// name a rule squawk would not report for it: squawk ignores those.
pub fn lock_rules(statement: &str) -> Vec<&'static str> {
    let words: Vec<String> = tokenize(statement)
        .iter()
        .filter(|t| t.kind == TokenKind::Word)
        .map(|t| t.text.to_ascii_uppercase())
        .collect();
    let has = |w: &str| words.iter().any(|x| x == w);
    let pair = |a: &str, b: &str| words.windows(2).any(|p| p[0] == a && p[1] == b);
    let starts = |prefix: &[&str]| {
        words.len() >= prefix.len() && words.iter().zip(prefix).all(|(w, p)| w == p)
    };
    let mut rules = Vec::new();
    if (starts(&["CREATE", "INDEX"]) || starts(&["CREATE", "UNIQUE", "INDEX"]))
        && !has("CONCURRENTLY")
    {
        rules.push("require-concurrent-index-creation");
    }
    if starts(&["DROP", "INDEX"]) && !has("CONCURRENTLY") {
        rules.push("require-concurrent-index-deletion");
    }
    if starts(&["ALTER", "TABLE"]) {
        let not_valid = pair("NOT", "VALID");
        let using_index = pair("USING", "INDEX");
        if has("TYPE") {
            rules.push("changing-column-type");
        }
        if pair("ADD", "COLUMN") && (has("DEFAULT") || has("GENERATED")) {
            rules.push("adding-field-with-default");
        }
        if pair("ADD", "COLUMN") && pair("NOT", "NULL") {
            rules.push("adding-required-field");
        }
        if pair("SET", "NOT") {
            rules.push("adding-not-nullable-field");
        }
        if has("FOREIGN") || has("REFERENCES") {
            rules.push("adding-foreign-key-constraint");
        }
        if pair("ADD", "CONSTRAINT") && !not_valid && !using_index {
            rules.push("constraint-missing-not-valid");
        }
        if has("UNIQUE") && !using_index {
            rules.push("disallowed-unique-constraint");
        }
        if pair("PRIMARY", "KEY") && !using_index {
            rules.push("adding-serial-primary-key-field");
        }
    }
    // A new check on a domain reads every column of its type, holding
    // writes to each table; `NOT VALID` does not help squawk's rule.
    if starts(&["ALTER", "DOMAIN"]) && pair("ADD", "CONSTRAINT") {
        rules.push("ban-alter-domain-with-add-constraint");
    }
    rules
}

/// `sql` with squawk's ignore comment, giving `why`, before each of its
/// statements that [`lock_rules`] finds rules for.
pub fn mark(sql: &str, why: &str) -> String {
    let tokens = tokenize(sql);
    let mut out = String::with_capacity(sql.len());
    let mut copied = 0;
    let mut first: Option<&Token<'_>> = None;
    let mut ends = crate::lexer::StatementEnds::default();
    for (i, token) in tokens.iter().enumerate() {
        if !token.is_trivia() && first.is_none() {
            first = Some(token);
        }
        let last = i + 1 == tokens.len();
        if !(ends.ends_at(token) || last) {
            continue;
        }
        if let Some(start) = first.take() {
            let rules = lock_rules(sql.get(start.start..token.end()).unwrap_or_default());
            if !rules.is_empty() {
                // At the start of the statement's line, which a generated
                // statement always has to itself.
                let before = sql.get(..start.start).unwrap_or_default();
                let line = before.rfind('\n').map_or(0, |n| n + 1);
                let at = match before.get(line..).unwrap_or_default().trim().is_empty() {
                    true => line,
                    false => start.start,
                };
                out.push_str(sql.get(copied..at).unwrap_or_default());
                if at != line {
                    out.push('\n');
                }
                out.push_str(&format!(
                    "-- squawk-ignore {} -- {}\n",
                    rules.join(", "),
                    why.replace('\n', " ")
                ));
                copied = at;
            }
        }
    }
    out.push_str(sql.get(copied..).unwrap_or_default());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_rules_of_each_locking_form_and_none_of_the_safe_ones() {
        let cases: &[(&str, &[&str])] = &[
            (
                r#"CREATE INDEX "i" ON "s"."t" ("a");"#,
                &["require-concurrent-index-creation"],
            ),
            (r#"CREATE INDEX CONCURRENTLY "i" ON "s"."t" ("a");"#, &[]),
            (
                r#"DROP INDEX "s"."i";"#,
                &["require-concurrent-index-deletion"],
            ),
            (
                r#"ALTER TABLE "s"."t" ALTER COLUMN "a" TYPE text;"#,
                &["changing-column-type"],
            ),
            (
                r#"ALTER TABLE "s"."t" ADD CONSTRAINT "f" FOREIGN KEY ("a") REFERENCES "s"."u" ("id");"#,
                &[
                    "adding-foreign-key-constraint",
                    "constraint-missing-not-valid",
                ],
            ),
            (
                r#"ALTER TABLE "s"."t" ADD CONSTRAINT "c" CHECK (a > 0) NOT VALID;"#,
                &[],
            ),
            (
                r#"ALTER TABLE "s"."t" ADD CONSTRAINT "u" UNIQUE USING INDEX "u";"#,
                &[],
            ),
            (
                r#"ALTER TABLE "s"."t" ADD COLUMN "n" bigint GENERATED ALWAYS AS (a * 2) STORED;"#,
                &["adding-field-with-default"],
            ),
            (r#"ALTER TABLE "s"."t" RENAME TO "u";"#, &[]),
            (
                r#"ALTER DOMAIN "s"."d" ADD CONSTRAINT "c" CHECK (VALUE > 0) NOT VALID;"#,
                &["ban-alter-domain-with-add-constraint"],
            ),
            (r#"ALTER DOMAIN "s"."d" DROP CONSTRAINT "c";"#, &[]),
            // Words inside a body or a string are not the statement's.
            (
                "CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $$ CREATE INDEX i ON t (a) $$;",
                &[],
            ),
        ];
        for (sql, want) in cases {
            assert_eq!(lock_rules(sql), *want, "{sql}");
        }
    }

    #[test]
    fn marks_only_the_statements_with_rules_and_keeps_the_rest_byte_for_byte() {
        let sql = "LOCK TABLE \"s\".\"t\" IN ACCESS EXCLUSIVE MODE;\nDROP INDEX \"s\".\"i\";\nALTER TABLE \"s\".\"t\" RENAME TO \"u\";";
        let marked = mark(sql, "hazard confirmed for s.t");
        assert_eq!(
            marked,
            "LOCK TABLE \"s\".\"t\" IN ACCESS EXCLUSIVE MODE;\n-- squawk-ignore require-concurrent-index-deletion -- hazard confirmed for s.t\nDROP INDEX \"s\".\"i\";\nALTER TABLE \"s\".\"t\" RENAME TO \"u\";"
        );
        let unmarked: String = marked
            .lines()
            .filter(|l| !l.starts_with("-- squawk-ignore"))
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(unmarked, sql);
        assert_eq!(
            mark("COMMENT ON TABLE t IS 'x';", "why"),
            "COMMENT ON TABLE t IS 'x';"
        );
    }

    #[test]
    fn a_statement_sharing_its_line_gets_a_line_of_its_own_for_the_comment() {
        let marked = mark("SELECT 1; DROP INDEX i;", "why");
        assert_eq!(
            marked,
            "SELECT 1; \n-- squawk-ignore require-concurrent-index-deletion -- why\nDROP INDEX i;"
        );
    }
}
