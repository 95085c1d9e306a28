//! `#[index(…)]`, `#[check(…)]`, `#[unique(…)]`, `#[foreign_key(…)]`,
//! `#[policy(…)]` and `#[grant(…)]` on the struct.

use syn::LitStr;

use super::values::{checked_expr, checked_name, flag, path_name, string_once, unknown_key};
use crate::context::Ctxt;
use crate::model::{Field, IndexSpec, UniqueSpec};
use strata_manifest::{Check, ForeignKey, Grant, Policy, PolicyCommand, Privilege};

const INDEX_KEYS: &str = "columns = [\"…\", …], keys = \"…\", unique, name = \"…\", where = \"…\", using = \"gin\", ops = \"gin_trgm_ops\"";
const CHECK_KEYS: &str = "name = \"…\", expr = \"…\"";
const UNIQUE_KEYS: &str =
    "columns = [\"…\", …], name = \"…\", deferrable, deferrable = \"initially deferred\"";
const FOREIGN_KEY_KEYS: &str = "columns = [\"…\", …], references = \"schema.table(column, …)\", name = \"…\", on_delete = \"…\", on_update = \"…\", deferrable, deferrable = \"initially deferred\", not_valid";
const GRANT_KEYS: &str = "select, insert, update, delete, truncate, references, trigger, all, to = \"role\" or [\"role\", …]";
const POLICY_KEYS: &str = "name = \"…\", for = \"select\" | \"insert\" | \"update\" | \"delete\" | \"all\", to = \"role\" or [\"role\", …], using = \"…\", with_check = \"…\", restrictive";

/// The attributes a model or view struct takes beside `#[strata::…]`,
/// which the macro reads and removes.
pub const STRUCT_ATTRIBUTES: &[&str] = &[
    "primary_key",
    "index",
    "check",
    "unique",
    "foreign_key",
    "policy",
    "grant",
];

const PRIMARY_KEY_KEYS: &str = "columns = [\"…\", …], name = \"…\"";

/// `#[primary_key(columns = […], name = "…")]` on the struct: the key's
/// columns in key order and its name. Its fields become `primary_key`.
pub(super) fn parse_primary_key(
    cx: &mut Ctxt,
    item: &syn::ItemStruct,
    fields: &mut [Field],
) -> Option<(Vec<String>, Option<String>)> {
    let mut found = None;
    for attr in item
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("primary_key"))
    {
        if found.is_some() {
            cx.error_spanned_by(
                attr,
                "a table has one primary key: merge the two #[primary_key]",
            );
            continue;
        }
        let (mut columns, mut name): (Option<Vec<LitStr>>, Option<LitStr>) = (None, None);
        let result = attr.parse_nested_meta(|meta| {
            match path_name(&meta.path).as_str() {
                "columns" => {
                    columns = column_list(cx, &meta, "[\"payment_id\", \"payment_date\"]")?
                }
                "name" => string_once(cx, &meta, &mut name, "name = \"payment_pkey\"")?,
                _ => unknown_key(cx, &meta, "#[primary_key]", PRIMARY_KEY_KEYS)?,
            }
            Ok(())
        });
        if let Err(error) = result {
            cx.push(error);
            continue;
        }
        let Some(columns) = columns.filter(|c| !c.is_empty()) else {
            cx.error_spanned_by(
                attr,
                "a primary key needs its columns: #[primary_key(columns = [\"payment_id\", \"payment_date\"])]",
            );
            continue;
        };
        known_columns(cx, &columns, fields);
        if let Some(field) = fields.iter().find(|f| f.primary_key) {
            cx.error_spanned_by(
                &field.ident,
                "the struct's #[primary_key] says the key: remove `primary_key` from this field",
            );
        }
        for lit in &columns {
            if let Some(field) = fields.iter_mut().find(|f| f.column == lit.value()) {
                if field.nullable {
                    cx.error_spanned_by(
                        lit,
                        "a primary key column cannot be NULL: make its field `T`, not `Option<T>`",
                    );
                }
                field.primary_key = true;
            }
        }
        found = Some((
            columns.iter().map(LitStr::value).collect(),
            name.map(|lit| checked_name(cx, &lit, lit.value())),
        ));
    }
    found
}

