//! The published schemas: `schemas/` is what the types generate, and every file of the
//! project that they describe validates against them — the golden verdicts, the test
//! artifacts, the demo's bundled scenarios, `scenarios/`, and README's examples.

use crate::fixtures::{Shape, artifact, kafka_pair, lag_only};
use fixproof::orchestrate::Event;
use fixproof::schema::Document;
use fixproof::verdict::Decision;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn validator(document: Document) -> jsonschema::Validator {
    jsonschema::validator_for(&document.schema()).unwrap()
}

fn assert_valid(validator: &jsonschema::Validator, what: &str, instance: &Value) {
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{what}: {}", errors.join("; "));
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

#[test]
fn the_committed_schemas_are_the_generated_ones() {
    for document in Document::ALL {
        let path = root().join("schemas").join(document.file_name());
        let generated = document.to_pretty();
        if std::env::var_os("FIXPROOF_BLESS").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "{} differs from what the types generate: rerun with FIXPROOF_BLESS=1 (and bump schema_version if the change breaks readers)",
            path.display()
        );
        let schema: Value = serde_json::from_str(&committed).unwrap();
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
    }
}

#[test]
fn golden_verdicts_and_test_artifacts_validate() {
    let verdicts = validator(Document::Verdict);
    for path in json_files(&root().join("tests/it/golden")) {
        let value: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_valid(&verdicts, &path.display().to_string(), &value);
    }
    let artifacts = validator(Document::Artifact);
    let (baseline, candidate) = kafka_pair();
    let shapes = [
        artifact(&Shape::new("baseline", 1)),
        artifact(&Shape::new("candidate", 2).tail(0.02, 340_000.0)),
        lag_only(baseline.clone()),
        baseline,
        candidate,
    ];
    for (i, a) in shapes.iter().enumerate() {
        assert_valid(
            &artifacts,
            &format!("test artifact {i}"),
            &serde_json::to_value(a).unwrap(),
        );
    }
    for path in json_files(&root().join("examples/data")) {
        let value: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_valid(&artifacts, &path.display().to_string(), &value);
    }
    // A non-finite number is written as null, and the schema allows it.
    let mut broken = serde_json::to_value(&shapes[0]).unwrap();
    broken["plan"]["duration_s"] = Value::Null;
    assert_valid(&artifacts, "a null number", &broken);
    broken["plan"]["duration_s"] = "ten".into();
    assert!(!artifacts.is_valid(&broken), "a string is not a number");
}

#[test]
fn scenarios_of_the_demo_scenarios_folder_and_readme_validate() {
    let scenarios = validator(Document::Scenario);
    for case in fixproof::demo::bundle::CASES {
        let value: Value = serde_json::from_str(case.scenario).unwrap();
        assert_valid(&scenarios, case.name, &value);
    }
    for path in json_files(&root().join("scenarios")) {
        let value: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        if value.get("feature").is_some() {
            continue; // a mirrord config: checked in `scenarios`
        }
        assert_valid(&scenarios, &path.display().to_string(), &value);
    }
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let mut checked = 0;
    for block in readme.split("```json").skip(1) {
        let text = block.split("```").next().unwrap();
        let Ok(value) = serde_json::from_str::<Value>(text) else {
            continue; // JSON lines or an excerpt
        };
        if value.get("load").is_some() {
            assert_valid(&scenarios, "a README scenario", &value);
            fixproof::Scenario::from_slice(text.as_bytes(), Path::new("README.md")).unwrap();
            checked += 1;
        }
    }
    assert!(checked >= 2, "README's scenario examples were found");
}

#[test]
fn progress_events_validate() {
    let events = validator(Document::Events);
    let samples = [
        Event::Ready {
            arm: "baseline".into(),
            url: "http://127.0.0.1:8080".into(),
            key: "k".into(),
            after_s: 0.4,
        },
        Event::Decided {
            arm: "fix".into(),
            decision: Decision::Pass,
            summary: "Pass.".into(),
        },
        Event::Measured {
            arm: "fix".into(),
            requests: 500,
            rate_per_s: 20.0,
            p99_ms: f64::NAN,
            errors: 0,
            status_5xx: 0,
            problems: Vec::new(),
        },
    ];
    for event in &samples {
        assert_valid(&events, "an event", &serde_json::to_value(event).unwrap());
    }
}

#[test]
fn the_example_scenarios_load_and_the_example_mirrord_configs_pass_the_check() {
    use fixproof::orchestrate::mirrord::{CheckFor, check};
    let mut seen = (0, 0);
    for path in json_files(&root().join("scenarios")) {
        let text = std::fs::read_to_string(&path).unwrap();
        if text.contains("\"feature\"") {
            let kafka = text.contains("split_queues");
            let wanted = CheckFor {
                concurrent: false,
                kafka,
            };
            let key = "6f1c2a4e-1111-4222-8333-444455556666";
            let checked = check(&path, key, "x-verifier-run", wanted)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(
                checked.rewrite.is_none(),
                "{}: safe as written",
                path.display()
            );
            seen.1 += 1;
        } else {
            fixproof::Scenario::from_file(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            seen.0 += 1;
        }
    }
    assert_eq!(seen, (4, 2), "four scenarios, two mirrord configs");
}
