use super::*;
use serde_json::json;

fn parse(value: serde_json::Value) -> Result<Scenario, ScenarioError> {
    Scenario::from_slice(&serde_json::to_vec(&value).unwrap(), Path::new("s.json"))
}

fn error(value: serde_json::Value) -> String {
    parse(value).unwrap_err().to_string()
}

#[test]
fn the_design_example_parses() {
    let s = parse(json!({
        "name": "checkout-p99",
        "target": "http://checkout.shop.svc.cluster.local:8080",
        "http": { "version": "auto", "timeout": "2s", "max_in_flight": 512, "insecure_tls": false },
        "load": { "arrival": "constant", "rate": "200/s", "duration": "60s", "warmup": "10s", "seed": 7 },
        "requests": [
            { "name": "cart", "weight": 7, "method": "GET", "path": "/cart/{{random_int(1,5000)}}",
              "headers": { "accept": "application/json" } },
            { "name": "checkout", "weight": 3, "method": "POST", "path": "/checkout",
              "headers": { "content-type": "application/json" },
              "body": { "json": { "cart": "{{seq}}", "address": null } } }
        ],
        "slo": ["p99 < 300ms"],
        "guards": ["error_rate <= baseline + 1pp", "p50 <= baseline + 10%"]
    }))
    .unwrap();
    assert_eq!(s.name, "checkout-p99");
    assert_eq!(
        s.load.arrival,
        Arrival::Constant(Rate::per_second(200.0).unwrap())
    );
    assert_eq!(
        (
            s.load.duration.as_secs(),
            s.load.warmup.as_secs(),
            s.load.seed
        ),
        (60, 10, 7)
    );
    assert_eq!(s.requests.len(), 2);
    assert!(matches!(s.requests[1].body, Body::Template(_)));
    assert_eq!(s.slo, vec!["p99 < 300ms"]);
    assert_eq!(s.sha256.len(), 64);
}

#[test]
fn every_arrival_parses() {
    let base = |arrival: serde_json::Value| json!({ "load": { "arrival": arrival, "rate": 10 }, "requests": [{ "path": "/" }] });
    assert!(matches!(
        parse(base(json!("poisson"))).unwrap().load.arrival,
        Arrival::Poisson(_)
    ));
    let ramp = parse(base(json!({ "ramp": { "from": "50/s", "to": "500/s" } }))).unwrap();
    assert!(matches!(ramp.load.arrival, Arrival::Ramp { .. }));
    let steps = parse(base(
        json!({ "steps": [{ "rate": "100/s", "for": "20s" }, { "rate": "5/s", "for": "10s" }] }),
    ))
    .unwrap();
    assert_eq!(steps.load.duration.as_secs(), 30, "steps set the duration");
    let replay = parse(json!({
        "load": { "speed": 2.0 },
        "replay": [{ "offset": "0s", "path": "/a" }, { "offset": 1.5, "path": "/b", "method": "post", "body": { "base64": "aGk=" } }]
    }))
    .unwrap();
    assert!(matches!(replay.load.arrival, Arrival::Recorded { speed, .. } if speed == 2.0));
    assert!(matches!(&replay.requests[1].body, Body::Static(b) if b.as_ref() == b"hi"));
    assert_eq!(replay.requests[1].method, http::Method::POST);
}