/// What the struct's own attributes declare.
pub(super) struct TableAttrs {
    pub indexes: Vec<IndexSpec>,
    pub checks: Vec<Check>,
    pub uniques: Vec<UniqueSpec>,
    /// `#[foreign_key(…)]`: keys over several columns, or named otherwise.
    pub foreign_keys: Vec<ForeignKey>,
    /// Each policy, with the attribute that declares it.
    pub policies: Vec<(Policy, syn::Attribute)>,
    /// What each role may do, one entry per role, with the first
    /// attribute that names it.
    pub grants: Vec<(Grant, syn::Attribute)>,
}

pub(super) fn parse_table_attrs(
    cx: &mut Ctxt,
    item: &syn::ItemStruct,
    fields: &[Field],
) -> TableAttrs {
    let mut attrs = TableAttrs {
        indexes: Vec::new(),
        checks: Vec::new(),
        uniques: Vec::new(),
        foreign_keys: Vec::new(),
        policies: Vec::new(),
        grants: Vec::new(),
    };
    for attr in &item.attrs {
        if attr.path().is_ident("index") {
            if let Some(index) = parse_index(cx, attr, fields) {
                attrs.indexes.push(index);
            }
        } else if attr.path().is_ident("check") {
            if let Some(check) = parse_check(cx, attr) {
                attrs.checks.push(check);
            }
        } else if attr.path().is_ident("unique") {
            if let Some(unique) = parse_unique(cx, attr, fields) {
                attrs.uniques.push(unique);
            }
        } else if attr.path().is_ident("foreign_key") {
            if let Some(key) = parse_foreign_key(cx, attr, fields) {
                attrs.foreign_keys.push(key);
            }
        } else if attr.path().is_ident("grant") {
            for grant in parse_grant(cx, attr) {
                match attrs.grants.iter_mut().find(|(g, _)| g.role == grant.role) {
                    Some((known, _)) => {
                        known.privileges.extend(grant.privileges);
                        known.privileges.sort();
                        known.privileges.dedup();
                    }
                    None => attrs.grants.push((grant, attr.clone())),
                }
            }
        } else if attr.path().is_ident("policy") {
            if let Some(policy) = parse_policy(cx, attr) {
                if attrs.policies.iter().any(|(p, _)| p.name == policy.name) {
                    cx.error_spanned_by(
                        attr,
                        format!(
                            "two policies are called `{}`: give each its own name",
                            policy.name
                        ),
                    );
                }
                attrs.policies.push((policy, attr.clone()));
            }
        }
    }
    attrs
}

/// `to = "role"` or `to = ["a", "b"]`.
fn roles_value(
    cx: &mut Ctxt,
    meta: &syn::meta::ParseNestedMeta<'_>,
) -> syn::Result<Option<Vec<LitStr>>> {
    let value: syn::Expr = meta.value()?.parse()?;
    Ok(match (string_array(&value), &value) {
        (Some(list), _) => Some(list),
        (
            None,
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(lit),
                ..
            }),
        ) => Some(vec![lit.clone()]),
        _ => {
            cx.error_spanned_by(
                &value,
                "`to` takes a role or a list of roles: to = \"app_user\" or to = [\"app_user\", \"auditor\"]",
            );
            None
        }
    })
}

