//! Domains from the files of `Builder::sql_dir` (`CREATE DOMAIN`): a base
//! type with a default, `NOT NULL` and named checks, usable as a column's
//! type. Created after the enum types and functions it may use and before
//! the tables whose columns use it; altered in place (`ALTER DOMAIN`) when
//! its default, `NOT NULL` or checks change, a new check added `NOT VALID`
//! and then validated; dropped after the columns that used it are gone.
//! Its base type and collation cannot change in place: that is refused,
//! with what to write instead.

use serde::{Deserialize, Serialize};

use super::{q, Change, Step};
use crate::diff::Plan;
use crate::lexer::{significant, Token};
use crate::sql_object::Cursor;
use crate::{canonical_default, canonical_expr, canonical_type, object_name, quote_ident};
use crate::{QualifiedName, SchemaState, Unconfirmed};

/// One domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Domain {
    /// Its schema.
    pub schema: String,
    /// Its name.
    pub name: String,
    /// Its statement, as its file holds it (without the closing semicolon).
    pub sql: String,
}

/// What a domain is, read from its statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainShape {
    /// The base type, as written.
    pub data_type: String,
    /// `COLLATE`, when it names one.
    pub collation: Option<String>,
    /// `DEFAULT`, the expression as written.
    pub default: Option<String>,
    /// `NOT NULL`.
    pub not_null: bool,
    /// The checks, in the order written.
    pub checks: Vec<DomainCheck>,
}

/// One named check of a domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainCheck {
    /// Its name.
    pub name: String,
    /// The expression inside `CHECK (…)`, as written.
    pub expr: String,
    /// False for a check added `NOT VALID` and never validated (as the
    /// catalog prints it).
    pub valid: bool,
}

/// Words that end a domain's type or default.
const CLAUSES: &[&str] = &["collate", "default", "constraint", "not", "null", "check"];

impl Domain {
    /// The domain `sql` creates, or why `sql` is none.
    pub fn from_sql(sql: &str) -> Result<Domain, String> {
        let sql = sql.trim().trim_end_matches(';').trim_end();
        let (name, _) = parse(sql)?;
        Ok(Domain {
            schema: name.schema,
            name: name.name,
            sql: sql.to_owned(),
        })
    }

    /// `schema.name`.
    pub fn qualified_name(&self) -> QualifiedName {
        QualifiedName::new(&self.schema, &self.name)
    }

    /// What its statement says. A statement [`Domain::from_sql`] took
    /// always reads; `None` only for one edited into a manifest by hand.
    pub fn shape(&self) -> Option<DomainShape> {
        parse(&self.sql).ok().map(|(_, shape)| shape)
    }

    /// Its statement as the server would make a copy of it called `name`
    /// (`pg_temp.x`): for reading back the server's spelling.
    pub fn renamed(&self, name: &str) -> String {
        match name_span(&self.sql) {
            Some(span) => crate::sql_object::replace_spans(&self.sql, &[(span, name)]),
            None => self.sql.clone(),
        }
    }
}

impl DomainShape {
    /// The shape with each part in a canonical spelling, for telling
    /// whether two statements mean the same domain.
    fn canonical(&self) -> DomainShape {
        DomainShape {
            data_type: canonical_type(&self.data_type),
            collation: self
                .collation
                .as_ref()
                .map(|c| c.trim_matches('"').to_owned()),
            default: self.default.as_deref().map(canonical_default),
            not_null: self.not_null,
            checks: self
                .checks
                .iter()
                .map(|c| DomainCheck {
                    expr: canonical_expr(&c.expr),
                    ..c.clone()
                })
                .collect(),
        }
    }
}

