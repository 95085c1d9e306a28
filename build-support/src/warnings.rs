//! The known traps of row-level security, found in what the build is about
//! to migrate to: printed as `cargo:warning`s (and in [`crate::Outcome`]),
//! each naming the object and the fix. They do not stop the build: each can
//! be right on purpose.

use strata_manifest::lexer::{significant, TokenKind};
use strata_manifest::{object_name, SchemaState};

/// Every trap in `state`.
pub(crate) fn warnings(state: &SchemaState) -> Vec<String> {
    let mut found = Vec::new();
    for table in &state.tables {
        for policy in &table.policies {
            let name = object_name(&[&table.schema, &table.name, &policy.name]);
            for expr in policy.using.iter().chain(&policy.with_check) {
                found.extend(setting_traps(expr, &format!("policy {name}")));
            }
        }
    }
    for routine in &state.routines {
        let what = format!(
            "{} {}",
            if routine.procedure {
                "procedure"
            } else {
                "function"
            },
            object_name(&[&routine.schema, &routine.name])
        );
        found.extend(setting_traps(&routine.sql, &what));
        let tokens = significant(&routine.sql);
        let definer = tokens
            .windows(2)
            .any(|w| w[0].is_word("security") && w[1].is_word("definer"));
        let pinned = tokens
            .windows(2)
            .any(|w| w[0].is_word("set") && w[1].is_word("search_path"));
        if definer && !pinned {
            found.push(format!(
                "{what} is SECURITY DEFINER without a pinned search_path: a caller could put a schema of their own first and run their code with its owner's rights; add `SET search_path = pg_catalog, {}` to it",
                routine.schema
            ));
        }
    }
    for view in &state.views {
        for read in view.reads() {
            let Some(table) = state.table(&read.schema, &read.name).filter(|t| t.rls) else {
                continue;
            };
            let view_name = object_name(&[&view.schema, &view.name]);
            let table_name = object_name(&[&table.schema, &table.name]);
            found.push(match view.materialized {
                true => format!(
                    "materialized view {view_name} holds every row of {table_name}, whose row-level security it does not apply: everyone who may read the view sees every row; grant it only to roles that may, or read {table_name} directly"
                ),
                false => format!(
                    "view {view_name} reads {table_name} with its owner's rights, so {table_name}'s policies do not apply to its callers: grant the view only to roles that may see every row, or read {table_name} directly (compat views are made security_invoker and are safe)"
                ),
            });
        }
    }
    found
}

/// `current_setting('x')` read bare (an error on a connection that never
/// set it), or `current_setting('x', true)` not under `nullif(…, '')` (it
/// reads `''`, not NULL, once any transaction on a pooled connection has
/// set it, even locally), in `sql` and in the bodies it quotes.
fn setting_traps(sql: &str, what: &str) -> Vec<String> {
    let tokens = significant(sql);
    let mut found = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        if token.kind == TokenKind::Dollar {
            found.extend(setting_traps(dollar_body(token.text), what));
            continue;
        }
        if !token.is_word("current_setting") || !tokens.get(i + 1).is_some_and(|t| t.is_punct("("))
        {
            continue;
        }
        let Some(setting) = tokens.get(i + 2).filter(|t| t.kind == TokenKind::String) else {
            continue;
        };
        let missing_ok = tokens.get(i + 3).is_some_and(|t| t.is_punct(","));
        // The name may be qualified: `pg_catalog.current_setting`.
        let qualified =
            i >= 2 && tokens[i - 1].is_punct(".") && tokens[i - 2].is_word("pg_catalog");
        let start = if qualified { i - 2 } else { i };
        let under_nullif =
            start >= 2 && tokens[start - 1].is_punct("(") && tokens[start - 2].is_word("nullif");
        let safe = format!("nullif(current_setting({}, true), '')", setting.text);
        if !missing_ok {
            found.push(format!(
                "{what} reads current_setting({}) bare: on a connection that never set it, that is an error; write {safe}",
                setting.text
            ));
        } else if !under_nullif {
            found.push(format!(
                "{what} reads current_setting({}, true), which is '' and not NULL once any transaction on a pooled connection has set it: write {safe}",
                setting.text
            ));
        }
    }
    found
}

/// The text inside a dollar-quoted string: `$body$ … $body$` → ` … `.
fn dollar_body(text: &str) -> &str {
    let tag_name = text.split('$').nth(1).unwrap_or_default();
    let tag = format!("${tag_name}$");
    text.strip_prefix(tag.as_str())
        .and_then(|t| t.strip_suffix(tag.as_str()))
        .unwrap_or_default()
}