fn parse_grant(cx: &mut Ctxt, attr: &syn::Attribute) -> Vec<Grant> {
    let mut privileges: Vec<Privilege> = Vec::new();
    let mut roles: Option<Vec<LitStr>> = None;
    let result = attr.parse_nested_meta(|meta| {
        let key = path_name(&meta.path);
        if key == "to" {
            roles = roles_value(cx, &meta)?;
        } else if key == "all" {
            privileges.extend(Privilege::ALL);
        } else if let Some(privilege) = Privilege::parse(&key) {
            privileges.push(privilege);
        } else {
            unknown_key(cx, &meta, "#[grant]", GRANT_KEYS)?;
        }
        Ok(())
    });
    if let Err(error) = result {
        cx.push(error);
        return Vec::new();
    }
    privileges.sort();
    privileges.dedup();
    if privileges.is_empty() {
        cx.error_spanned_by(
            attr,
            "a grant needs its privileges: #[grant(select, insert, to = \"app_user\")]",
        );
    }
    let Some(roles) = roles.filter(|r| !r.is_empty()) else {
        cx.error_spanned_by(
            attr,
            "a grant needs the role it gives to: #[grant(select, to = \"app_user\")]",
        );
        return Vec::new();
    };
    roles
        .iter()
        .filter_map(|lit| {
            let role = checked_name(cx, lit, lit.value());
            if role.eq_ignore_ascii_case("public") || role.starts_with("pg_") {
                cx.error_spanned_by(
                    lit,
                    format!("`{role}` is PostgreSQL's own: grant to a role of yours, declared with Builder::role"),
                );
                return None;
            }
            Some(Grant {
                role,
                privileges: privileges.clone(),
            })
        })
        .collect()
}

fn parse_policy(cx: &mut Ctxt, attr: &syn::Attribute) -> Option<Policy> {
    let mut name: Option<LitStr> = None;
    let mut command: Option<LitStr> = None;
    let mut roles: Option<Vec<LitStr>> = None;
    let mut using: Option<LitStr> = None;
    let mut with_check: Option<LitStr> = None;
    let mut restrictive = None;
    let result = attr.parse_nested_meta(|meta| {
        match path_name(&meta.path).as_str() {
            "name" => string_once(cx, &meta, &mut name, "name = \"tickets_by_org\"")?,
            "for" => string_once(cx, &meta, &mut command, "for = \"select\"")?,
            "to" => roles = roles_value(cx, &meta)?,
            "using" => string_once(
                cx,
                &meta,
                &mut using,
                "using = \"org_id = current_org_id()\"",
            )?,
            "with_check" => string_once(
                cx,
                &meta,
                &mut with_check,
                "with_check = \"org_id = current_org_id()\"",
            )?,
            "restrictive" => flag(cx, &meta, &mut restrictive)?,
            _ => unknown_key(cx, &meta, "#[policy]", POLICY_KEYS)?,
        }
        Ok(())
    });
    if let Err(error) = result {
        cx.push(error);
        return None;
    }
    let Some(name) = name else {
        cx.error_spanned_by(
            attr,
            "a policy needs a name: #[policy(name = \"tickets_by_org\", using = \"org_id = current_org_id()\")]",
        );
        return None;
    };
    let command = match &command {
        None => PolicyCommand::All,
        Some(lit) => match PolicyCommand::parse(&lit.value()) {
            Some(command) => command,
            None => {
                cx.error_spanned_by(
                    lit,
                    format!(
                        "unknown command `{}`: for = \"select\", \"insert\", \"update\", \"delete\" or \"all\"",
                        lit.value()
                    ),
                );
                return None;
            }
        },
    };
    let example = "\"org_id = current_org_id()\"";
    let mut using = using.map(|lit| (checked_expr(cx, &lit, "using", example), lit));
    let with_check = with_check.map(|lit| (checked_expr(cx, &lit, "with_check", example), lit));
    if !command.takes_with_check() {
        if let Some((_, lit)) = &with_check {
            cx.error_spanned_by(
                lit,
                format!(
                    "a policy for {} has no WITH CHECK (it writes no rows): use `using`",
                    command.sql()
                ),
            );
        }
    }
    // An INSERT policy checks only new rows: `using` says which (the
    // default of `with_check` is `using`).
    let mut with_check = with_check.map(|(expr, _)| expr);
    if !command.takes_using() {
        if let Some((expr, lit)) = using.take() {
            if with_check.is_some() {
                cx.error_spanned_by(
                    &lit,
                    "a policy for INSERT has no USING (it reads no rows): give only `with_check`",
                );
            }
            with_check.get_or_insert(expr);
        }
    }
    let using = using.map(|(expr, _)| expr);
    if using.is_none() && with_check.is_none() {
        cx.error_spanned_by(
            attr,
            format!(
                "policy `{}` needs `using = {example}` (or `with_check`): which rows it allows",
                name.value()
            ),
        );
    }
    let mut names: Vec<String> = Vec::new();
    for lit in roles.unwrap_or_default() {
        let role = checked_name(cx, &lit, lit.value());
        if !role.eq_ignore_ascii_case("public") && !names.contains(&role) {
            names.push(role);
        }
    }
    names.sort();
    Some(Policy {
        name: checked_name(cx, &name, name.value()),
        command,
        restrictive: restrictive.is_some(),
        roles: names,
        using,
        with_check,
    })
}

