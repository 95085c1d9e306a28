//! Finds the models in a crate's sources.

use std::path::{Path, PathBuf};

use crate::error::{io, Error, ModelError};
use crate::{parse_model, Model};

/// What a scan found.
#[derive(Debug, Default)]
pub struct ScannedModels {
    /// The models, in file order then source order.
    pub models: Vec<ScannedModel>,
    /// Models whose attributes have mistakes, and files that are not valid Rust.
    pub errors: Vec<ModelError>,
    /// Every `.rs` file read, sorted.
    pub files: Vec<PathBuf>,
    /// The enum types, in file order then source order.
    pub enums: Vec<ScannedEnum>,
    /// The views, in file order then source order.
    pub views: Vec<ScannedView>,
}

/// A view and the file it is in.
#[derive(Debug, Clone)]
pub struct ScannedView {
    /// The source file.
    pub file: PathBuf,
    /// The view.
    pub model: crate::ViewModel,
}

/// An enum type and the file it is in.
#[derive(Debug, Clone)]
pub struct ScannedEnum {
    /// The source file.
    pub file: PathBuf,
    /// The module it is declared in.
    pub module: Vec<String>,
    /// The enum.
    pub model: crate::EnumModel,
}

/// A model and the file it is in.
#[derive(Debug, Clone)]
pub struct ScannedModel {
    /// The source file.
    pub file: PathBuf,
    /// The module it is declared in, from the models folder's root
    /// (`["models", "shop"]` for `src/models/shop.rs`).
    pub module: Vec<String>,
    /// The `use` declarations in scope where it is declared.
    pub uses: Uses,
    /// The model.
    pub model: Model,
}

/// The `use` declarations of one module: each name brought in, with the
/// path as written (`Client` → `crate::models::Customer`), and each glob.
#[derive(Debug, Clone, Default)]
pub struct Uses {
    /// Names brought in, with the path they stand for.
    pub names: Vec<(String, Vec<String>)>,
    /// The paths of `use path::*`.
    pub globs: Vec<Vec<String>>,
}

impl Uses {
    fn read(items: &[syn::Item]) -> Self {
        let mut uses = Uses::default();
        for item in items {
            if let syn::Item::Use(item) = item {
                let root = if item.leading_colon.is_some() {
                    vec![String::new()]
                } else {
                    Vec::new()
                };
                uses.tree(root, &item.tree);
            }
        }
        uses
    }

    fn tree(&mut self, prefix: Vec<String>, tree: &syn::UseTree) {
        let with = |name: &syn::Ident| {
            let mut path = prefix.clone();
            path.push(crate::parse::unraw_ident(name));
            path
        };
        match tree {
            syn::UseTree::Path(p) => self.tree(with(&p.ident), &p.tree),
            syn::UseTree::Name(n) => self
                .names
                .push((crate::parse::unraw_ident(&n.ident), with(&n.ident))),
            syn::UseTree::Rename(r) => self
                .names
                .push((crate::parse::unraw_ident(&r.rename), with(&r.ident))),
            syn::UseTree::Glob(_) => self.globs.push(prefix),
            syn::UseTree::Group(g) => {
                for tree in &g.items {
                    self.tree(prefix.clone(), tree);
                }
            }
        }
    }

    /// The path a name brought in by `use` stands for.
    pub fn lookup(&self, name: &str) -> Option<&[String]> {
        self.names
            .iter()
            .find(|(alias, _)| alias == name)
            .map(|(_, path)| path.as_slice())
    }

    /// True when `path` names strata's `schema` attribute here:
    /// `strata::schema`, or a name `use` brings in from `strata::schema`
    /// (`use strata::schema;`, `use strata::schema as model;`, `use strata::*;`).
    fn is_strata_schema(&self, path: &syn::Path) -> bool {
        self.is_strata(path, "schema")
    }

    /// True when `path` names strata's `view` attribute here, as
    /// [`Uses::is_strata_schema`] reads `schema`.
    fn is_strata_view(&self, path: &syn::Path) -> bool {
        self.is_strata(path, "view")
    }

    fn is_strata(&self, path: &syn::Path, attribute: &str) -> bool {
        let mut names: Vec<String> = path
            .segments
            .iter()
            .map(|s| crate::parse::unraw_ident(&s.ident))
            .collect();
        if path.leading_colon.is_some() {
            names.insert(0, String::new());
        }
        let is_strata = |p: &[String]| {
            let p: Vec<&str> = p.iter().map(String::as_str).collect();
            matches!(p[..], ["strata", a] | ["", "strata", a] if a == attribute)
        };
        if is_strata(&names) {
            return true;
        }
        let [only] = &names[..] else {
            return false;
        };
        match self.lookup(only) {
            Some(full) => is_strata(full),
            None => {
                only == attribute
                    && self.globs.iter().any(|g| {
                        let g: Vec<&str> = g.iter().map(String::as_str).collect();
                        matches!(g[..], ["strata"] | ["", "strata"])
                    })
            }
        }
    }
}

