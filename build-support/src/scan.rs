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
}

/// A model and the file it is in.
#[derive(Debug, Clone)]
pub struct ScannedModel {
    /// The source file.
    pub file: PathBuf,
    /// The model.
    pub model: Model,
}

/// Reads every `.rs` file below `dir` (in a stable order) and parses each
/// struct that carries `#[schema(…)]` or `#[strata::schema(…)]`.
pub fn scan_models(dir: &Path) -> Result<ScannedModels, Error> {
    let mut found = ScannedModels::default();
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.map_err(|e| {
            let path = e.path().unwrap_or(dir).to_owned();
            Error::Io {
                path,
                source: e.into(),
            }
        })?;
        if entry.file_type().is_file() && entry.path().extension().is_some_and(|e| e == "rs") {
            files.push(entry.into_path());
        }
    }
    for file in &files {
        let text = std::fs::read_to_string(file).map_err(io(file))?;
        match syn::parse_file(&text) {
            Ok(ast) => visit_items(file, &ast.items, &mut found),
            // rustc reports this better than we can; keep it with the model errors,
            // which a build script shows as warnings and leaves to the compiler.
            Err(error) => found.errors.push(model_error(file, &error)),
        }
    }
    found.files = files;
    Ok(found)
}

fn visit_items(file: &Path, items: &[syn::Item], found: &mut ScannedModels) {
    for item in items {
        match item {
            syn::Item::Struct(item) => {
                let Some(attr) = item.attrs.iter().find(|a| is_schema_attr(a.path())) else {
                    continue;
                };
                let args = match &attr.meta {
                    syn::Meta::List(list) => list.tokens.clone(),
                    _ => proc_macro2::TokenStream::new(),
                };
                match parse_model(args, item) {
                    Ok(model) => found.models.push(ScannedModel {
                        file: file.to_owned(),
                        model,
                    }),
                    Err(errors) => {
                        for error in errors {
                            found.errors.push(model_error(file, &error));
                        }
                    }
                }
            }
            syn::Item::Mod(module) => {
                if let Some((_, items)) = &module.content {
                    visit_items(file, items, found);
                }
            }
            _ => {}
        }
    }
}

/// `schema` or `strata::schema`.
fn is_schema_attr(path: &syn::Path) -> bool {
    let names: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    matches!(
        names.iter().map(String::as_str).collect::<Vec<_>>()[..],
        ["schema"] | ["strata", "schema"]
    )
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