/// `#[foreign_key(columns = […], references = "schema.table(…)", …)]`.
fn parse_foreign_key(cx: &mut Ctxt, attr: &syn::Attribute, fields: &[Field]) -> Option<ForeignKey> {
    const EXAMPLE: &str = "#[foreign_key(columns = [\"node_id\", \"version\"], references = \"public.nodes(node_id, version)\")]";
    let mut columns: Option<Vec<LitStr>> = None;
    let (mut references, mut name) = (None, None);
    let (mut on_delete, mut on_update) = (None, None);
    let (mut deferrable, mut deferrable_kind) = (None, None);
    let mut not_valid = None;
    let result = attr.parse_nested_meta(|meta| {
        match path_name(&meta.path).as_str() {
            "not_valid" => flag(cx, &meta, &mut not_valid)?,
            "columns" => columns = column_list(cx, &meta, "[\"node_id\", \"version\"]")?,
            "references" => string_once(
                cx,
                &meta,
                &mut references,
                "references = \"public.nodes(node_id, version)\"",
            )?,
            "name" => string_once(cx, &meta, &mut name, "name = \"fk_rails_c3b3935057\"")?,
            "on_delete" => string_once(cx, &meta, &mut on_delete, "on_delete = \"cascade\"")?,
            "on_update" => string_once(cx, &meta, &mut on_update, "on_update = \"cascade\"")?,
            "deferrable" => {
                super::values::deferrable(cx, &meta, &mut deferrable, &mut deferrable_kind)?
            }
            _ => unknown_key(cx, &meta, "#[foreign_key]", FOREIGN_KEY_KEYS)?,
        }
        Ok(())
    });
    if let Err(error) = result {
        cx.push(error);
        return None;
    }
    let (Some(columns), Some(target)) = (columns.filter(|c| !c.is_empty()), references) else {
        cx.error_spanned_by(
            attr,
            format!("a foreign key needs its columns and what they reference: {EXAMPLE}"),
        );
        return None;
    };
    known_columns(cx, &columns, fields);
    let (references, referenced_columns) = super::column::external_target(cx, &target, EXAMPLE)?;
    if referenced_columns.len() != columns.len() {
        cx.error_spanned_by(
            &target,
            format!(
                "{} columns reference {} columns: name as many on each side",
                columns.len(),
                referenced_columns.len()
            ),
        );
    }
    let columns: Vec<String> = columns.iter().map(LitStr::value).collect();
    // As `action` checks it beside a field's `references`.
    let beside = Some((attr.path().clone(), None));
    let on_delete = super::column::action(cx, &on_delete, &beside, "on_delete");
    let on_update = super::column::action(cx, &on_update, &beside, "on_update");
    Some(ForeignKey {
        name: match name {
            Some(lit) => checked_name(cx, &lit, lit.value()),
            None => String::new(),
        },
        columns,
        references,
        referenced_columns,
        on_delete,
        on_update,
        deferral: super::values::deferral(cx, &deferrable, &deferrable_kind),
        not_valid: not_valid.is_some(),
    })
}

