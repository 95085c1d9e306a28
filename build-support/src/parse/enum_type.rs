//! `#[strata::schema("…")]` on a unit-only enum: a PostgreSQL enum type.

use heck::ToSnakeCase;
use proc_macro2::{Span, TokenStream};
use strata_manifest::{EnumType, MAX_IDENT_BYTES};
use syn::parse::{ParseStream, Parser};
use syn::{LitStr, Token};

use super::values::{checked_name, checked_schema, path_name, string_once, unraw};
use crate::context::Ctxt;
use crate::model::{EnumModel, EnumValue};

/// Parses an enum type: `args` are the tokens inside `#[schema(…)]`, `item`
/// the enum. Every mistake is reported, each on its own tokens.
pub fn parse_enum(args: TokenStream, item: &syn::ItemEnum) -> syn::Result<EnumModel> {
    let mut cx = Ctxt::default();
    let schema = enum_schema(&mut cx, args);
    let name = checked_name(&mut cx, &item.ident, unraw(&item.ident).to_snake_case());
    if !item.generics.params.is_empty() {
        cx.error_spanned_by(
            &item.generics,
            "a #[schema] enum cannot be generic: it describes one PostgreSQL type",
        );
    }
    if item.variants.is_empty() {
        cx.error_spanned_by(&item.ident, "a #[schema] enum needs at least one variant");
    }
    let mut values: Vec<EnumValue> = Vec::new();
    for variant in &item.variants {
        if !matches!(variant.fields, syn::Fields::Unit) {
            cx.error_spanned_by(
                &variant.fields,
                format!(
                    "a #[schema] enum is a PostgreSQL enum, whose values carry no data: write `{0}`, not `{0}(…)`\nhelp: keep the data in a column of the model instead",
                    variant.ident
                ),
            );
        }
        if let Some((_, discriminant)) = &variant.discriminant {
            cx.error_spanned_by(
                discriminant,
                "a #[schema] enum's values are its variants' names: remove the discriminant",
            );
        }
        let (name, renamed_from) = value_attrs(&mut cx, variant);
        let value = name
            .as_ref()
            .map_or_else(|| unraw(&variant.ident).to_snake_case(), LitStr::value);
        if value.is_empty() || value.len() > MAX_IDENT_BYTES {
            cx.error_spanned_by(
                &variant.ident,
                format!("enum value `{value}` must be 1 to {MAX_IDENT_BYTES} bytes long, as PostgreSQL takes it"),
            );
        }
        if values.iter().any(|v| v.value == value) {
            cx.error_spanned_by(
                &variant.ident,
                format!("two variants are both the value `{value}`: rename one, or give it #[value(name = \"…\")]"),
            );
        }
        if let Some(lit) = renamed_from.as_ref().filter(|lit| lit.value() == value) {
            cx.error_spanned_by(
                lit,
                format!(
                    "`renamed_from` names the value's old spelling, but it is `{value}` already"
                ),
            );
        }
        let renamed_from = renamed_from.map(|lit| lit.value());
        values.push(EnumValue {
            ident: variant.ident.clone(),
            value,
            renamed_from,
        });
    }
    for (i, v) in values.iter().enumerate() {
        if let Some(from) = &v.renamed_from {
            if values.iter().any(|w| w.value == *from) {
                cx.error_spanned_by(
                    &v.ident,
                    format!("`renamed_from = \"{from}\"`, but another variant is the value `{from}` still: remove the hint, or rename that variant"),
                );
            }
            if values[..i]
                .iter()
                .any(|w| w.renamed_from.as_ref() == Some(from))
            {
                cx.error_spanned_by(
                    &v.ident,
                    format!("two variants are renamed from `{from}`: keep the hint on one"),
                );
            }
        }
    }
    cx.check()?;
    Ok(EnumModel {
        ident: item.ident.clone(),
        schema,
        name,
        values,
    })
}

/// The schema, first and alone: an enum takes no other key.
fn enum_schema(cx: &mut Ctxt, args: TokenStream) -> String {
    let parse = |input: ParseStream| -> syn::Result<Option<LitStr>> {
        if input.peek(syn::Ident) && !input.peek2(Token![=]) {
            let word: syn::Ident = input.parse()?;
            let message = if word == "tenant" {
                "an enum cannot live in every tenant's schema: sqlx names a Rust type's PostgreSQL type once, so one enum type serves every tenant\nhelp: put it in a shared schema, #[strata::schema(\"tenant_shared\")], and use it from the tenant model".to_owned()
            } else {
                format!("the schema's name is a string: #[strata::schema(\"{word}\")]")
            };
            return Err(syn::Error::new(word.span(), message));
        }
        let lit = input.parse::<LitStr>()?;
        if !input.is_empty() {
            return Err(input.error(
                "a #[schema] enum takes its schema only: #[strata::schema(\"tenant_kct\")]; its type name is the enum's name in snake_case",
            ));
        }
        Ok(Some(lit))
    };
    match parse.parse2(args.clone()) {
        Ok(Some(lit)) => checked_schema(cx, &lit),
        Ok(None) => String::new(),
        Err(error) => {
            let error = if args.is_empty() {
                syn::Error::new(
                    Span::call_site(),
                    "the schema name comes first: #[strata::schema(\"tenant_kct\")]",
                )
            } else {
                error
            };
            cx.push(error);
            String::new()
        }
    }
}

/// `#[value(name = "…", renamed_from = "…")]` on a variant: the label, when
/// it is not the variant's name in snake_case, and its old spelling.
fn value_attrs(cx: &mut Ctxt, variant: &syn::Variant) -> (Option<LitStr>, Option<LitStr>) {
    let mut name: Option<LitStr> = None;
    let mut renamed_from: Option<LitStr> = None;
    for attr in variant.attrs.iter().filter(|a| a.path().is_ident("value")) {
        let result = attr.parse_nested_meta(|meta| {
            match path_name(&meta.path).as_str() {
                "renamed_from" => {
                    string_once(cx, &meta, &mut renamed_from, "renamed_from = \"sent\"")?
                }
                "name" => string_once(cx, &meta, &mut name, "name = \"PG-13\"")?,
                other => cx.error_spanned_by(
                    &meta.path,
                    format!("unknown key `{other}` in #[value]\nhelp: the keys are: name = \"…\", renamed_from = \"…\""),
                ),
            }
            Ok(())
        });
        if let Err(error) = result {
            cx.push(error);
        }
    }
    for lit in name.iter().chain(&renamed_from) {
        let text = lit.value();
        if text.is_empty() || text.len() > MAX_IDENT_BYTES || text.contains('\0') {
            cx.error_spanned_by(
                lit,
                format!("an enum value is 1 to {MAX_IDENT_BYTES} bytes long, without NUL"),
            );
        }
    }
    (name, renamed_from)
}

impl EnumModel {
    /// The type this enum describes, with its rename hints.
    pub fn enum_state(&self) -> EnumType {
        EnumType {
            schema: self.schema.clone(),
            name: self.name.clone(),
            values: self.values.iter().map(|v| v.value.clone()).collect(),
            renamed_values: self
                .values
                .iter()
                .filter_map(|v| Some((v.renamed_from.clone()?, v.value.clone())))
                .collect(),
        }
    }
}