fn text_of(sql: &str, tokens: &[Token<'_>]) -> String {
    match (tokens.first(), tokens.last()) {
        (Some(first), Some(last)) => sql
            .get(first.start..last.end())
            .unwrap_or_default()
            .to_owned(),
        _ => String::new(),
    }
}

fn name_span(sql: &str) -> Option<std::ops::Range<usize>> {
    let tokens = significant(sql);
    let mut at = Cursor {
        tokens: &tokens,
        i: 0,
    };
    (at.eat_word("create") && at.eat_word("domain"))
        .then(|| at.name())
        .flatten()
        .map(|(_, _, span)| span)
}

/// Reads `CREATE DOMAIN schema.name [AS] type [COLLATE c] [DEFAULT e]
/// [CONSTRAINT n] {NOT NULL | NULL | CHECK (e)} …`.
fn parse(sql: &str) -> Result<(QualifiedName, DomainShape), String> {
    let tokens = significant(sql);
    let mut at = Cursor {
        tokens: &tokens,
        i: 0,
    };
    if !(at.eat_word("create") && at.eat_word("domain")) {
        return Err("not a domain".to_owned());
    }
    let Some((schema, name, _)) = at.name() else {
        return Err("`CREATE DOMAIN` must be followed by its name".to_owned());
    };
    let Some(schema) = schema else {
        return Err(format!(
            "name the schema of domain {name}: `CREATE DOMAIN app.{name} AS …`"
        ));
    };
    let label = format!("domain {schema}.{name}");
    at.eat_word("as");
    let data_type = until_clause(&mut at);
    if data_type.is_empty() {
        return Err(format!(
            "{label} needs its base type: `CREATE DOMAIN {schema}.{name} AS integer …`"
        ));
    }
    let mut shape = DomainShape {
        data_type: text_of(sql, data_type),
        collation: None,
        default: None,
        not_null: false,
        checks: Vec::new(),
    };
    while let Some(token) = at.peek().copied() {
        if at.eat_word("collate") {
            let collation = until_clause(&mut at);
            shape.collation = Some(text_of(sql, collation));
            continue;
        }
        if at.eat_word("default") {
            // At least one token: `DEFAULT NULL` is a default.
            let from = at.i;
            at.i += 1;
            until_clause(&mut at);
            shape.default = Some(text_of(sql, tokens.get(from..at.i).unwrap_or_default()));
            continue;
        }
        let mut named = None;
        if at.eat_word("constraint") {
            named = at.peek().and_then(Token::name);
            at.i += 1;
        }
        if at.eat_word("not") {
            if !at.eat_word("null") {
                return Err(format!("{label}: `NOT` here must be `NOT NULL`"));
            }
            shape.not_null = true;
        } else if at.eat_word("null") {
            shape.not_null = false;
        } else if at.eat_word("check") {
            let Some(inner) = at.parenthesised() else {
                return Err(format!(
                    "{label}: `CHECK` needs its expression in parentheses"
                ));
            };
            let valid = !(at.peek_word("not")
                && at.tokens.get(at.i + 1).is_some_and(|t| t.is_word("valid")));
            if !valid {
                at.i += 2;
            }
            let Some(name) = named else {
                return Err(format!(
                    "{label}: name its check, `CONSTRAINT {name}_check CHECK ({})`, so that a later change can drop it by name",
                    text_of(sql, inner)
                ));
            };
            shape.checks.push(DomainCheck {
                name,
                expr: text_of(sql, inner),
                valid,
            });
        } else {
            return Err(format!(
                "{label}: `{}` is not a part of a domain strata takes (COLLATE, DEFAULT, NOT NULL, NULL, CONSTRAINT name CHECK (…))",
                token.text
            ));
        }
    }
    Ok((QualifiedName::new(schema, name), shape))
}

/// The tokens up to the next clause word outside parentheses.
fn until_clause<'t, 'a>(at: &mut Cursor<'t, 'a>) -> &'t [Token<'a>] {
    let from = at.i;
    let mut depth = 0usize;
    while let Some(token) = at.peek() {
        if depth == 0 && CLAUSES.iter().any(|w| token.is_word(w)) {
            break;
        }
        if token.is_punct("(") {
            depth += 1;
        } else if token.is_punct(")") {
            depth = depth.saturating_sub(1);
        }
        at.i += 1;
    }
    at.tokens.get(from..at.i).unwrap_or_default()
}

