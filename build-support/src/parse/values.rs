//! Reading attribute values, with errors that show the expected form.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::meta::ParseNestedMeta;
use syn::{LitStr, Token};

use crate::context::Ctxt;
use strata_manifest::{canonical_type, validate_ident};

/// The value of `key = "…"`; any other value is reported with an example.
pub(super) fn string_value(
    cx: &mut Ctxt,
    meta: &ParseNestedMeta,
    example: &str,
) -> syn::Result<Option<LitStr>> {
    let name = path_name(&meta.path);
    if !meta.input.peek(Token![=]) {
        cx.error_spanned_by(&meta.path, format!("`{name}` needs a value: {example}"));
        return Ok(None);
    }
    let expr: syn::Expr = meta.value()?.parse()?;
    match expr {
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(lit),
            ..
        }) => Ok(Some(lit)),
        other => {
            cx.error_spanned_by(&other, format!("`{name}` takes a string: {example}"));
            Ok(None)
        }
    }
}

/// Records a flag such as `unique`; a value or a second mention is an error.
pub(super) fn flag(
    cx: &mut Ctxt,
    meta: &ParseNestedMeta,
    slot: &mut Option<syn::Path>,
) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        cx.error_spanned_by(
            &meta.path,
            format!("`{}` is a flag and takes no value", path_name(&meta.path)),
        );
        meta.value()?.parse::<syn::Expr>()?;
    } else if slot.is_some() {
        cx.error_spanned_by(&meta.path, format!("duplicate `{}`", path_name(&meta.path)));
    } else {
        *slot = Some(meta.path.clone());
    }
    Ok(())
}

/// Reads `deferrable` or `deferrable = "initially deferred"`.
pub(super) fn deferrable(
    cx: &mut Ctxt,
    meta: &ParseNestedMeta,
    path: &mut Option<syn::Path>,
    kind: &mut Option<LitStr>,
) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        string_once(cx, meta, kind, "deferrable = \"initially deferred\"")?;
        path.get_or_insert(meta.path.clone());
        Ok(())
    } else {
        flag(cx, meta, path)
    }
}

/// When a key is checked: `deferrable` (at commit when a transaction
/// asks) or `deferrable = "initially deferred"` (always at commit).
pub(super) fn deferral(
    cx: &mut Ctxt,
    path: &Option<syn::Path>,
    kind: &Option<LitStr>,
) -> strata_manifest::Deferral {
    use strata_manifest::Deferral;
    if path.is_none() {
        return Deferral::Immediate;
    }
    let Some(lit) = kind else {
        return Deferral::Deferrable;
    };
    match lit.value().to_ascii_lowercase().as_str() {
        "initially deferred" => Deferral::InitiallyDeferred,
        "initially immediate" => Deferral::Deferrable,
        other => {
            cx.error_spanned_by(
                lit,
                format!("`deferrable = \"{other}\"`: write bare `deferrable`, or `deferrable = \"initially deferred\"` to check the key at every commit"),
            );
            Deferral::Deferrable
        }
    }
}

/// Reads `key = "…"` into a slot that may be filled once.
pub(super) fn string_once(
    cx: &mut Ctxt,
    meta: &ParseNestedMeta,
    slot: &mut Option<LitStr>,
    example: &str,
) -> syn::Result<()> {
    if let Some(lit) = string_value(cx, meta, example)? {
        if slot.is_some() {
            cx.error_spanned_by(&meta.path, format!("duplicate `{}`", path_name(&meta.path)));
        } else {
            *slot = Some(lit);
        }
    }
    Ok(())
}

/// Reports an unknown key with the list of valid ones, and steps over its value.
pub(super) fn unknown_key(
    cx: &mut Ctxt,
    meta: &ParseNestedMeta,
    attr: &str,
    valid: &str,
) -> syn::Result<()> {
    let name = path_name(&meta.path);
    cx.error_spanned_by(
        &meta.path,
        format!("unknown key `{name}` in {attr}\nhelp: the keys are: {valid}"),
    );
    // Step over the value, so that the keys after it are still checked.
    if meta.input.peek(Token![=]) {
        meta.value()?.parse::<syn::Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in meta.input);
        content.parse::<TokenStream>()?;
    }
    Ok(())
}

/// Validates a name that will become an identifier.
pub(super) fn checked_name(cx: &mut Ctxt, span: impl ToTokens, name: String) -> String {
    if let Err(error) = validate_ident(&name) {
        cx.error_spanned_by(span, error);
    }
    name
}

