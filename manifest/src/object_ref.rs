//! An object a `sql_dir` statement names by kind and name, as `COMMENT ON`
//! and `GRANT … ON` do: `FUNCTION app.f(integer)`, `INDEX app.orders_total`.
//! Comments and privileges both hang on one, so that naming, finding and
//! recognising the object being made again is written once.

use serde::{Deserialize, Serialize};

use crate::kinds::domain::DomainChange;
use crate::kinds::enum_type::EnumChange;
use crate::kinds::index::IndexChange;
use crate::kinds::routine::RoutineChange;
use crate::kinds::sequence::SequenceChange;
use crate::kinds::view::ViewChange;
use crate::kinds::{q, Change};
use crate::sql_object::{Cursor, RoutineKind};
use crate::{QualifiedName, SchemaState};

/// The kinds of object a statement may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectRefKind {
    /// A function.
    Function,
    /// A procedure.
    Procedure,
    /// A view.
    View,
    /// A materialized view.
    MaterializedView,
    /// An index.
    Index,
    /// A sequence.
    Sequence,
    /// A type: an enum or a domain.
    Type,
}

impl ObjectRefKind {
    /// Its words in `COMMENT ON` or `GRANT … ON`: `MATERIALIZED VIEW`.
    pub fn keyword(self) -> &'static str {
        match self {
            ObjectRefKind::Function => "FUNCTION",
            ObjectRefKind::Procedure => "PROCEDURE",
            ObjectRefKind::View => "VIEW",
            ObjectRefKind::MaterializedView => "MATERIALIZED VIEW",
            ObjectRefKind::Index => "INDEX",
            ObjectRefKind::Sequence => "SEQUENCE",
            ObjectRefKind::Type => "TYPE",
        }
    }

    fn routine(self) -> Option<RoutineKind> {
        match self {
            ObjectRefKind::Function => Some(RoutineKind::Function),
            ObjectRefKind::Procedure => Some(RoutineKind::Procedure),
            _ => None,
        }
    }
}

/// An object named by kind, schema, name and (a function's or procedure's)
/// argument types.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ObjectRef {
    /// Its kind.
    pub kind: ObjectRefKind,
    /// Its schema.
    pub schema: String,
    /// Its name.
    pub name: String,
    /// A function's or procedure's input argument types, as
    /// [`crate::Routine::args`] spells them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub args: Option<String>,
}

impl ObjectRef {
    /// Reads the name of an object of `kind` (after its kind's words) from
    /// `at`, for a statement that begins with `verb` (`COMMENT ON`), or says
    /// what is missing.
    pub(crate) fn read(
        kind: ObjectRefKind,
        at: &mut Cursor<'_, '_>,
        verb: &str,
    ) -> Result<ObjectRef, String> {
        let keyword = kind.keyword();
        let Some((schema, name, _)) = at.name() else {
            return Err(format!("`{verb} {keyword}` must be followed by the name"));
        };
        let Some(schema) = schema else {
            return Err(format!(
                "name the schema: `{verb} {keyword} app.{name} …`, so that it is the object strata manages whatever the search_path"
            ));
        };
        let args = match kind.routine() {
            Some(routine) => {
                let Some(tokens) = at.parenthesised() else {
                    return Err(format!(
                        "{} {schema}.{name} needs its argument types in parentheses, as in its `CREATE`: `{verb} {keyword} {schema}.{name}(…) …`",
                        keyword.to_lowercase()
                    ));
                };
                Some(crate::sql_object::identity(tokens, routine))
            }
            None => None,
        };
        Ok(ObjectRef {
            kind,
            schema,
            name,
            args,
        })
    }

    /// `FUNCTION "app"."f"(integer)`: the object, as `COMMENT ON` and
    /// `GRANT … ON` name it.
    pub fn target(&self) -> String {
        let name = q(&QualifiedName::new(&self.schema, &self.name));
        match &self.args {
            Some(args) => format!("{} {name}({args})", self.kind.keyword()),
            None => format!("{} {name}", self.kind.keyword()),
        }
    }

    /// True when `state` holds the object.
    pub fn exists_in(&self, state: &SchemaState) -> bool {
        let here = |schema: &str, name: &str| schema == self.schema && name == self.name;
        match self.kind {
            ObjectRefKind::Function | ObjectRefKind::Procedure => state.routines.iter().any(|r| {
                here(&r.schema, &r.name)
                    && Some(&r.args) == self.args.as_ref()
                    && r.procedure == (self.kind == ObjectRefKind::Procedure)
            }),
            ObjectRefKind::View | ObjectRefKind::MaterializedView => state.views.iter().any(|v| {
                here(&v.schema, &v.name)
                    && v.materialized == (self.kind == ObjectRefKind::MaterializedView)
            }),
            ObjectRefKind::Index => {
                state
                    .tables
                    .iter()
                    .filter(|t| t.schema == self.schema)
                    .any(|t| t.indexes.iter().any(|i| i.name == self.name))
                    || state
                        .views
                        .iter()
                        .filter(|v| v.schema == self.schema)
                        .any(|v| v.indexes.iter().any(|i| i.name == self.name))
            }
            ObjectRefKind::Sequence => state.sequences.iter().any(|s| here(&s.schema, &s.name)),
            ObjectRefKind::Type => {
                state.enums.iter().any(|e| here(&e.schema, &e.name))
                    || state.domains.iter().any(|d| here(&d.schema, &d.name))
            }
        }
    }

    /// True when `change` makes the object, so that what hangs on it (a
    /// comment, privileges) must be set after, whether or not the state
    /// before had it: an object dropped and made again loses both.
    pub(crate) fn made_by(&self, change: &Change) -> bool {
        let here = |schema: &str, name: &str| schema == self.schema && name == self.name;
        match (self.kind, change) {
            (
                ObjectRefKind::Function | ObjectRefKind::Procedure,
                Change::Routine(RoutineChange::CreateRoutine { routine, .. }),
            ) => here(&routine.schema, &routine.name) && Some(&routine.args) == self.args.as_ref(),
            (
                ObjectRefKind::View | ObjectRefKind::MaterializedView,
                Change::View(ViewChange::CreateModelView { view }),
            ) => here(&view.schema, &view.name),
            (
                ObjectRefKind::Index,
                Change::Index(IndexChange::CreateIndex { table, index, .. }),
            ) => here(&table.schema, &index.name),
            (ObjectRefKind::Index, Change::View(ViewChange::CreateModelView { view })) => {
                view.schema == self.schema && view.indexes.iter().any(|i| i.name == self.name)
            }
            (
                ObjectRefKind::Sequence,
                Change::Sequence(SequenceChange::CreateSequence { sequence }),
            ) => here(&sequence.schema, &sequence.name),
            (ObjectRefKind::Type, Change::Enum(EnumChange::CreateEnum { ty })) => {
                here(&ty.schema, &ty.name)
            }
            (ObjectRefKind::Type, Change::Enum(EnumChange::RebuildEnum { to, .. })) => {
                here(&to.schema, &to.name)
            }
            (ObjectRefKind::Type, Change::Domain(DomainChange::CreateDomain { domain })) => {
                here(&domain.schema, &domain.name)
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}.{}",
            self.kind.keyword().to_lowercase(),
            self.schema,
            self.name
        )?;
        if let Some(args) = &self.args {
            write!(f, "({args})")?;
        }
        Ok(())
    }
}