impl SchemaState {
    /// Adds a domain (and its schema), keeping the order stable.
    pub fn add_domain(&mut self, domain: Domain) {
        self.schemas.insert(domain.schema.clone());
        let at = self
            .domains
            .partition_point(|d| (&d.schema, &d.name) < (&domain.schema, &domain.name));
        self.domains.insert(at, domain);
    }
}

/// Domains in `sql_dir` files.
pub(crate) const FILE: crate::SqlFileKind = crate::SqlFileKind {
    noun: "domain",
    opens: &["create domain"],
    several: false,
    take: |sql, state| {
        let domain = Domain::from_sql(sql)?;
        crate::sql_files::checked_schema(&domain.schema)?;
        if state
            .domains
            .iter()
            .any(|d| d.schema == domain.schema && d.name == domain.name)
        {
            return Err(format!(
                "domain {}.{} is declared twice",
                domain.schema, domain.name
            ));
        }
        state.add_domain(domain);
        Ok(())
    },
    files: |state| {
        state
            .domains
            .iter()
            .map(|d| crate::SqlFile {
                folder: "domains",
                schema: d.schema.clone(),
                name: d.name.clone(),
                stem: vec![d.schema.clone(), d.name.clone()],
                sql: d.sql.clone(),
            })
            .collect()
    },
    retain: |state, keep| state.domains.retain(|d| keep(&d.schema)),
};

/// A change to a domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum DomainChange {
    /// Its statement.
    CreateDomain {
        /// The domain.
        domain: Domain,
    },
    /// `ALTER DOMAIN`, a statement for each part that changed.
    AlterDomain {
        /// As it was.
        before: Domain,
        /// As it is now.
        after: Domain,
    },
    /// `DROP DOMAIN`, once no column uses it.
    DropDomain {
        /// The domain as it was.
        domain: Domain,
    },
}

pub(crate) const OPS: &[&str] = &["create_domain", "alter_domain", "drop_domain"];

pub(crate) fn diff(old: &SchemaState, new: &SchemaState, plan: &mut Plan<'_>) {
    let find = |state: &'_ SchemaState, d: &Domain| {
        state
            .domains
            .iter()
            .find(|o| o.schema == d.schema && o.name == d.name)
            .cloned()
    };
    for domain in &new.domains {
        let Some(before) = find(old, domain) else {
            plan.push(DomainChange::CreateDomain {
                domain: domain.clone(),
            });
            continue;
        };
        let (Some(was), Some(now)) = (before.shape(), domain.shape()) else {
            continue;
        };
        let (was, now) = (was.canonical(), now.canonical());
        if was == now {
            continue;
        }
        if was.data_type != now.data_type || was.collation != now.collation {
            plan.problems.push(format!(
                "domain {}.{} changes its base type or collation ({} to {}), which PostgreSQL cannot alter in place: make a domain under a new name, change the columns to it, then delete this one's file",
                domain.schema, domain.name, was.data_type, now.data_type
            ));
            continue;
        }
        plan.hazardous(DomainChange::AlterDomain {
            before,
            after: domain.clone(),
        });
    }
    for domain in &old.domains {
        if find(new, domain).is_none() {
            plan.push(DomainChange::DropDomain {
                domain: domain.clone(),
            });
        }
    }
}

