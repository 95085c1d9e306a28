//! The one parser of `#[schema(…)]` and `#[column(…)]`, for the macro and the build script alike.

use heck::ToSnakeCase;
use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::meta::ParseNestedMeta;
use syn::parse::{ParseStream, Parser};
use syn::{LitStr, Token};

use crate::context::Ctxt;
use crate::model::{Field, Model};
use crate::rust_type::sql_type_of;
use strata_manifest::{canonical_type, validate_ident};

const SCHEMA_KEYS: &str = "table";
const COLUMN_KEYS: &str =
    "primary_key, identity, unique, skip, type = \"…\", default = \"…\", name = \"…\"";
/// Keys of the model syntax in DESIGN.md that this version does not implement yet.
const LATER_KEYS: [&str; 9] = [
    "moved_from",
    "renamed_from",
    "compat_view",
    "references",
    "on_delete",
    "on_update",
    "index",
    "check",
    "where",
];
const INTEGER_TYPES: [&str; 3] = ["smallint", "integer", "bigint"];

/// Parses a model: `args` are the tokens inside `#[schema(…)]`, `item` the
/// struct it is on. Every mistake is reported, each on its own tokens.
pub fn parse_model(args: TokenStream, item: &syn::ItemStruct) -> syn::Result<Model> {
    let mut cx = Ctxt::default();
    let (schema, table) = parse_schema_args(&mut cx, args);
    let table = match table {
        Some(lit) => checked_name(&mut cx, &lit, lit.value()),
        None => {
            let name = unraw(&item.ident).to_snake_case();
            checked_name(&mut cx, &item.ident, name)
        }
    };
    if !item.generics.params.is_empty() {
        cx.error_spanned_by(
            &item.generics,
            "a #[schema] model cannot be generic: it describes one table",
        );
    }
    let mut fields = Vec::new();
    match &item.fields {
        syn::Fields::Named(named) => {
            for field in &named.named {
                if let Some(parsed) = parse_field(&mut cx, field) {
                    fields.push(parsed);
                }
            }
        }
        _ => cx.error_spanned_by(
            &item.ident,
            "#[schema] needs a struct with named fields, one per column: `struct Customer { id: i64 }`",
        ),
    }
    check_fields(&mut cx, item, &fields);
    cx.check()?;
    Ok(Model {
        ident: item.ident.clone(),
        schema: schema.unwrap_or_default(),
        table,
        fields,
    })
}

fn parse_schema_args(cx: &mut Ctxt, args: TokenStream) -> (Option<String>, Option<LitStr>) {
    let split = |input: ParseStream| -> syn::Result<(Option<LitStr>, TokenStream)> {
        let schema = if input.peek(LitStr) {
            Some(input.parse::<LitStr>()?)
        } else {
            None
        };
        if schema.is_some() && !input.is_empty() {
            input.parse::<Token![,]>()?;
        }
        Ok((schema, input.parse()?))
    };
    let (schema_lit, rest) = match split.parse2(args.clone()) {
        Ok(parts) => parts,
        Err(error) => {
            cx.push(error);
            return (None, None);
        }
    };
    let schema = match &schema_lit {
        Some(lit) => Some(checked_schema(cx, lit)),
        None => {
            let message = "the schema name comes first: #[strata::schema(\"tenant_kct\")]";
            match args.is_empty() {
                true => cx.push(syn::Error::new(Span::call_site(), message)),
                false => cx.error_spanned_by(&args, message),
            }
            None
        }
    };
    let mut table: Option<LitStr> = None;
    let result = syn::meta::parser(|meta| {
        if meta.path.is_ident("table") {
            if let Some(lit) = string_value(cx, &meta, "table = \"customers\"")? {
                set_once(cx, &mut table, lit, &meta);
            }
            return Ok(());
        }
        unknown_key(cx, &meta, "#[schema]", SCHEMA_KEYS)
    })
    .parse2(rest);
    if let Err(error) = result {
        cx.push(error);
    }
    (schema, table)
}

#[derive(Default)]
struct ColumnArgs {
    primary_key: Option<syn::Path>,
    identity: Option<syn::Path>,
    unique: Option<syn::Path>,
    skip: Option<syn::Path>,
    sql_type: Option<LitStr>,
    default: Option<LitStr>,
    name: Option<LitStr>,
}