fn parse_unique(cx: &mut Ctxt, attr: &syn::Attribute, fields: &[Field]) -> Option<UniqueSpec> {
    let mut columns: Option<Vec<LitStr>> = None;
    let mut name = None;
    let (mut deferrable, mut deferrable_kind) = (None, None);
    let result = attr.parse_nested_meta(|meta| {
        match path_name(&meta.path).as_str() {
            "deferrable" => {
                super::values::deferrable(cx, &meta, &mut deferrable, &mut deferrable_kind)?
            }
            "columns" => columns = column_list(cx, &meta, "[\"profile_id\", \"product_id\"]")?,
            "name" => string_once(cx, &meta, &mut name, "name = \"unique_wishlist_item\"")?,
            _ => unknown_key(cx, &meta, "#[unique]", UNIQUE_KEYS)?,
        }
        Ok(())
    });
    if let Err(error) = result {
        cx.push(error);
        return None;
    }
    let Some(columns) = columns.filter(|c| !c.is_empty()) else {
        cx.error_spanned_by(
            attr,
            "a unique constraint needs its columns: #[unique(columns = [\"profile_id\", \"product_id\"])]",
        );
        return None;
    };
    known_columns(cx, &columns, fields);
    Some(UniqueSpec {
        columns: columns.iter().map(LitStr::value).collect(),
        name: name.map(|lit| checked_name(cx, &lit, lit.value())),
        deferral: super::values::deferral(cx, &deferrable, &deferrable_kind),
    })
}

/// `columns = ["a", "b"]`: the names, or an error showing `example`.
fn column_list(
    cx: &mut Ctxt,
    meta: &syn::meta::ParseNestedMeta<'_>,
    example: &str,
) -> syn::Result<Option<Vec<LitStr>>> {
    let value: syn::Expr = meta.value()?.parse()?;
    let list = string_array(&value);
    if list.is_none() {
        cx.error_spanned_by(
            &value,
            format!("`columns` takes a list of column names: columns = {example}"),
        );
    }
    Ok(list)
}

/// Reports each of `columns` that names no column of the model.
fn known_columns(cx: &mut Ctxt, columns: &[LitStr], fields: &[Field]) {
    let known: Vec<&str> = fields
        .iter()
        .filter(|f| !f.skip)
        .map(|f| f.column.as_str())
        .collect();
    for lit in columns {
        if !known.contains(&lit.value().as_str()) {
            cx.error_spanned_by(
                lit,
                format!(
                    "no column `{}` in this model\nhelp: the columns are: {}",
                    lit.value(),
                    known.join(", ")
                ),
            );
        }
    }
}

fn parse_index(cx: &mut Ctxt, attr: &syn::Attribute, fields: &[Field]) -> Option<IndexSpec> {
    let mut columns: Option<Vec<LitStr>> = None;
    let mut unique = None;
    let mut name = None;
    let mut predicate = None;
    let mut method: Option<LitStr> = None;
    let mut opclass: Option<LitStr> = None;
    let mut keys: Option<LitStr> = None;
    let result = attr.parse_nested_meta(|meta| {
        match path_name(&meta.path).as_str() {
            "keys" => string_once(
                cx,
                &meta,
                &mut keys,
                "keys = \"lower(email), created_at DESC\"",
            )?,
            "using" => string_once(cx, &meta, &mut method, "using = \"gin\"")?,
            "ops" => string_once(cx, &meta, &mut opclass, "ops = \"gin_trgm_ops\"")?,
            "columns" => columns = column_list(cx, &meta, "[\"supplier_id\", \"sku\"]")?,
            "unique" => flag(cx, &meta, &mut unique)?,
            "name" => string_once(cx, &meta, &mut name, "name = \"products_supplier_sku\"")?,
            "where" => string_once(cx, &meta, &mut predicate, "where = \"deleted_at IS NULL\"")?,
            _ => unknown_key(cx, &meta, "#[index]", INDEX_KEYS)?,
        }
        Ok(())
    });
    if let Err(error) = result {
        cx.push(error);
        return None;
    }
    if let Some(lit) = &keys {
        return index_on_keys(
            cx,
            lit,
            [&columns.map(|_| "columns"), &opclass.map(|_| "ops")],
            fields,
        )
        .map(|(columns, keys)| IndexSpec {
            columns,
            keys: Some(keys),
            unique: unique.is_some(),
            name: name.map(|lit| checked_name(cx, &lit, lit.value())),
            predicate: predicate
                .map(|lit| checked_expr(cx, &lit, "where", "\"deleted_at IS NULL\"")),
            method: method.map(|lit| index_word(cx, &lit, "using", "gin")),
            opclass: None,
        });
    }
    let Some(columns) = columns else {
        cx.error_spanned_by(
            attr,
            "an index needs its columns: #[index(columns = [\"sku\"])], or its keys: #[index(keys = \"lower(email)\")]",
        );
        return None;
    };
    if columns.is_empty() {
        cx.error_spanned_by(attr, "an index needs at least one column");
    }
    known_columns(cx, &columns, fields);
    Some(IndexSpec {
        columns: columns.iter().map(LitStr::value).collect(),
        unique: unique.is_some(),
        name: name.map(|lit| checked_name(cx, &lit, lit.value())),
        predicate: predicate.map(|lit| checked_expr(cx, &lit, "where", "\"deleted_at IS NULL\"")),
        method: method.map(|lit| index_word(cx, &lit, "using", "gin")),
        opclass: opclass.map(|lit| index_word(cx, &lit, "ops", "gin_trgm_ops")),
        keys: None,
    })
}

