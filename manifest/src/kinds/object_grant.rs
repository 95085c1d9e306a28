//! Privileges on functions, procedures, sequences and types (enums and
//! domains), from `GRANT` and `REVOKE` files of `Builder::sql_dir`. The
//! state holds where an object's privileges differ from what PostgreSQL
//! gives a new one (`EXECUTE` to `PUBLIC` on a function, `USAGE` to
//! `PUBLIC` on a type, nothing on a sequence), never the owner's own. Set
//! once the object exists, and again when it is made again.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Change, Step};
use crate::diff::Plan;
use crate::sql_object::Cursor;
use crate::{quote_ident, ObjectRef, ObjectRefKind, SchemaState};

/// The privileges an object of `kind` takes, as SQL spells them.
fn privileges_of(kind: ObjectRefKind) -> &'static [&'static str] {
    match kind {
        ObjectRefKind::Function | ObjectRefKind::Procedure => &["EXECUTE"],
        ObjectRefKind::Sequence => &["SELECT", "UPDATE", "USAGE"],
        ObjectRefKind::Type => &["USAGE"],
        // A file names only the kinds above (`take_statement`).
        ObjectRefKind::View | ObjectRefKind::MaterializedView | ObjectRefKind::Index => &[],
    }
}

/// What a new object of `kind` gives: `PUBLIC` may execute a function or
/// use a type.
fn defaults(kind: ObjectRefKind) -> Acl {
    let mut acl = Acl::new();
    match kind {
        ObjectRefKind::Function | ObjectRefKind::Procedure => {
            acl.insert(("PUBLIC".to_owned(), "EXECUTE".to_owned()), false);
        }
        ObjectRefKind::Type => {
            acl.insert(("PUBLIC".to_owned(), "USAGE".to_owned()), false);
        }
        _ => {}
    }
    acl
}

/// One way an object's privileges differ from a new object's: a privilege
/// granted (`revoked` false), or one of the defaults revoked.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ObjectPrivilege {
    /// The object.
    #[serde(flatten)]
    pub on: ObjectRef,
    /// The role, or `PUBLIC`.
    pub grantee: String,
    /// `EXECUTE`, `USAGE`, `SELECT` or `UPDATE`.
    pub privilege: String,
    /// `WITH GRANT OPTION`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub grantable: bool,
    /// A default privilege taken away (`REVOKE … FROM PUBLIC`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub revoked: bool,
}

/// An object's privileges but its owner's: grantee and privilege, with
/// whether grantable.
pub type Acl = BTreeMap<(String, String), bool>;

/// The privileges of `on` in `state`.
pub fn acl(state: &SchemaState, on: &ObjectRef) -> Acl {
    let mut acl = defaults(on.kind);
    for p in state.object_privileges.iter().filter(|p| p.on == *on) {
        let key = (p.grantee.clone(), p.privilege.clone());
        if p.revoked {
            acl.remove(&key);
        } else {
            acl.insert(key, p.grantable);
        }
    }
    acl
}

/// How `acl` differs from the defaults of `on`'s kind.
pub fn deviations(on: &ObjectRef, acl: &Acl) -> Vec<ObjectPrivilege> {
    let defaults = defaults(on.kind);
    let entry =
        |(grantee, privilege): &(String, String), grantable: bool, revoked: bool| ObjectPrivilege {
            on: on.clone(),
            grantee: grantee.clone(),
            privilege: privilege.clone(),
            grantable,
            revoked,
        };
    let mut out: Vec<ObjectPrivilege> = acl
        .iter()
        .filter(|(key, grantable)| defaults.get(*key) != Some(*grantable))
        .map(|(key, grantable)| entry(key, *grantable, false))
        .chain(
            defaults
                .keys()
                .filter(|key| !acl.contains_key(*key))
                .map(|key| entry(key, false, true)),
        )
        .collect();
    out.sort();
    out
}

/// Sets the privileges of `on` in `state` to `acl`.
pub(crate) fn set_acl(state: &mut SchemaState, on: &ObjectRef, acl: &Acl) {
    state.object_privileges.retain(|p| p.on != *on);
    state.object_privileges.extend(deviations(on, acl));
    state.object_privileges.sort();
}