/// The statements that turn `before` into `after`: checks dropped first,
/// then the default and `NOT NULL`, then checks added `NOT VALID` and
/// validated (which reads every column of the domain's type, but never
/// under a lock that stops reads).
fn alter_statements(before: &Domain, after: &Domain) -> Vec<String> {
    let name = q(&after.qualified_name());
    let (Some(was), Some(now)) = (before.shape(), after.shape()) else {
        return Vec::new();
    };
    let same_check = |a: &DomainCheck, b: &DomainCheck| {
        a.name == b.name && canonical_expr(&a.expr) == canonical_expr(&b.expr)
    };
    let mut out = Vec::new();
    for check in &was.checks {
        if !now.checks.iter().any(|c| same_check(c, check)) {
            out.push(format!(
                "ALTER DOMAIN {name} DROP CONSTRAINT {};",
                quote_ident(&check.name)
            ));
        }
    }
    let (old_default, new_default) = (
        was.default.as_deref().map(canonical_default),
        now.default.as_deref().map(canonical_default),
    );
    if old_default != new_default {
        out.push(match &now.default {
            Some(default) => format!("ALTER DOMAIN {name} SET DEFAULT {default};"),
            None => format!("ALTER DOMAIN {name} DROP DEFAULT;"),
        });
    }
    if was.not_null != now.not_null {
        out.push(format!(
            "ALTER DOMAIN {name} {} NOT NULL;",
            if now.not_null { "SET" } else { "DROP" }
        ));
    }
    for check in &now.checks {
        if !was.checks.iter().any(|c| same_check(c, check)) {
            let constraint = quote_ident(&check.name);
            out.push(format!(
                "ALTER DOMAIN {name} ADD CONSTRAINT {constraint} CHECK ({}) NOT VALID;",
                check.expr
            ));
            out.push(format!(
                "ALTER DOMAIN {name} VALIDATE CONSTRAINT {constraint};"
            ));
        }
    }
    out
}

impl Step for DomainChange {
    fn order(&self) -> (usize, u8) {
        match self {
            // After the enum types and functions it may use, before the
            // tables whose columns use it.
            DomainChange::CreateDomain { .. } => (0, 6),
            // With the column changes, after those that stop using a check.
            DomainChange::AlterDomain { .. } => (3, 1),
            // After the columns and tables that used it, before the
            // functions and enum types it used.
            DomainChange::DropDomain { .. } => (7, 5),
        }
    }