/// Validates a schema name: an identifier PostgreSQL and strata do not keep for themselves.
pub(super) fn checked_schema(cx: &mut Ctxt, lit: &LitStr) -> String {
    let name = checked_name(cx, lit, lit.value());
    if name.starts_with("pg_") || name == "information_schema" {
        // PostgreSQL refuses `CREATE SCHEMA pg_…` and owns information_schema.
        cx.error_spanned_by(
            lit,
            format!("schema `{name}` is PostgreSQL's own: choose another name"),
        );
    } else if name == strata_manifest::TENANT_PLACEHOLDER {
        cx.error_spanned_by(
            lit,
            "schema `{tenant}` is the placeholder of tenant tables\nhelp: write #[strata::schema(tenant)] for a table in every tenant's schema",
        );
    } else if name == "strata" {
        cx.error_spanned_by(
            lit,
            "schema `strata` is reserved for strata's tracking table (strata.migrations): choose another name",
        );
    }
    name
}

/// Validates `type = "…"` and spells it as the catalog does.
pub(super) fn checked_type(cx: &mut Ctxt, lit: &LitStr) -> String {
    let value = lit.value();
    let canonical = canonical_type(&value);
    if value.trim().is_empty() {
        cx.error_spanned_by(
            lit,
            "`type` is empty: name a PostgreSQL type such as \"text\"",
        );
    } else if let Err(why) = strata_manifest::fragment::check_expression(&value) {
        // A type name is one item too: no `;`, comment, open literal,
        // unbalanced parenthesis or top-level `,` (a second column).
        cx.error_spanned_by(
            lit,
            format!("`{value}` is not a PostgreSQL type name: {why}"),
        );
    } else if [
        "serial",
        "bigserial",
        "smallserial",
        "serial4",
        "serial8",
        "serial2",
    ]
    .contains(&canonical.as_str())
    {
        cx.error_spanned_by(
            lit,
            format!("`{value}` is not a real column type\nhelp: use an integer with #[column(identity)] instead"),
        );
    }
    canonical
}

/// Validates an SQL expression given as a string (`default`, `check`, `where`).
pub(super) fn checked_expr(cx: &mut Ctxt, lit: &LitStr, key: &str, example: &str) -> String {
    let value = lit.value();
    match strata_manifest::fragment::check_expression(&value) {
        Ok(()) => {}
        Err(strata_manifest::fragment::FragmentError::Empty) => cx.error_spanned_by(
            lit,
            format!("`{key}` is empty: give an SQL expression such as {example}, or remove it"),
        ),
        Err(why) => cx.error_spanned_by(
            lit,
            format!("`{key}` must be one SQL expression, such as {example}, but {why}"),
        ),
    }
    value
}

pub(super) fn path_name(path: &syn::Path) -> String {
    path.segments
        .iter()
        .map(|s| unraw(&s.ident))
        .collect::<Vec<_>>()
        .join("::")
}

/// A type as the user wrote it: `HashMap<String, String>`, not `HashMap < String, String >`.
pub(super) fn type_text(ty: &impl ToTokens) -> String {
    ty.to_token_stream()
        .to_string()
        .replace(" :: ", "::")
        .replace(":: ", "::")
        .replace(" <", "<")
        .replace("< ", "<")
        .replace(" >", ">")
        .replace(" ,", ",")
}

/// `r#type` → `type`.
pub(super) fn unraw(ident: &syn::Ident) -> String {
    let text = ident.to_string();
    text.strip_prefix("r#").map(str::to_owned).unwrap_or(text)
}

/// The doc comment of an item (`///` lines, `#[doc = "…"]`), one line per
/// attribute with the space after `///` taken off; `None` when there is none.
pub(super) fn doc_comment(attrs: &[syn::Attribute]) -> Option<String> {
    let mut lines = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("doc")) {
        if let syn::Meta::NameValue(syn::MetaNameValue {
            value:
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(lit),
                    ..
                }),
            ..
        }) = &attr.meta
        {
            let text = lit.value();
            let line = text
                .strip_prefix(' ')
                .unwrap_or(&text)
                .trim_end()
                .to_owned();
            lines.push(line);
        }
    }
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    while lines.first().is_some_and(String::is_empty) {
        lines.remove(0);
    }
    (!lines.is_empty()).then(|| lines.join("\n"))
}
