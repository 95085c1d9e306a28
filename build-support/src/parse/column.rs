//! `#[column(…)]` on a field.

use syn::LitStr;

use super::values::{
    checked_expr, checked_name, checked_schema, checked_type, deferrable, deferral, doc_comment,
    flag, path_name, string_once, type_text, unknown_key, unraw,
};
use crate::context::Ctxt;
use crate::model::{Field, Reference};
use crate::rust_type::sql_type_of;
use strata_manifest::{Action, Deferral, QualifiedName};

const COLUMN_KEYS: &str = "primary_key, identity, identity = \"always\", unique, index, skip, type = \"…\", default = \"…\", name = \"…\", check = \"…\", renamed_from = \"…\", using = \"…\", generated = \"…\", references = Model or \"schema.table(column)\", on_delete = \"…\", on_update = \"…\", deferrable, deferrable = \"initially deferred\"";
const ACTIONS: &str = "\"cascade\", \"restrict\", \"set null\", \"set default\", \"no action\"";
const INTEGER_TYPES: [&str; 3] = ["smallint", "integer", "bigint"];

#[derive(Default)]
struct ColumnArgs {
    primary_key: Option<syn::Path>,
    identity: Option<syn::Path>,
    /// `identity = "always"` (or `"by default"`, as bare `identity`).
    identity_kind: Option<LitStr>,
    unique: Option<syn::Path>,
    index: Option<syn::Path>,
    skip: Option<syn::Path>,
    sql_type: Option<LitStr>,
    default: Option<LitStr>,
    name: Option<LitStr>,
    check: Option<LitStr>,
    renamed_from: Option<LitStr>,
    using: Option<LitStr>,
    generated: Option<LitStr>,
    references: Option<(syn::Path, Option<Reference>)>,
    on_delete: Option<LitStr>,
    /// `deferrable`, or `deferrable = "initially deferred"`.
    deferrable: Option<syn::Path>,
    deferrable_kind: Option<LitStr>,
    on_update: Option<LitStr>,
}

impl ColumnArgs {
    fn anything_but_skip(&self) -> bool {
        self.primary_key.is_some()
            || self.identity.is_some()
            || self.unique.is_some()
            || self.index.is_some()
            || self.sql_type.is_some()
            || self.default.is_some()
            || self.name.is_some()
            || self.check.is_some()
            || self.renamed_from.is_some()
            || self.using.is_some()
            || self.generated.is_some()
            || self.references.is_some()
            || self.on_delete.is_some()
            || self.deferrable.is_some()
            || self.on_update.is_some()
    }
}