fn grantee_sql(grantee: &str) -> String {
    if grantee == "PUBLIC" {
        grantee.to_owned()
    } else {
        quote_ident(grantee)
    }
}

/// The `GRANT` and `REVOKE` statements (each with its semicolon) that take
/// `on` from `before` to `after`.
fn statements(on: &ObjectRef, before: &Acl, after: &Acl) -> Vec<String> {
    let target = on.target();
    let mut out = Vec::new();
    for ((grantee, privilege), grantable) in before {
        let who = grantee_sql(grantee);
        match after.get(&(grantee.clone(), privilege.clone())) {
            None => out.push(format!("REVOKE {privilege} ON {target} FROM {who};")),
            Some(false) if *grantable => out.push(format!(
                "REVOKE GRANT OPTION FOR {privilege} ON {target} FROM {who};"
            )),
            Some(_) => {}
        }
    }
    for ((grantee, privilege), grantable) in after {
        let before = before.get(&(grantee.clone(), privilege.clone()));
        if before.is_none() || (*grantable && before == Some(&false)) {
            let option = if *grantable { " WITH GRANT OPTION" } else { "" };
            out.push(format!(
                "GRANT {privilege} ON {target} TO {}{option};",
                grantee_sql(grantee)
            ));
        }
    }
    out
}

/// Reads one `GRANT` or `REVOKE` (without its semicolon) and applies it to
/// the privileges of its object in `state`.
fn take_statement(sql: &str, state: &mut SchemaState) -> Result<(), String> {
    let tokens = crate::lexer::significant(sql);
    let mut at = Cursor {
        tokens: &tokens,
        i: 0,
    };
    let grant = if at.eat_word("grant") {
        true
    } else if at.eat_word("revoke") {
        false
    } else {
        return Err(crate::sql_files::not_taken(sql));
    };
    let verb = if grant { "GRANT" } else { "REVOKE" };
    let option_only = !grant && at.eat_word("grant") && at.eat_word("option") && at.eat_word("for");
    let mut words = Vec::new();
    while let Some(token) = at.peek() {
        if token.is_word("on") {
            break;
        }
        if !token.is_punct(",") {
            words.push(token.text.to_uppercase());
        }
        at.i += 1;
    }
    if !at.eat_word("on") {
        return Err(format!("`{verb}` names its object after `ON`"));
    }
    let kind = if at.eat_word("function") {
        ObjectRefKind::Function
    } else if at.eat_word("procedure") {
        ObjectRefKind::Procedure
    } else if at.eat_word("sequence") {
        ObjectRefKind::Sequence
    } else if at.eat_word("type") || at.eat_word("domain") {
        ObjectRefKind::Type
    } else {
        return Err(format!(
            "sql_dir takes `{verb}` on a FUNCTION, PROCEDURE, SEQUENCE, TYPE or DOMAIN; a table's privileges are its model's `#[grant(…)]`, and a schema's `USAGE` follows them"
        ));
    };
    let on = ObjectRef::read(kind, &mut at, &format!("{verb} … ON"))?;
    if at.peek().is_some_and(|t| t.is_punct(",")) {
        return Err(format!(
            "`{verb}` on {on} and more: write one object per statement"
        ));
    }
    let privileges: Vec<String> = match words.as_slice() {
        [all] | [all, _] if all == "ALL" => privileges_of(kind)
            .iter()
            .map(|p| (*p).to_owned())
            .collect(),
        _ => words,
    };
    if let Some(wrong) = privileges
        .iter()
        .find(|p| !privileges_of(kind).contains(&p.as_str()))
    {
        return Err(format!(
            "{on}: `{wrong}` is no privilege of a {}; it takes {}",
            kind.keyword().to_lowercase(),
            privileges_of(kind).join(", ")
        ));
    }
    if !(if grant {
        at.eat_word("to")
    } else {
        at.eat_word("from")
    }) {
        return Err(format!(
            "`{verb}` on {on} goes on with `{}` and the roles",
            if grant { "TO" } else { "FROM" }
        ));
    }
    let mut grantees = Vec::new();
    while let Some(token) = at.peek() {
        if token.is_word("with")
            || token.is_word("granted")
            || token.is_word("cascade")
            || token.is_word("restrict")
        {
            break;
        }
        if !token.is_punct(",") {
            let Some(name) = token.name() else {
                return Err(format!("{on}: `{}` is no role", token.text));
            };
            // `PUBLIC` unquoted is every role; quoted, a role of that name.
            let public = token.is_word("public");
            grantees.push(if public { "PUBLIC".to_owned() } else { name });
        }
        at.i += 1;
    }
    let grantable = grant && at.eat_word("with") && at.eat_word("grant") && at.eat_word("option");
    if at.eat_word("cascade") {
        return Err(format!(
            "{on}: `CASCADE` would take privileges from roles no file names; revoke from each by name"
        ));
    }
    at.eat_word("restrict");
    if let Some(extra) = at.peek() {
        return Err(format!(
            "{on}: `{}` is not something strata reads in a `{verb}` (`GRANTED BY` is not taken)",
            extra.text
        ));
    }
    if grantees.is_empty() {
        return Err(format!("`{verb}` on {on} names no role"));
    }
    if !on.exists_in(state) {
        return Err(format!(
            "the {} is on {on}, which no model or sql_dir file declares; name it as its `CREATE` does (schema, name and argument types)",
            verb.to_lowercase()
        ));
    }
    let mut acl = acl(state, &on);
    for grantee in &grantees {
        for privilege in &privileges {
            let key = (grantee.clone(), privilege.clone());
            if grant {
                let was = acl.get(&key).copied().unwrap_or(false);
                acl.insert(key, was || grantable);
            } else if option_only {
                if let Some(grantable) = acl.get_mut(&key) {
                    *grantable = false;
                }
            } else {
                acl.remove(&key);
            }
        }
    }
    set_acl(state, &on, &acl);
    Ok(())
}

