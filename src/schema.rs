//! The published JSON Schemas (2020-12) of fixproof's files, generated from the Rust types
//! that read and write them: the scenario file, the run artifact, the outcome (every
//! verdict kind) and the progress events. `schemas/` holds them, `fixproof schema` prints
//! them, and a test checks that both agree and that every example validates.
//!
//! Non-finite numbers (an infinite drain time, say) serialise as `null`, so every number in
//! the schemas also allows `null`. A change that breaks a schema bumps `schema_version`.

use schemars::generate::SchemaSettings;
use schemars::transform::RecursiveTransform;
use schemars::{JsonSchema, Schema};
use serde_json::Value;

/// A published schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Document {
    /// A scenario file.
    Scenario,
    /// A run artifact (`schema_version` 1).
    Artifact,
    /// An outcome: a verdict, a ranking or repro verdicts, tagged by `kind`.
    Verdict,
    /// One progress event of a verification, tagged by `event`.
    Events,
    /// What a `verify --propose` proposer reads on stdin.
    ProposerInput,
}

impl Document {
    /// Every published schema.
    pub const ALL: [Document; 5] = [
        Document::Scenario,
        Document::Artifact,
        Document::Verdict,
        Document::Events,
        Document::ProposerInput,
    ];

    /// Its name: `scenario`, `artifact`, `verdict`, `events`.
    pub fn name(self) -> &'static str {
        match self {
            Document::Scenario => "scenario",
            Document::Artifact => "artifact",
            Document::Verdict => "verdict",
            Document::Events => "events",
            Document::ProposerInput => "proposer-input",
        }
    }

    /// The one of that name.
    pub fn named(name: &str) -> Option<Document> {
        Document::ALL.into_iter().find(|d| d.name() == name)
    }

    /// Its file in `schemas/`.
    pub fn file_name(self) -> String {
        format!("{}.schema.json", self.name())
    }

    /// The schema, as JSON.
    pub fn schema(self) -> Value {
        let mut schema = match self {
            Document::Scenario => generate::<crate::scenario::raw::RawScenario>(),
            Document::Artifact => generate::<crate::load::RunArtifact>(),
            Document::Verdict => generate::<crate::verdict::Outcome>(),
            Document::Events => generate::<crate::orchestrate::Event>(),
            Document::ProposerInput => generate::<crate::orchestrate::proposal::ProposerInput>(),
        };
        let title = match self {
            Document::Scenario => "fixproof scenario",
            Document::Artifact => "fixproof run artifact",
            Document::Verdict => "fixproof outcome",
            Document::Events => "fixproof progress event",
            Document::ProposerInput => "fixproof proposer input",
        };
        schema.insert("title".into(), title.into());
        schema.insert(
            "$id".into(),
            format!("urn:fixproof:schema:{}", self.name()).into(),
        );
        schema.to_value()
    }

    /// The schema as the pretty JSON of its file, ending in a newline.
    pub fn to_pretty(self) -> String {
        serde_json::to_string_pretty(&self.schema()).expect("a schema serializes") + "\n"
    }
}

pub(crate) fn generate<T: JsonSchema>() -> Schema {
    SchemaSettings::draft2020_12()
        .with_transform(RecursiveTransform(allow_null_numbers))
        .into_generator()
        .into_root_schema_for::<T>()
}

/// `"type": "number"` becomes `["number", "null"]`: serde writes NaN and ±inf as `null`.
fn allow_null_numbers(schema: &mut Schema) {
    let Some(object) = schema.as_object_mut() else {
        return;
    };
    let number = Value::from("number");
    match object.get_mut("type") {
        Some(t) if *t == number => *t = serde_json::json!(["number", "null"]),
        Some(Value::Array(types))
            if types.contains(&number) && !types.contains(&Value::from("null")) =>
        {
            types.push("null".into());
        }
        _ => {}
    }
}