#[test]
fn errors_name_the_json_path_and_the_fix() {
    let cases = [
        (json!({ "requests": [] }), "requests: no requests"),
        (
            json!({ "requests": [{ "path": "x" }] }),
            "requests[0].path: must start with '/'",
        ),
        (
            json!({ "requests": [{ "path": "/", "method": "GE T" }] }),
            "requests[0].method",
        ),
        (
            json!({ "requests": [{ "path": "/", "weight": 0 }] }),
            "requests[0].weight: must be at least 1",
        ),
        (
            json!({ "requests": [{ "path": "/", "headers": { "bad header": "x" } }] }),
            "requests[0].headers.bad header",
        ),
        (
            json!({ "requests": [{ "path": "/", "body": { "text": "a", "base64": "YQ==" } }] }),
            "exactly one of",
        ),
        (
            json!({ "requests": [{ "path": "/", "body": { "base64": "***" } }] }),
            "requests[0].body.base64: not valid base64",
        ),
        (
            json!({ "requests": [{ "path": "/", "body": { "file": "missing.bin" } }] }),
            "relative to the scenario file",
        ),
        (
            json!({ "http": { "timeout": "0s" }, "requests": [{ "path": "/" }] }),
            "http.timeout: must be positive",
        ),
        (
            json!({ "http": { "version": "3" }, "requests": [{ "path": "/" }] }),
            "http.version: unknown HTTP version '3'",
        ),
        (
            json!({ "http": { "max_in_flight": 0 }, "requests": [{ "path": "/" }] }),
            "http.max_in_flight",
        ),
        (
            json!({ "load": { "rate": "0/s" }, "requests": [{ "path": "/" }] }),
            "load.rate: rate must be positive, got 0/s",
        ),
        (
            json!({ "load": { "duration": "0s" }, "requests": [{ "path": "/" }] }),
            "load.duration: must be positive",
        ),
        (
            json!({ "load": { "arrival": { "ramp": { "from": "1/s" } } }, "requests": [{ "path": "/" }] }),
            "load.arrival.ramp.to: missing",
        ),
        (
            json!({ "load": { "arrival": { "steps": [{ "rate": "1/s" }] } }, "requests": [{ "path": "/" }] }),
            "load.arrival.steps[0].for: missing",
        ),
        (
            json!({ "load": { "arrival": "recorded" }, "requests": [{ "path": "/" }] }),
            "non-empty \"replay\"",
        ),
        (
            json!({ "replay": [{ "path": "/" }] }),
            "replay[0].offset: missing",
        ),
        (
            json!({ "target": "checkout:8080", "requests": [{ "path": "/" }] }),
            "target: ",
        ),
        (
            json!({ "requests": [{ "path": "/", "wieght": 2 }] }),
            "unknown field `wieght`",
        ),
        (
            json!({ "load": { "seed": "x" }, "requests": [{ "path": "/" }] }),
            "load.seed",
        ),
    ];
    for (value, expected) in cases {
        let message = error(value.clone());
        assert!(message.starts_with("s.json: "), "{message}");
        assert!(
            message.contains(expected),
            "expected '{expected}' in '{message}' for {value}"
        );
    }
}