pub(super) fn parse_field(cx: &mut Ctxt, field: &syn::Field, table: &str) -> Option<Field> {
    let ident = field.ident.clone()?;
    let mut args = ColumnArgs::default();
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("column")) {
        let result = attr.parse_nested_meta(|meta| {
            let a = &mut args;
            match path_name(&meta.path).as_str() {
                "primary_key" => flag(cx, &meta, &mut a.primary_key)?,
                "identity" if meta.input.peek(syn::Token![=]) => {
                    string_once(cx, &meta, &mut a.identity_kind, "identity = \"always\"")?;
                    a.identity.get_or_insert(meta.path.clone());
                }
                "identity" => flag(cx, &meta, &mut a.identity)?,
                "unique" => flag(cx, &meta, &mut a.unique)?,
                "index" => flag(cx, &meta, &mut a.index)?,
                "skip" => flag(cx, &meta, &mut a.skip)?,
                "type" => string_once(cx, &meta, &mut a.sql_type, "type = \"varchar(64)\"")?,
                "default" => string_once(cx, &meta, &mut a.default, "default = \"now()\"")?,
                "name" => string_once(cx, &meta, &mut a.name, "name = \"sku_code\"")?,
                "check" => string_once(cx, &meta, &mut a.check, "check = \"price_cents >= 0\"")?,
                "renamed_from" => {
                    string_once(cx, &meta, &mut a.renamed_from, "renamed_from = \"title\"")?
                }
                "using" => string_once(cx, &meta, &mut a.using, "using = \"note::integer\"")?,
                "generated" => string_once(
                    cx,
                    &meta,
                    &mut a.generated,
                    "generated = \"price_cents * quantity\"",
                )?,
                "on_delete" => string_once(cx, &meta, &mut a.on_delete, "on_delete = \"cascade\"")?,
                "deferrable" => deferrable(cx, &meta, &mut a.deferrable, &mut a.deferrable_kind)?,
                "on_update" => string_once(cx, &meta, &mut a.on_update, "on_update = \"cascade\"")?,
                "references" => {
                    let value: syn::Expr = meta.value()?.parse()?;
                    let target = reference(cx, &value);
                    if a.references.is_some() {
                        cx.error_spanned_by(&meta.path, "duplicate `references`");
                    } else {
                        a.references = Some((meta.path.clone(), target));
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
        if args.anything_but_skip() {
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
            identity_always: false,
            generated: None,
            comment: None,
            enum_type: None,
            unique: false,
            index: false,
            default: None,
            check: None,
            renamed_from: None,
            using: None,
            references: None,
            on_delete: Action::NoAction,
            deferral: Deferral::Immediate,
            on_update: Action::NoAction,
        });
    }

    let column = match &args.name {
        Some(lit) => checked_name(cx, lit, lit.value()),
        None => checked_name(cx, &ident, unraw(&ident)),
    };
    let (mapped, nullable) = sql_type_of(&field.ty);
    let mut enum_type = None;
    let sql_type = match (&args.sql_type, mapped) {
        (Some(lit), _) => checked_type(cx, lit),
        (None, Some(mapped)) => mapped,
        // A plain path may be a #[strata::schema] enum: the build resolves
        // it, and the macro has the compiler check it is one.
        (None, None) => match crate::rust_type::option_inner(&field.ty).unwrap_or(&field.ty) {
            syn::Type::Path(path)
                if path.qself.is_none()
                    && path
                        .path
                        .segments
                        .iter()
                        .all(|s| matches!(s.arguments, syn::PathArguments::None)) =>
            {
                enum_type = Some(path.path.clone());
                String::new()
            }
            _ => {
                cx.error_spanned_by(
                    &field.ty,
                    format!(
                        "strata cannot tell which PostgreSQL type stores `{}`\nhelp: name it: #[column(type = \"text\")]",
                        type_text(&field.ty)
                    ),
                );
                String::new()
            }
        },
    };
    let default = args
        .default
        .as_ref()
        .map(|lit| checked_expr(cx, lit, "default", "\"0\" or \"now()\""));
    let check = args
        .check
        .as_ref()
        .map(|lit| checked_expr(cx, lit, "check", "\"price_cents >= 0\""));
    let using = args
        .using
        .as_ref()
        .map(|lit| checked_expr(cx, lit, "using", "\"note::integer\""));
    let generated = args
        .generated
        .as_ref()
        .map(|lit| checked_expr(cx, lit, "generated", "\"price_cents * quantity\""));
    if let Some(lit) = &args.generated {
        if args.default.is_some() {
            cx.error_spanned_by(
                lit,
                "a `generated` column is computed from its expression: remove `default`",
            );
        }
        if args.identity.is_some() {
            cx.error_spanned_by(
                lit,
                "a column is either `identity` or `generated`, not both",
            );
        }
    }
    let renamed_from = args.renamed_from.as_ref().map(|lit| {
        let from = checked_name(cx, lit, lit.value());
        if from == column {
            cx.error_spanned_by(
                lit,
                format!("`renamed_from` names the column's old name, but it is called `{column}` already"),
            );
        }
        from
    });
    let identity_always = match &args.identity_kind {
        Some(lit) => match lit.value().to_ascii_lowercase().as_str() {
            "always" => true,
            "by default" | "by_default" => false,
            other => {
                cx.error_spanned_by(
                    lit,
                    format!("`identity = \"{other}\"`: write `identity = \"always\"` (GENERATED ALWAYS: PostgreSQL refuses a value from an INSERT) or bare `identity` (BY DEFAULT)"),
                );
                false
            }
        },
        None => false,
    };
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
    let on_delete = action(cx, &args.on_delete, &args.references, "on_delete");
    if let (Some(path), None) = (&args.deferrable, &args.references) {
        cx.error_spanned_by(
            path,
            "`deferrable` belongs to a foreign key: add `references = …`",
        );
    }
    let deferral = deferral(cx, &args.deferrable, &args.deferrable_kind);
    let on_update = action(cx, &args.on_update, &args.references, "on_update");
    for (lit, action) in [(&args.on_delete, on_delete), (&args.on_update, on_update)] {
        if let (Some(lit), Action::SetNull, false) = (lit, action, nullable) {
            cx.error_spanned_by(
                lit,
                "\"set null\" needs a nullable column: make the field `Option<…>`",
            );
        }
    }
    let _ = table;
    Some(Field {
        field: field.clone(),
        ident,
        skip: false,
        column,
        sql_type,
        nullable,
        primary_key: args.primary_key.is_some(),
        identity: args.identity.is_some(),
        identity_always,
        generated,
        comment: doc_comment(&field.attrs),
        enum_type,
        unique: args.unique.is_some(),
        index: args.index.is_some(),
        default,
        check,
        renamed_from,
        using,
        references: args.references.and_then(|(_, target)| target),
        on_delete,
        deferral,
        on_update,
    })
}

/// `references = Product` or `references = "schema.table(column)"`.
fn reference(cx: &mut Ctxt, value: &syn::Expr) -> Option<Reference> {
    const EXAMPLE: &str = "references = Product, or references = \"legacy.vendors(id)\" for a table strata does not manage";
    match value {
        syn::Expr::Path(path) if path.qself.is_none() => Some(Reference::Model(path.path.clone())),
        syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(lit),
            ..
        }) => {
            let (table, mut columns) = external_target(cx, lit, EXAMPLE)?;
            if columns.len() != 1 {
                cx.error_spanned_by(
                    lit,
                    format!("a field references one column\nhelp: for a key over several, write #[foreign_key(columns = [\"a\", \"b\"], references = \"{}.{}(a, b)\")] on the struct", table.schema, table.name),
                );
                return None;
            }
            Some(Reference::External {
                table,
                column: columns.remove(0),
            })
        }
        other => {
            cx.error_spanned_by(
                other,
                format!("`references` takes a model or a string: {EXAMPLE}"),
            );
            None
        }
    }
}

/// `"schema.table(column, …)"`: the table and its columns.
pub(super) fn external_target(
    cx: &mut Ctxt,
    lit: &LitStr,
    example: &str,
) -> Option<(QualifiedName, Vec<String>)> {
    let text = lit.value();
    let parsed = text.split_once('(').and_then(|(table, rest)| {
        let columns = rest.trim_end().strip_suffix(')')?;
        let (schema, name) = table.split_once('.')?;
        Some((schema.trim(), name.trim(), columns))
    });
    let Some((schema, name, columns)) = parsed else {
        cx.error_spanned_by(
            lit,
            format!("`{text}` is not of the form \"schema.table(column)\"\nhelp: {example}"),
        );
        return None;
    };
    let schema_lit = LitStr::new(schema, lit.span());
    let schema = checked_schema(cx, &schema_lit);
    let name = checked_name(cx, lit, name.to_owned());
    let columns = columns
        .split(',')
        .map(|c| checked_name(cx, lit, c.trim().to_owned()))
        .collect();
    Some((QualifiedName::new(schema, name), columns))
}

pub(super) fn action(
    cx: &mut Ctxt,
    lit: &Option<LitStr>,
    references: &Option<(syn::Path, Option<Reference>)>,
    key: &str,
) -> Action {
    let Some(lit) = lit else {
        return Action::NoAction;
    };
    if references.is_none() {
        cx.error_spanned_by(
            lit,
            format!("`{key}` belongs to a foreign key: add `references = …`"),
        );
    }
    Action::parse(&lit.value()).unwrap_or_else(|| {
        cx.error_spanned_by(
            lit,
            format!(
                "`{}` is not a foreign key action\nhelp: use one of {ACTIONS}",
                lit.value()
            ),
        );
        Action::NoAction
    })
}