/// `GRANT` and `REVOKE` in `sql_dir` files, taken after the objects they
/// are on; a file may hold several, applied in order.
pub(crate) const FILE: crate::SqlFileKind = crate::SqlFileKind {
    noun: "grant",
    opens: &["grant", "revoke"],
    several: true,
    take: take_statement,
    files: |state| {
        let mut objects: Vec<&ObjectRef> = state.object_privileges.iter().map(|p| &p.on).collect();
        objects.dedup();
        objects
            .into_iter()
            .filter(|on| on.exists_in(state))
            .map(|on| crate::SqlFile {
                folder: "grants",
                schema: on.schema.clone(),
                name: match &on.args {
                    Some(args) => format!("{}({args})", on.name),
                    None => on.name.clone(),
                },
                stem: vec![on.schema.clone(), on.name.clone()],
                sql: statements(on, &defaults(on.kind), &acl(state, on))
                    .join("\n")
                    .trim_end_matches(';')
                    .to_owned(),
            })
            .collect()
    },
    retain: |state, keep| state.object_privileges.retain(|p| keep(&p.on.schema)),
};

/// The privileges of every object both states hold, or the new state
/// makes: set where they changed, and on an object the plan makes (or makes
/// again), from PostgreSQL's defaults. Diffed after every other kind.
pub(crate) fn diff(old: &SchemaState, new: &SchemaState, plan: &mut Plan<'_>) {
    let mut objects: Vec<&ObjectRef> = old
        .object_privileges
        .iter()
        .chain(&new.object_privileges)
        .map(|p| &p.on)
        .collect();
    objects.sort();
    objects.dedup();
    let mut changes = Vec::new();
    for on in objects {
        if !on.exists_in(new) {
            continue;
        }
        let made = plan.changes.iter().any(|c| on.made_by(c));
        let before = if made {
            Vec::new()
        } else {
            deviations(on, &acl(old, on))
        };
        let after = deviations(on, &acl(new, on));
        if before != after {
            changes.push(ObjectGrantChange::SetPrivileges {
                on: on.clone(),
                before,
                after,
            });
        }
    }
    for change in changes {
        plan.push(change);
    }
}

/// A change of an object's privileges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum ObjectGrantChange {
    /// The `GRANT`s and `REVOKE`s from one set of privileges to another.
    SetPrivileges {
        /// The object.
        on: ObjectRef,
        /// How its privileges differed from the defaults before.
        before: Vec<ObjectPrivilege>,
        /// How they differ after.
        after: Vec<ObjectPrivilege>,
    },
}