#[test]
fn a_byte_order_mark_is_accepted_and_syntax_errors_give_line_and_column() {
    let mut bytes = "\u{feff}".as_bytes().to_vec();
    bytes.extend_from_slice(br#"{"requests": [{"path": "/"}]}"#);
    assert!(Scenario::from_slice(&bytes, Path::new("bom.json")).is_ok());
    let message = Scenario::from_slice(b"{\n \"requests\": [\n", Path::new("t.json"))
        .unwrap_err()
        .to_string();
    assert!(message.starts_with("t.json: line 3, column 0"), "{message}");
}

#[test]
fn overrides_replace_scenario_values_and_refuse_what_does_not_fit() {
    let mut s = parse(json!({ "load": { "arrival": { "ramp": { "from": 1, "to": 2 } } }, "requests": [{ "path": "/" }] })).unwrap();
    let rate = Overrides {
        rate: Some(Rate::per_second(5.0).unwrap()),
        ..Overrides::default()
    };
    assert!(
        s.apply(&rate)
            .unwrap_err()
            .to_string()
            .starts_with("--rate: the scenario's arrival is 'ramp'")
    );
    let mut s = parse(json!({ "requests": [{ "path": "/" }] })).unwrap();
    assert!(s.require_target().is_err());
    let o = Overrides {
        target: Some(Target::parse("http://127.0.0.1:9").unwrap()),
        rate: Some(Rate::per_second(5.0).unwrap()),
        poisson: true,
        seed: Some(3),
        ..Overrides::default()
    };
    s.apply(&o).unwrap();
    assert_eq!(
        s.load.arrival,
        Arrival::Poisson(Rate::per_second(5.0).unwrap())
    );
    assert_eq!(s.load.seed, 3);
    assert!(s.require_target().is_ok());
}

#[test]
fn sensitive_headers_are_recognised() {
    for name in [
        "Authorization",
        "cookie",
        "X-Api-Key",
        "x-auth-token",
        "client_secret",
    ] {
        assert!(is_sensitive_header(name), "{name}");
    }
    assert!(!is_sensitive_header("accept"));
}

#[test]
fn kafka_scenarios_parse_and_refuse_what_does_not_fit() {
    let s = parse(json!({
        "kind": "kafka",
        "kafka": { "topic": "orders", "lag_interval": "250ms", "steady_after": "3s",
                   "messages": [{ "key": "o-{{seq}}", "value": "{{seq}}", "weight": 2,
                                  "headers": { "x-tenant": "t{{random_int(1,3)}}" } }] },
        "load": { "rate": "100/s", "duration": "10s" },
    }))
    .unwrap();
    let k = s.kafka.unwrap();
    assert!(s.requests.is_empty());
    assert_eq!(
        (k.arm_topic("baseline"), k.arm_group("candidate-1")),
        ("orders-baseline".into(), "fixproof-candidate-1".into())
    );
    assert_eq!(
        (k.messages[0].weight, k.lag_interval),
        (2, std::time::Duration::from_millis(250))
    );
    assert_eq!(k.steady_after, Some(std::time::Duration::from_secs(3)));
    let msg = |v: serde_json::Value| error(v);
    assert!(msg(json!({"kind": "kafka"})).contains("needs a \"kafka\" object"));
    assert!(msg(json!({"kind": "kafka", "kafka": {}})).contains("no messages"));
    assert!(msg(json!({"kind": "amqp"})).contains("unknown kind 'amqp'"));
    assert!(
        msg(json!({"kafka": {"messages": [{"value": "x"}]}})).contains("needs \"kind\": \"kafka\"")
    );
    assert!(
        msg(json!({"kind": "kafka", "kafka": {"messages": [{"value": "{{nope}}"}]}}))
            .contains("kafka.messages[0].value")
    );
    assert!(
        msg(
            json!({"kind": "kafka", "target": "http://x", "kafka": {"messages": [{"value": "x"}]}})
        )
        .contains("not requests")
    );
}

#[test]
fn kafka_client_settings_take_values_and_references_and_nothing_else() {
    use super::SettingValue;
    let s = parse(json!({
        "kind": "kafka",
        "kafka": { "messages": [{ "value": "x" }],
                   "config": { "security.protocol": "SASL_SSL", "linger.ms": 5,
                               "enable.idempotence": true,
                               "sasl.password": { "env": "KAFKA_PASSWORD" },
                               "ssl.ca.pem": { "file": "ca.pem" } } },
    }))
    .unwrap();
    let config = s.kafka.unwrap().config;
    let get = |key: &str| {
        config
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(
        get("security.protocol"),
        Some(SettingValue::Text("SASL_SSL".into()))
    );
    assert_eq!(get("linger.ms"), Some(SettingValue::Text("5".into())));
    assert_eq!(
        get("enable.idempotence"),
        Some(SettingValue::Text("true".into()))
    );
    assert_eq!(
        get("sasl.password"),
        Some(SettingValue::Env("KAFKA_PASSWORD".into()))
    );
    assert_eq!(get("ssl.ca.pem"), Some(SettingValue::File("ca.pem".into())));
    // A value's Debug never shows it: it may be a secret.
    assert_eq!(
        format!("{:?}", SettingValue::Text("hunter2".into())),
        "Text(..)"
    );
    for bad in [
        json!(["a"]),
        json!(null),
        json!({"vault": "x"}),
        json!({"env": 1}),
    ] {
        let m = error(json!({"kind": "kafka",
                             "kafka": { "messages": [{ "value": "x" }], "config": { "sasl.password": bad } }}));
        assert!(
            m.contains("kafka.config.sasl.password") && m.contains("{\"env\""),
            "{m}"
        );
    }
}