/// `keys = "…"`: checked as a key list, alone (`others` are the keys
/// that would say the same twice), and the model's columns it reads.
fn index_on_keys(
    cx: &mut Ctxt,
    lit: &LitStr,
    others: [&Option<&str>; 2],
    fields: &[Field],
) -> Option<(Vec<String>, String)> {
    let value = lit.value();
    for other in others.into_iter().flatten() {
        cx.error_spanned_by(
            lit,
            format!("an index takes `keys` or `{other}`, not both: write everything in `keys` (keys = \"name gin_trgm_ops, created_at DESC\")"),
        );
    }
    if let Err(why) = strata_manifest::fragment::check_index_keys(&value) {
        cx.error_spanned_by(
            lit,
            format!("`keys` must be an index's key list, such as \"lower(email), created_at DESC\", but {why}"),
        );
        return None;
    }
    let mut columns: Vec<String> = Vec::new();
    for token in strata_manifest::lexer::significant(&value) {
        let Some(name) = token.name() else { continue };
        let known = fields.iter().any(|f| !f.skip && f.column == name);
        if known && !columns.contains(&name) {
            columns.push(name);
        }
    }
    if columns.is_empty() {
        let known: Vec<&str> = fields
            .iter()
            .filter(|f| !f.skip)
            .map(|f| f.column.as_str())
            .collect();
        cx.error_spanned_by(
            lit,
            format!(
                "`keys` reads no column of this model\nhelp: the columns are: {}",
                known.join(", ")
            ),
        );
        return None;
    }
    Some((columns, value))
}

/// An access method or operator class: a plain lowercase name, since it is
/// written into the SQL as it is.
fn index_word(cx: &mut Ctxt, lit: &LitStr, key: &str, example: &str) -> String {
    let value = lit.value();
    let plain = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.');
    if !plain {
        cx.error_spanned_by(
            lit,
            format!("`{key}` takes a name in lowercase letters, digits and underscores: {key} = \"{example}\""),
        );
    }
    value
}

fn parse_check(cx: &mut Ctxt, attr: &syn::Attribute) -> Option<Check> {
    let mut name = None;
    let mut expr = None;
    let result = attr.parse_nested_meta(|meta| {
        match path_name(&meta.path).as_str() {
            "name" => string_once(cx, &meta, &mut name, "name = \"orders_total_positive\"")?,
            "expr" => string_once(cx, &meta, &mut expr, "expr = \"total_cents >= 0\"")?,
            _ => unknown_key(cx, &meta, "#[check]", CHECK_KEYS)?,
        }
        Ok(())
    });
    if let Err(error) = result {
        cx.push(error);
        return None;
    }
    match (name, expr) {
        (Some(name), Some(expr)) => Some(Check {
            name: checked_name(cx, &name, name.value()),
            expr: checked_expr(cx, &expr, "expr", "\"total_cents >= 0\""),
        }),
        _ => {
            cx.error_spanned_by(
                attr,
                "a table check needs a name and an expression: #[check(name = \"orders_total_positive\", expr = \"total_cents >= 0\")]",
            );
            None
        }
    }
}

fn string_array(value: &syn::Expr) -> Option<Vec<LitStr>> {
    let syn::Expr::Array(array) = value else {
        return None;
    };
    array
        .elems
        .iter()
        .map(|e| match e {
            syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(lit),
                ..
            }) => Some(lit.clone()),
            _ => None,
        })
        .collect()
}