fn parse_field(cx: &mut Ctxt, field: &syn::Field) -> Option<Field> {
    let ident = field.ident.clone()?;
    let mut args = ColumnArgs::default();
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("column")) {
        let result = attr.parse_nested_meta(|meta| {
            let flag = |slot: &mut Option<syn::Path>, cx: &mut Ctxt| {
                if meta.input.peek(Token![=]) {
                    cx.error_spanned_by(
                        &meta.path,
                        format!("`{}` is a flag and takes no value", path_name(&meta.path)),
                    );
                    let _ = meta.value().and_then(|v| v.parse::<syn::Expr>());
                } else if slot.is_some() {
                    cx.error_spanned_by(
                        &meta.path,
                        format!("duplicate `{}`", path_name(&meta.path)),
                    );
                } else {
                    *slot = Some(meta.path.clone());
                }
            };
            match path_name(&meta.path).as_str() {
                "primary_key" => flag(&mut args.primary_key, cx),
                "identity" => flag(&mut args.identity, cx),
                "unique" => flag(&mut args.unique, cx),
                "skip" => flag(&mut args.skip, cx),
                "type" => {
                    if let Some(lit) = string_value(cx, &meta, "type = \"varchar(64)\"")? {
                        set_once(cx, &mut args.sql_type, lit, &meta);
                    }
                }
                "default" => {
                    if let Some(lit) = string_value(cx, &meta, "default = \"now()\"")? {
                        set_once(cx, &mut args.default, lit, &meta);
                    }
                }
                "name" => {
                    if let Some(lit) = string_value(cx, &meta, "name = \"sku_code\"")? {
                        set_once(cx, &mut args.name, lit, &meta);
                    }
                }
                _ => unknown_key(cx, &meta, "#[column]", COLUMN_KEYS)?,
            }
            Ok(())
        });
        if let Err(error) = result {
            cx.push(error);
        }
    }

    if let Some(skip) = &args.skip {
        let others = args.primary_key.is_some()
            || args.identity.is_some()
            || args.unique.is_some()
            || args.sql_type.is_some()
            || args.default.is_some()
            || args.name.is_some();
        if others {
            cx.error_spanned_by(
                skip,
                "a `skip` field is not a column: remove the other column options",
            );
        }
        return Some(Field {
            field: field.clone(),
            ident,
            skip: true,
            column: String::new(),
            sql_type: String::new(),
            nullable: true,
            primary_key: false,
            identity: false,
            unique: false,
            default: None,
        });
    }

    let column = match &args.name {
        Some(lit) => checked_name(cx, lit, lit.value()),
        None => checked_name(cx, &ident, unraw(&ident)),
    };
    let (mapped, nullable) = sql_type_of(&field.ty);
    let sql_type = match (&args.sql_type, mapped) {
        (Some(lit), _) => checked_type(cx, lit),
        (None, Some(mapped)) => mapped,
        (None, None) => {
            cx.error_spanned_by(
                &field.ty,
                format!(
                    "strata cannot tell which PostgreSQL type stores `{}`\nhelp: name it: #[column(type = \"text\")]",
                    type_text(&field.ty)
                ),
            );
            String::new()
        }
    };
    if let Some(lit) = &args.default {
        if lit.value().trim().is_empty() {
            cx.error_spanned_by(lit, "`default` is empty: give an SQL expression such as \"0\" or \"now()\", or remove it");
        }
    }
    if let Some(identity) = &args.identity {
        if !sql_type.is_empty() && !INTEGER_TYPES.contains(&sql_type.as_str()) {
            cx.error_spanned_by(
                identity,
                format!("`identity` needs an integer column (i16, i32 or i64), not {sql_type}"),
            );
        }
        if nullable {
            cx.error_spanned_by(
                identity,
                "an `identity` column is never NULL: use `i64`, not `Option<i64>`",
            );
        }
        if args.default.is_some() {
            cx.error_spanned_by(
                identity,
                "an `identity` column takes its values from its sequence: remove `default`",
            );
        }
    }
    if let Some(primary_key) = &args.primary_key {
        if nullable {
            cx.error_spanned_by(
                primary_key,
                "a `primary_key` column cannot be NULL: use `T`, not `Option<T>`",
            );
        }
    }
    Some(Field {
        field: field.clone(),
        ident,
        skip: false,
        column,
        sql_type,
        nullable,
        primary_key: args.primary_key.is_some(),
        identity: args.identity.is_some(),
        unique: args.unique.is_some(),
        default: args.default.map(|lit| lit.value()),
    })
}

fn check_fields(cx: &mut Ctxt, item: &syn::ItemStruct, fields: &[Field]) {
    let columns: Vec<&Field> = fields.iter().filter(|f| !f.skip).collect();
    if columns.is_empty() && matches!(item.fields, syn::Fields::Named(_)) {
        cx.error_spanned_by(&item.ident, "a #[schema] model needs at least one column");
    }
    for (i, field) in columns.iter().enumerate() {
        if columns[..i].iter().any(|f| f.column == field.column) {
            cx.error_spanned_by(
                &field.ident,
                format!(
                    "column `{}` is declared twice in this model: give one a different #[column(name = \"…\")]",
                    field.column
                ),
            );
        }
    }
}

