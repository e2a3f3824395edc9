use super::*;
use serde_json::json;

const KEY: &str = "6f1c2a4e-1111-4222-8333-444455556666";

fn check_json(config: serde_json::Value, concurrent: bool) -> Result<CheckedConfig, MirrordError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("verifier.json");
    std::fs::write(&path, config.to_string()).unwrap();
    check(
        &path,
        KEY,
        "x-verifier-run",
        CheckFor {
            concurrent,
            kafka: false,
        },
    )
}

fn check_kafka(config: serde_json::Value) -> Result<CheckedConfig, MirrordError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("consumer.json");
    std::fs::write(&path, config.to_string()).unwrap();
    let wanted = CheckFor {
        concurrent: false,
        kafka: true,
    };
    check(&path, KEY, "x-verifier-run", wanted)
}

fn steal(filter: serde_json::Value) -> serde_json::Value {
    json!({ "target": { "path": "deployment/checkout" }, "feature": { "network": { "incoming": { "mode": "steal", "ports": [8080], "http_filter": filter } } } })
}

#[test]
fn the_recommended_config_passes() {
    let ok = check_json(
        steal(json!({ "header_filter": "^x-verifier-run: {{ key }}$" })),
        false,
    )
    .unwrap();
    assert!(ok.steal && !ok.operator);
}

#[test]
fn unsafe_configs_are_refused_with_the_fix() {
    let cases = [
        (
            json!({ "feature": { "network": { "incoming": "steal" } } }),
            "without an http_filter",
        ),
        (
            json!({ "feature": { "network": { "incoming": { "mode": "mirror" } } } }),
            "incoming mode is 'mirror'",
        ),
        (
            steal(json!({ "header_filter": "x-verifier-run" })),
            "also matches 'x-verifier-run: 00000000",
        ),
        (
            steal(json!({ "header_filter": "^x-verifier-run: .*$" })),
            "also matches",
        ),
        (
            steal(json!({ "header_filter": "^x-verifier-run: other$" })),
            "does not match this run's tag",
        ),
        (
            steal(json!({ "path_filter": "/checkout" })),
            "no header filter",
        ),
        (
            steal(
                json!({ "any_of": [{ "header": "^x-verifier-run: {{ key }}$" }, { "path": "/" }] }),
            ),
            "any_of has a part",
        ),
        (
            steal(json!({ "header_filter": "^x-verifier-run: {{ key }}$", "ports": [9090] })),
            "unfiltered",
        ),
        (
            steal(json!({ "header_filter": "^x-verifier-run: {{ nope }}$" })),
            "unsupported template",
        ),
    ];
    for (config, expected) in cases {
        let error = check_json(config.clone(), false).unwrap_err().to_string();
        assert!(
            error.contains(expected),
            "expected '{expected}' in '{error}' for {config}"
        );
        // Every refusal of a config that parses shows a corrected config, and that one passes.
        if expected == "unsupported template" {
            continue;
        }
        let corrected = error
            .split_once("corrected config:\n")
            .unwrap_or_else(|| panic!("no corrected config in '{error}'"))
            .1;
        let fixed: serde_json::Value = serde_json::from_str(corrected).unwrap();
        assert!(
            check_json(fixed.clone(), false).is_ok(),
            "the correction of {config} is refused too: {fixed}"
        );
    }
}

#[test]
fn the_recipe_runs_with_incoming_ports_and_toml_and_yaml_are_read() {
    // MetalBear's recipe, verbatim: filtered ports, every port stolen.
    let recipe = json!({"feature":{"network":{"incoming":{"mode":"steal","http_filter":{"header_filter":"^X-Verifier-Run: {{ key }}$","ports":[8080]}}}}});
    let checked = check_json(recipe, false).unwrap();
    assert!(checked.steal && checked.rewrite.is_some());
    assert_eq!(
        checked.rendered.pointer("/feature/network/incoming/ports"),
        Some(&json!([8080]))
    );
    let dir = tempfile::tempdir().unwrap();
    let wanted = CheckFor::default();
    let toml = dir.path().join("v.toml");
    std::fs::write(&toml, "[feature.network.incoming]\nmode = \"steal\"\nports = [8080]\n[feature.network.incoming.http_filter]\nheader_filter = \"^x-verifier-run: {{ key }}$\"\n").unwrap();
    let toml = check(&toml, KEY, "x-verifier-run", wanted).unwrap();
    assert!(toml.steal && toml.rewrite.is_none());
    let yaml = dir.path().join("v.yaml");
    std::fs::write(&yaml, "feature:\n  network:\n    incoming: steal\n").unwrap();
    let refused = check(&yaml, KEY, "x-verifier-run", wanted)
        .unwrap_err()
        .to_string();
    assert!(refused.contains("without an http_filter"), "{refused}");
    let ini = dir.path().join("v.ini");
    std::fs::write(&ini, "x").unwrap();
    let refused = check(&ini, KEY, "x-verifier-run", wanted)
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains(".json, .toml, .yaml and .yml"),
        "{refused}"
    );
}

