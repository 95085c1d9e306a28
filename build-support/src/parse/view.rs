//! `#[strata::view("schema", sql = "…")]` on a struct whose fields are the
//! view's columns.

use heck::ToSnakeCase;
use proc_macro2::{Span, TokenStream};
use syn::parse::{ParseStream, Parser};
use syn::{LitStr, Token};

use super::values::{checked_name, checked_schema, flag, path_name, string_once, unraw};
use super::{column, table};
use crate::context::Ctxt;
use crate::model::ViewModel;

const VIEW_KEYS: &str = "sql = \"SELECT …\", sql_file = \"views/name.sql\", materialized = true";

/// Parses a view: `args` are the tokens inside `#[view(…)]`, `item` the
/// struct. Every mistake is reported, each on its own tokens.
pub fn parse_view(args: TokenStream, item: &syn::ItemStruct) -> syn::Result<ViewModel> {
    let mut cx = Ctxt::default();
    let mut sql: Option<LitStr> = None;
    let mut sql_file: Option<LitStr> = None;
    let mut materialized: Option<syn::Path> = None;
    let split = |input: ParseStream| -> syn::Result<(Option<LitStr>, TokenStream)> {
        let schema = if input.peek(LitStr) {
            let lit = input.parse::<LitStr>()?;
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
            Some(lit)
        } else {
            None
        };
        Ok((schema, input.parse()?))
    };
    let mut schema = String::new();
    match split.parse2(args.clone()) {
        Ok((Some(lit), rest)) => {
            schema = checked_schema(&mut cx, &lit);
            let result = syn::meta::parser(|meta| {
                match path_name(&meta.path).as_str() {
                    "sql" => string_once(&mut cx, &meta, &mut sql, "sql = \"SELECT …\"")?,
                    "sql_file" => string_once(
                        &mut cx,
                        &meta,
                        &mut sql_file,
                        "sql_file = \"views/name.sql\"",
                    )?,
                    // `materialized` or `materialized = true` (`= false`: a plain view).
                    "materialized" if meta.input.peek(Token![=]) => {
                        let value: syn::LitBool = meta.value()?.parse()?;
                        if value.value {
                            materialized = Some(meta.path.clone());
                        }
                    }
                    "materialized" => flag(&mut cx, &meta, &mut materialized)?,
                    _ => super::values::unknown_key(&mut cx, &meta, "#[view]", VIEW_KEYS)?,
                }
                Ok(())
            })
            .parse2(rest);
            if let Err(error) = result {
                cx.push(error);
            }
        }
        Ok((None, _)) | Err(_) => {
            let tenant = args
                .clone()
                .into_iter()
                .next()
                .is_some_and(|t| t.to_string() == "tenant");
            let message = if tenant {
                "a view lives in a named schema, not in every tenant's: its generated SELECT names one schema, and tenants are known only at run time. Name the schema: #[strata::view(\"analytics\", sql = \"SELECT … FROM …\")]"
            } else {
                "the schema name comes first: #[strata::view(\"analytics\", sql = \"SELECT …\")]"
            };
            match args.is_empty() {
                true => cx.push(syn::Error::new(Span::call_site(), message)),
                false => cx.error_spanned_by(&args, message),
            }
        }
    }
    match (&sql, &sql_file) {
        (Some(_), Some(file)) => cx.error_spanned_by(
            file,
            "a view takes its SQL once: `sql = \"…\"` or `sql_file = \"…\"`, not both",
        ),
        (None, None) if !schema.is_empty() => cx.error_spanned_by(
            &item.ident,
            "a view needs its SELECT: sql = \"SELECT …\", or sql_file = \"views/name.sql\" (from the crate's root)",
        ),
        _ => {}
    }
    if let Some(lit) = &sql {
        match strata_manifest::fragment::check_query(&lit.value()) {
            Ok(()) => {}
            Err(strata_manifest::fragment::FragmentError::Empty) => {
                cx.error_spanned_by(lit, "the view's SQL is empty: sql = \"SELECT …\"")
            }
            Err(why) => cx.error_spanned_by(
                lit,
                format!("the view's SQL must be one query, but {why}\nhelp: anything else belongs in a hand-written migration (`strata new NAME`)"),
            ),
        }
    }
    let name = checked_name(&mut cx, &item.ident, unraw(&item.ident).to_snake_case());
    if !item.generics.params.is_empty() {
        cx.error_spanned_by(
            &item.generics,
            "a #[view] cannot be generic: it describes one view",
        );
    }
    let mut fields = Vec::new();
    match &item.fields {
        syn::Fields::Named(named) => {
            for field in &named.named {
                if let Some(parsed) = column::parse_field(&mut cx, field, &name) {
                    let ddl = parsed.primary_key
                        || parsed.identity
                        || parsed.unique
                        || parsed.index
                        || parsed.default.is_some()
                        || parsed.check.is_some()
                        || parsed.references.is_some()
                        || parsed.generated.is_some()
                        || parsed.renamed_from.is_some()
                        || parsed.using.is_some();
                    if ddl {
                        cx.error_spanned_by(
                            &parsed.ident,
                            "a view's columns come from its SQL: on a #[view] field, only #[column(name = \"…\")], `type = \"…\"` and `skip` apply",
                        );
                    }
                    fields.push(parsed);
                }
            }
        }
        _ => cx.error_spanned_by(
            &item.ident,
            "#[view] needs a struct with named fields, one per column of the view",
        ),
    }
    let table::TableAttrs {
        indexes,
        checks,
        uniques,
        foreign_keys,
        policies,
        grants,
    } = table::parse_table_attrs(&mut cx, item, &fields);
    if let Some((_, attr)) = grants.first() {
        cx.push(syn::Error::new_spanned(
            attr,
            "grants on a view are not taken yet: grant on the tables it reads, or write the GRANT in a hand-written migration",
        ));
    }
    if let Some((_, attr)) = policies.first() {
        cx.push(syn::Error::new_spanned(
            attr,
            "a view has no row-level security policies: put them on the tables it reads, and the view reads them with its caller's rights (security_invoker)",
        ));
    }
    if !uniques.is_empty() {
        cx.error_spanned_by(
            &item.ident,
            "a view has no unique constraints: a unique index does that on a materialized view, #[index(columns = […], unique)]",
        );
    }
    if !checks.is_empty() {
        cx.error_spanned_by(
            &item.ident,
            "a view has no checks: check the tables it reads",
        );
    }
    if let Some(attr) = item.attrs.iter().find(|a| a.path().is_ident("primary_key")) {
        cx.error_spanned_by(
            attr,
            "a view has no primary key: the tables it reads have theirs",
        );
    }
    if !foreign_keys.is_empty() {
        cx.error_spanned_by(
            &item.ident,
            "a view has no foreign keys: put them on the tables it reads",
        );
    }
    if !indexes.is_empty() && materialized.is_none() {
        cx.error_spanned_by(
            &item.ident,
            "only a materialized view has indexes: add `materialized`, or index the tables it reads",
        );
    }
    cx.check()?;
    Ok(ViewModel {
        ident: item.ident.clone(),
        schema,
        name,
        sql: sql.map(|l| l.value()),
        sql_file: sql_file.map(|l| l.value()),
        materialized: materialized.is_some(),
        fields,
        indexes,
    })
}