    fn section(&self) -> Option<&'static str> {
        Some("domains")
    }

    fn describe(&self) -> String {
        match self {
            DomainChange::CreateDomain { domain } => format!("create domain {}", domain.name),
            DomainChange::AlterDomain { after, .. } => format!("alter domain {}", after.name),
            DomainChange::DropDomain { domain } => format!("drop domain {}", domain.name),
        }
    }

    fn naming(&self) -> Option<(u8, &'static str, &'static str)> {
        Some(match self {
            DomainChange::CreateDomain { .. } => (3, "create", "domains"),
            DomainChange::AlterDomain { .. } => (3, "change", "domains"),
            DomainChange::DropDomain { .. } => (3, "drop", "domains"),
        })
    }

    fn hazard(&self) -> Option<Unconfirmed> {
        let DomainChange::AlterDomain { before, after } = self else {
            return None;
        };
        let (was, now) = (before.shape()?, after.shape()?);
        let tightens = (now.not_null && !was.not_null)
            || now.checks.iter().any(|c| {
                !was.checks
                    .iter()
                    .any(|w| w.name == c.name && canonical_expr(&w.expr) == canonical_expr(&c.expr))
            });
        tightens.then(|| Unconfirmed {
            object: object_name(&[&after.schema, &after.name]),
            what: "alter domain: a new check or NOT NULL reads every column of the domain's type, holding writes to each table while it reads".to_owned(),
            help: "confirm it once the tables that use the domain are small or quiet; on a busy table, move its column to a new domain in a later migration instead".to_owned(),
        })
    }

    fn inverse(&self) -> Vec<Change> {
        let change = match self.clone() {
            DomainChange::CreateDomain { domain } => DomainChange::DropDomain { domain },
            DomainChange::AlterDomain { before, after } => DomainChange::AlterDomain {
                before: after,
                after: before,
            },
            DomainChange::DropDomain { domain } => DomainChange::CreateDomain { domain },
        };
        vec![change.into()]
    }

    fn apply_to(&self, state: &mut SchemaState) {
        match self {
            DomainChange::CreateDomain { domain } => state.add_domain(domain.clone()),
            DomainChange::AlterDomain { after, .. } => {
                state
                    .domains
                    .retain(|d| !(d.schema == after.schema && d.name == after.name));
                state.add_domain(after.clone());
            }
            DomainChange::DropDomain { domain } => state
                .domains
                .retain(|d| !(d.schema == domain.schema && d.name == domain.name)),
        }
    }

    fn render(&self) -> String {
        match self {
            DomainChange::CreateDomain { domain } => format!("{};", domain.sql),
            DomainChange::AlterDomain { before, after } => {
                alter_statements(before, after).join("\n")
            }
            DomainChange::DropDomain { domain } => {
                format!("DROP DOMAIN {};", q(&domain.qualified_name()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_domain_gives_its_parts_as_written() {
        let sql = r#"CREATE DOMAIN shop.code AS varchar(10) COLLATE "C" DEFAULT 'x' CONSTRAINT code_nn NOT NULL CONSTRAINT code_letters CHECK (VALUE ~ '^[a-z]+$') CONSTRAINT code_long CHECK (length(VALUE) > 1) NOT VALID"#;
        let domain = Domain::from_sql(sql).unwrap();
        assert_eq!(
            (domain.schema.as_str(), domain.name.as_str()),
            ("shop", "code")
        );
        let shape = domain.shape().unwrap();
        assert_eq!(shape.data_type, "varchar(10)");
        assert_eq!(shape.collation.as_deref(), Some(r#""C""#));
        assert_eq!(shape.default.as_deref(), Some("'x'"));
        assert!(shape.not_null);
        let checks: Vec<(&str, &str, bool)> = shape
            .checks
            .iter()
            .map(|c| (c.name.as_str(), c.expr.as_str(), c.valid))
            .collect();
        assert_eq!(
            checks,
            [
                ("code_letters", "VALUE ~ '^[a-z]+$'", true),
                ("code_long", "length(VALUE) > 1", false)
            ]
        );
        assert_eq!(
            domain.renamed("pg_temp.x"),
            sql.replacen("shop.code", "pg_temp.x", 1)
        );
    }

    #[test]
    fn what_a_domain_file_cannot_say_is_refused_with_what_to_write() {
        for (sql, says) in [
            (
                "CREATE DOMAIN year AS integer",
                "name the schema of domain year",
            ),
            ("CREATE DOMAIN s.year", "needs its base type"),
            (
                "CREATE DOMAIN s.year AS integer CHECK (VALUE > 1900)",
                "CONSTRAINT year_check CHECK (VALUE > 1900)",
            ),
            (
                "CREATE DOMAIN s.year AS integer NOT 5",
                "must be `NOT NULL`",
            ),
            ("CREATE DOMAIN s.year AS integer CHECK", "in parentheses"),
        ] {
            let error = Domain::from_sql(sql).unwrap_err();
            assert!(error.contains(says), "{sql}: {error}");
        }
    }

    #[test]
    fn an_altered_domain_drops_then_sets_then_adds_and_validates() {
        let before = Domain::from_sql(
            "CREATE DOMAIN s.d AS int DEFAULT 1 CONSTRAINT a CHECK (VALUE > 0) CONSTRAINT b CHECK (VALUE < 9)",
        )
        .unwrap();
        let after = Domain::from_sql(
            "CREATE DOMAIN s.d AS int NOT NULL CONSTRAINT a CHECK (VALUE > 0) CONSTRAINT c CHECK (VALUE < 99)",
        )
        .unwrap();
        let change = DomainChange::AlterDomain { before, after };
        assert_eq!(
            change.render(),
            [
                r#"ALTER DOMAIN "s"."d" DROP CONSTRAINT "b";"#,
                r#"ALTER DOMAIN "s"."d" DROP DEFAULT;"#,
                r#"ALTER DOMAIN "s"."d" SET NOT NULL;"#,
                r#"ALTER DOMAIN "s"."d" ADD CONSTRAINT "c" CHECK (VALUE < 99) NOT VALID;"#,
                r#"ALTER DOMAIN "s"."d" VALIDATE CONSTRAINT "c";"#,
            ]
            .join("\n")
        );
        assert!(change.hazard().is_some());
        let back = &change.inverse()[0];
        assert!(back
            .render()
            .contains(r#"ADD CONSTRAINT "b" CHECK (VALUE < 9) NOT VALID"#));
        assert!(back.render().contains(r#"SET DEFAULT 1;"#));
        assert!(
            back.hazard().is_some(),
            "putting a check back reads the columns too"
        );
    }
}