#[test]
fn concurrency_and_queue_splitting_need_the_operator() {
    let filter = json!({ "header_filter": "^x-verifier-run: {{ key }}$" });
    assert!(
        check_json(steal(filter.clone()), true)
            .unwrap_err()
            .to_string()
            .contains("operator")
    );
    let mut with_operator = steal(filter.clone());
    with_operator["operator"] = json!(true);
    assert!(check_json(with_operator, true).unwrap().operator);
    let mut split = steal(filter);
    split["feature"]["split_queues"] = json!({ "orders": { "queue_type": "Kafka" } });
    assert!(
        check_json(split, false)
            .unwrap_err()
            .to_string()
            .contains("split_queues needs the mirrord operator")
    );
}

#[test]
fn queue_splitting_needs_a_message_filter_on_this_key() {
    let filter = json!({ "header_filter": "^x-verifier-run: {{ key }}$" });
    let with_queues = |queues: serde_json::Value| {
        let mut config = steal(filter.clone());
        config["operator"] = json!(true);
        config["feature"]["split_queues"] = queues;
        check_json(config, false)
    };
    let unfiltered = with_queues(json!({ "orders": { "queue_type": "Kafka" } }));
    let error = unfiltered.unwrap_err().to_string();
    assert!(
        error.contains("refused") && error.contains("no message_filter"),
        "{error}"
    );
    let loose = with_queues(
        json!({ "orders": { "queue_type": "Kafka", "message_filter": { "x-verifier-run": ".+" } } }),
    );
    assert!(loose.unwrap_err().to_string().contains("also matches"));
    let keyed = with_queues(
        json!({ "orders": { "queue_type": "Kafka", "message_filter": { "x-verifier-run": "^{{ key }}$" } } }),
    );
    assert!(keyed.unwrap().operator);
}

#[test]
fn all_of_is_as_safe_as_its_header_part() {
    let filter =
        json!({ "all_of": [{ "header": "^x-verifier-run: {{ key }}$" }, { "path": "/checkout" }] });
    assert!(check_json(steal(filter), false).is_ok());
}

#[test]
fn templates_render_key_and_environment() {
    // SAFETY: set in a test before any thread reads it.
    unsafe { std::env::set_var("FIXPROOF_TEST_TARGET", "deployment/x") };
    let text = "{{ key }} {{get_env(name=\"FIXPROOF_TEST_TARGET\", default=\"pod/y\")}} {{ get_env(name='NOPE_NOT_SET', default='z') }}";
    assert_eq!(render(text, "k").unwrap(), "k deployment/x z");
    assert!(render("{{ get_env(name='NOPE_NOT_SET') }}", "k").is_err());
}

#[test]
fn exec_arguments_put_the_command_after_a_double_dash() {
    let options = MirrordOptions {
        bin: "mirrord".into(),
        config: "v.json".into(),
        target: Some("deploy/checkout".into()),
        namespace: Some("shop".into()),
    };
    let args = exec_args(
        &options,
        Path::new("v.json"),
        "k1",
        &["./run.sh".into(), "--port".into(), "8080".into()],
    );
    assert_eq!(
        args,
        [
            "exec",
            "--config-file",
            "v.json",
            "--key",
            "k1",
            "--target",
            "deploy/checkout",
            "--target-namespace",
            "shop",
            "--",
            "./run.sh",
            "--port",
            "8080"
        ]
    );
}

#[test]
fn a_kafka_scenario_needs_split_queues_and_no_unfiltered_incoming() {
    let queues = json!({ "orders": { "queue_type": "Kafka", "message_filter": { "x-verifier-run": "^{{ key }}$" } } });
    let consumer = |incoming: serde_json::Value, queues: Option<&serde_json::Value>| {
        let mut config = json!({ "operator": true, "target": "deployment/billing",
                                 "feature": { "network": { "incoming": incoming } } });
        if let Some(q) = queues {
            config["feature"]["split_queues"] = q.clone();
        }
        check_kafka(config)
    };
    let off = consumer(json!("off"), Some(&queues)).unwrap();
    assert!(off.operator && !off.steal);
    let no_split = consumer(json!("off"), None).unwrap_err().to_string();
    assert!(
        no_split.contains("needs feature.split_queues") && no_split.contains("^{{ key }}$"),
        "{no_split}"
    );
    let mirror = consumer(json!({ "mode": "mirror" }), Some(&queues))
        .unwrap_err()
        .to_string();
    assert!(mirror.contains("\"incoming\": \"off\""), "{mirror}");
    let stolen = consumer(
        json!({ "mode": "steal", "http_filter": { "header_filter": "^x-verifier-run: {{ key }}$" } }),
        Some(&queues),
    );
    assert!(stolen.unwrap().steal);
    let loose = json!({ "orders": { "queue_type": "Kafka", "message_filter": { "x-verifier-run": ".*" } } });
    let refused = consumer(json!("off"), Some(&loose))
        .unwrap_err()
        .to_string();
    // The corrected config of a queue refusal passes.
    let fixed: serde_json::Value =
        serde_json::from_str(refused.split_once("corrected config:\n").unwrap().1).unwrap();
    assert!(check_kafka(fixed).is_ok(), "{refused}");
    let fixed: serde_json::Value =
        serde_json::from_str(no_split.split_once("corrected config:\n").unwrap().1).unwrap();
    assert!(check_kafka(fixed).is_ok(), "{no_split}");
}