pub(crate) const OPS: &[&str] = &["set_privileges"];

/// The privileges the deviations `entries` of `on` give.
fn acl_of(on: &ObjectRef, entries: &[ObjectPrivilege]) -> Acl {
    let state = SchemaState {
        object_privileges: entries.to_vec(),
        ..SchemaState::default()
    };
    acl(&state, on)
}

impl Step for ObjectGrantChange {
    fn order(&self) -> (usize, u8) {
        // Once the functions, sequences and types exist, with the comments.
        (7, 5)
    }

    fn section(&self) -> Option<&'static str> {
        Some("grants")
    }

    fn describe(&self) -> String {
        let ObjectGrantChange::SetPrivileges { on, .. } = self;
        format!("grants on {} {}", on.kind.keyword().to_lowercase(), on.name)
    }

    fn naming(&self) -> Option<(u8, &'static str, &'static str)> {
        Some((6, "change", "grants"))
    }

    fn inverse(&self) -> Vec<Change> {
        let ObjectGrantChange::SetPrivileges { on, before, after } = self.clone();
        vec![ObjectGrantChange::SetPrivileges {
            on,
            before: after,
            after: before,
        }
        .into()]
    }

    fn apply_to(&self, state: &mut SchemaState) {
        let ObjectGrantChange::SetPrivileges { on, after, .. } = self;
        set_acl(state, on, &acl_of(on, after));
    }

    fn render(&self) -> String {
        let ObjectGrantChange::SetPrivileges { on, before, after } = self;
        statements(on, &acl_of(on, before), &acl_of(on, after)).join("\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state_with_function() -> SchemaState {
        let mut state = SchemaState::default();
        state.add_routine(
            crate::Routine::from_sql("CREATE FUNCTION app.f(n int) RETURNS int RETURN n").unwrap(),
        );
        state
    }

    #[test]
    fn grants_and_revokes_keep_what_differs_from_a_new_functions() {
        let mut state = state_with_function();
        for sql in [
            "GRANT EXECUTE ON FUNCTION app.f(integer) TO api, \"Odd\" WITH GRANT OPTION",
            "REVOKE ALL ON FUNCTION app.f(int) FROM public",
            "REVOKE GRANT OPTION FOR EXECUTE ON FUNCTION app.f(int4) FROM api",
        ] {
            take_statement(sql, &mut state).unwrap();
        }
        let found: Vec<(&str, bool, bool)> = state
            .object_privileges
            .iter()
            .map(|p| (p.grantee.as_str(), p.grantable, p.revoked))
            .collect();
        assert_eq!(
            found,
            [
                ("Odd", true, false),
                ("PUBLIC", false, true),
                ("api", false, false)
            ]
        );
        let on = state.object_privileges[0].on.clone();
        // What pull writes reads back as the same privileges.
        let written = statements(&on, &defaults(on.kind), &acl(&state, &on));
        let mut again = state_with_function();
        for sql in &written {
            take_statement(sql.trim_end_matches(';'), &mut again).unwrap();
        }
        assert_eq!(
            again.object_privileges, state.object_privileges,
            "{written:?}"
        );
    }

    #[test]
    fn what_a_grant_file_cannot_say_is_named() {
        let mut state = state_with_function();
        for (sql, says) in [
            (
                "GRANT SELECT ON app.t TO r",
                "a table's privileges are its model's",
            ),
            (
                "GRANT USAGE ON FUNCTION app.f(int) TO r",
                "no privilege of a function",
            ),
            (
                "GRANT EXECUTE ON FUNCTION app.g() TO r",
                "which no model or sql_dir file declares",
            ),
            ("GRANT EXECUTE ON FUNCTION f(int) TO r", "name the schema"),
            (
                "REVOKE EXECUTE ON FUNCTION app.f(int) FROM r CASCADE",
                "`CASCADE`",
            ),
            (
                "GRANT EXECUTE ON FUNCTION app.f(int), app.f(int) TO r",
                "one object per statement",
            ),
        ] {
            let error = take_statement(sql, &mut state).unwrap_err();
            assert!(error.contains(says), "{sql}: {error}");
        }
    }
}