/// The value of `key = "…"`; any other value is reported with an example.
fn string_value(
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

fn set_once(cx: &mut Ctxt, slot: &mut Option<LitStr>, lit: LitStr, meta: &ParseNestedMeta) {
    if slot.is_some() {
        cx.error_spanned_by(&meta.path, format!("duplicate `{}`", path_name(&meta.path)));
    } else {
        *slot = Some(lit);
    }
}

fn unknown_key(cx: &mut Ctxt, meta: &ParseNestedMeta, attr: &str, valid: &str) -> syn::Result<()> {
    let name = path_name(&meta.path);
    let message = if LATER_KEYS.contains(&name.as_str()) {
        format!("`{name}` is not supported by this version of strata yet")
    } else {
        format!("unknown key `{name}` in {attr}\nhelp: the keys are: {valid}")
    };
    cx.error_spanned_by(&meta.path, message);
    // Step over the value, so that the keys after it are still checked.
    if meta.input.peek(Token![=]) {
        meta.value()?.parse::<syn::Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        meta.parse_nested_meta(|inner| {
            if inner.input.peek(Token![=]) {
                inner.value()?.parse::<syn::Expr>()?;
            }
            Ok(())
        })?;
    }
    Ok(())
}

fn checked_name(cx: &mut Ctxt, span: impl ToTokens, name: String) -> String {
    if let Err(error) = validate_ident(&name) {
        cx.error_spanned_by(span, error);
    }
    name
}

fn checked_schema(cx: &mut Ctxt, lit: &LitStr) -> String {
    let name = checked_name(cx, lit, lit.value());
    if name.starts_with("pg_") || name == "information_schema" {
        // PostgreSQL refuses `CREATE SCHEMA pg_…` and owns information_schema.
        cx.error_spanned_by(
            lit,
            format!("schema `{name}` is PostgreSQL's own: choose another name"),
        );
    } else if name == "strata" {
        cx.error_spanned_by(
            lit,
            "schema `strata` is reserved for strata's tracking table (strata.migrations): choose another name",
        );
    }
    name
}

fn checked_type(cx: &mut Ctxt, lit: &LitStr) -> String {
    let value = lit.value();
    let canonical = canonical_type(&value);
    if value.trim().is_empty() {
        cx.error_spanned_by(
            lit,
            "`type` is empty: name a PostgreSQL type such as \"text\"",
        );
    } else if value.contains(';') || value.contains('\0') || value.contains("--") {
        cx.error_spanned_by(lit, format!("`{value}` is not a PostgreSQL type name"));
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

fn path_name(path: &syn::Path) -> String {
    path.segments
        .iter()
        .map(|s| unraw(&s.ident))
        .collect::<Vec<_>>()
        .join("::")
}

/// A type as the user wrote it: `HashMap<String, String>`, not `HashMap < String, String >`.
fn type_text(ty: &syn::Type) -> String {
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
fn unraw(ident: &syn::Ident) -> String {
    let text = ident.to_string();
    text.strip_prefix("r#").map(str::to_owned).unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn parse(args: TokenStream, item: TokenStream) -> syn::Result<Model> {
        parse_model(args, &syn::parse2(item).unwrap())
    }

    #[test]
    fn reads_a_model() {
        let model = parse(
            quote!("tenant_kct", table = "customers"),
            quote! {
                pub struct Customer {
                    #[column(primary_key, identity)]
                    pub id: i64,
                    #[column(unique, type = "VARCHAR(255)")]
                    pub email: String,
                    pub note: Option<String>,
                    #[column(skip)]
                    pub cached: Option<u32>,
                }
            },
        )
        .unwrap();
        let table = model.table_state();
        assert_eq!(
            (table.schema.as_str(), table.name.as_str()),
            ("tenant_kct", "customers")
        );
        assert_eq!(table.columns.len(), 3);
        assert_eq!(table.columns[1].sql_type, "character varying(255)");
        assert!(table.columns[2].nullable);
        assert_eq!(table.primary_key.unwrap().columns, vec!["id"]);
        assert_eq!(table.uniques[0].columns, vec!["email"]);
    }

    #[test]
    fn default_table_name_is_snake_case() {
        let model = parse(
            quote!("tenant_shared"),
            quote!(
                struct ProductVariant {
                    id: i64,
                }
            ),
        )
        .unwrap();
        assert_eq!(model.table, "product_variant");
    }

    #[test]
    fn reports_every_mistake_at_once() {
        let err = parse(
            quote!("s", tabel = "x"),
            quote! {
                struct T {
                    #[column(primary_key)]
                    a: Option<i64>,
                    b: std::collections::HashMap<String, String>,
                }
            },
        )
        .unwrap_err();
        assert_eq!(err.into_iter().count(), 3);
    }
}