/// Reads every `.rs` file below `dir` (in a stable order) and parses each
/// struct that carries `#[strata::schema(…)]`, or `#[schema(…)]` where a
/// `use strata::schema` (or `use strata::*`) brings it in: another crate's
/// attribute that is also called `schema` (utoipa has one) is not strata's.
pub fn scan_models(dir: &Path) -> Result<ScannedModels, Error> {
    let mut found = ScannedModels::default();
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.map_err(|e| {
            let path = e.path().unwrap_or(dir).to_owned();
            Error::Io {
                path,
                cause: e.into(),
            }
        })?;
        if entry.file_type().is_file() && entry.path().extension().is_some_and(|e| e == "rs") {
            files.push(entry.into_path());
        }
    }
    for file in &files {
        let text = std::fs::read_to_string(file).map_err(io(file))?;
        match syn::parse_file(&text) {
            Ok(ast) => visit_items(file, module_of(dir, file), &ast.items, &mut found),
            // rustc reports this better than we can; keep it with the model errors,
            // which a build script shows as warnings and leaves to the compiler.
            Err(error) => found.errors.push(model_error(file, &error)),
        }
    }
    found.files = files;
    Ok(found)
}

/// The module a file is, from the root of `dir`: `lib.rs` and `main.rs` are
/// the root, `a/mod.rs` is `a`, `a/b.rs` is `a::b`.
fn module_of(dir: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(dir).unwrap_or(file);
    let mut parts: Vec<String> = relative
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.len() == 1 && matches!(parts[0].as_str(), "lib" | "main") {
        parts.clear();
    }
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

fn visit_items(file: &Path, module: Vec<String>, items: &[syn::Item], found: &mut ScannedModels) {
    let uses = Uses::read(items);
    for item in items {
        match item {
            syn::Item::Struct(item) => {
                if let Some(attr) = item.attrs.iter().find(|a| uses.is_strata_view(a.path())) {
                    let args = match &attr.meta {
                        syn::Meta::List(list) => list.tokens.clone(),
                        _ => proc_macro2::TokenStream::new(),
                    };
                    match crate::parse_view(args, item) {
                        Ok(model) => found.views.push(ScannedView {
                            file: file.to_owned(),
                            model,
                        }),
                        Err(errors) => {
                            for error in errors {
                                found.errors.push(model_error(file, &error));
                            }
                        }
                    }
                    continue;
                }
                let Some(attr) = item.attrs.iter().find(|a| uses.is_strata_schema(a.path())) else {
                    continue;
                };
                let args = match &attr.meta {
                    syn::Meta::List(list) => list.tokens.clone(),
                    _ => proc_macro2::TokenStream::new(),
                };
                match parse_model(args, item) {
                    Ok(model) => found.models.push(ScannedModel {
                        file: file.to_owned(),
                        module: module.clone(),
                        uses: uses.clone(),
                        model,
                    }),
                    Err(errors) => {
                        for error in errors {
                            found.errors.push(model_error(file, &error));
                        }
                    }
                }
            }
            syn::Item::Enum(item) => {
                let Some(attr) = item.attrs.iter().find(|a| uses.is_strata_schema(a.path())) else {
                    continue;
                };
                let args = match &attr.meta {
                    syn::Meta::List(list) => list.tokens.clone(),
                    _ => proc_macro2::TokenStream::new(),
                };
                match crate::parse_enum(args, item) {
                    Ok(model) => found.enums.push(ScannedEnum {
                        file: file.to_owned(),
                        module: module.clone(),
                        model,
                    }),
                    Err(errors) => {
                        for error in errors {
                            found.errors.push(model_error(file, &error));
                        }
                    }
                }
            }
            syn::Item::Mod(inner) => {
                if let Some((_, items)) = &inner.content {
                    let mut module = module.clone();
                    module.push(crate::parse::unraw_ident(&inner.ident));
                    visit_items(file, module, items, found);
                }
            }
            _ => {}
        }
    }
}

pub(crate) fn model_error(file: &Path, error: &syn::Error) -> ModelError {
    let start = error.span().start();
    ModelError {
        file: file.to_owned(),
        line: start.line,
        column: start.column + 1,
        message: error.to_string(),
    }
}
