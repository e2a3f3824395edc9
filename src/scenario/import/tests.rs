use super::*;
use crate::scenario::{Arrival, Body};
use serde_json::{Value, json};

const SESSION: &[u8] = include_bytes!("../../../tests/fixtures/har/api-session.har");

fn options(mode: Mode) -> ImportOptions {
    ImportOptions {
        name: "session".into(),
        source: "api-session.har".into(),
        mode,
        drop_headers: vec!["x-verifier-run".into(), "x-verifier-seq".into()],
        ..ImportOptions::default()
    }
}

fn session(options: &ImportOptions) -> Result<Imported, ImportError> {
    let parsed = har::parse(SESSION, "api-session.har").unwrap();
    build(&parsed.records, options)
}

fn document(imported: &Imported) -> Value {
    serde_json::from_slice(&imported.json).unwrap()
}

fn entry<'a>(doc: &'a Value, list: &str, name: &str) -> &'a Value {
    doc[list]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no {list} entry '{name}' in {doc:#}"))
}

#[test]
fn distinct_requests_from_a_browser_session() {
    let imported = session(&options(Mode::Distinct)).unwrap();
    assert_eq!((imported.read, imported.kept), (14, 12));
    let doc = document(&imported);
    let text = String::from_utf8(imported.json.clone()).unwrap();
    assert!(text.starts_with("{\n  \"name\": \"session\",\n  \"description\": "));
    assert_eq!(doc["target"], "https://shop.example.com");
    assert_eq!(
        doc["load"],
        json!({"arrival": "constant", "rate": "4.78/s", "duration": "60s"})
    );
    assert_eq!(
        doc["description"],
        "imported from api-session.har: 12 requests over 2.3s, 12 distinct"
    );
    let cart = entry(&doc, "requests", "GET /api/v1/carts/1042");
    assert_eq!(cart["weight"], 1);
    assert_eq!(cart["path"], "/api/v1/carts/1042");
    assert_eq!(
        cart["headers"]["authorization"],
        "<REDACTED: set authorization>"
    );
    assert!(cart["headers"].get(":authority").is_none());
    assert_eq!(imported.scenario.requests.len(), 12);
    assert_eq!(
        imported.scenario.target.as_ref().unwrap().host,
        "shop.example.com"
    );
}

#[test]
fn bodies_keep_their_form() {
    let doc = document(&session(&options(Mode::Distinct)).unwrap());
    let items = entry(&doc, "requests", "POST /api/v1/carts/1042/items");
    assert_eq!(items["body"], json!({"json": {"sku": "A-7", "qty": 2}}));
    assert_eq!(items["headers"]["content-type"], "application/json");
    assert!(items["headers"].get("content-length").is_none());
    let upload = entry(&doc, "requests", "POST /api/v1/upload");
    assert_eq!(upload["body"], json!({"base64": "iVBORw0KGgr/AP4="}));
    let login = entry(&doc, "requests", "POST /api/v1/login");
    assert_eq!(login["body"], json!({"text": "user=ada&remember=1"}));
    assert_eq!(
        login["headers"]["content-type"],
        "application/x-www-form-urlencoded"
    );
}

#[test]
fn shapes_group_ids_and_weigh_by_count() {
    let imported = session(&options(Mode::Shapes)).unwrap();
    let doc = document(&imported);
    let names: Vec<&str> = doc["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names[..3],
        [
            "GET /api/v1/carts/{id}",
            "GET /api/v1/orders/{uuid}",
            "GET /api/v1/search?page&q"
        ]
    );
    let carts = entry(&doc, "requests", "GET /api/v1/carts/{id}");
    assert_eq!(carts["weight"], 3);
    assert_eq!(carts["path"], "/api/v1/carts/{{random_int(87,1043)}}");
    assert_eq!(carts["headers"]["x-request-id"], "{{uuid}}");
    let search = entry(&doc, "requests", "GET /api/v1/search?page&q");
    assert_eq!(
        search["path"],
        "/api/v1/search?q=boots&page={{random_int(1,3)}}"
    );
    assert_eq!(search["headers"]["x-api-key"], "<REDACTED: set x-api-key>");
    let weights: u32 = imported.scenario.requests.iter().map(|r| r.weight).sum();
    assert_eq!(weights, 12);
}

#[test]
fn replay_keeps_order_and_timing() {
    let imported = session(&options(Mode::Replay)).unwrap();
    let doc = document(&imported);
    assert_eq!(doc["load"], json!({"arrival": "recorded", "speed": 1.0}));
    assert!(doc.get("requests").is_none());
    let replay = doc["replay"].as_array().unwrap();
    let at: Vec<(&str, &str)> = replay
        .iter()
        .map(|r| (r["offset"].as_str().unwrap(), r["path"].as_str().unwrap()))
        .collect();
    assert_eq!(at[0], ("0s", "/"));
    assert_eq!(at[1], ("0.312s", "/api/v1/carts/1042"));
    assert_eq!(at[7], ("1.277s", "/api/v1/search?q=boots&page=3"));
    assert_eq!(at[8], ("1.28s", "/api/v1/search?q=shoes&page=1"));
    assert_eq!(replay[1]["name"], "GET /api/v1/carts/{id}");
    assert_eq!(replay[2]["name"], "GET /api/v1/carts/{id}");
    match &imported.scenario.load.arrival {
        Arrival::Recorded { offsets, speed } => {
            assert_eq!((offsets.len(), *speed), (12, 1.0));
            assert_eq!(offsets[11].as_millis(), 2300);
        }
        other => panic!("arrival {other:?}"),
    }
    assert!(matches!(
        imported.scenario.requests[9].body,
        Body::Static(_)
    ));
}

#[test]
fn secrets_are_redacted_with_warnings_unless_kept() {
    let imported = session(&options(Mode::Distinct)).unwrap();
    let warnings = imported.warnings.join("\n");
    for name in ["authorization", "cookie", "x-api-key"] {
        assert!(
            warnings.contains(&format!("redacted the {name} header of")),
            "{warnings}"
        );
    }
    assert!(warnings.contains("redacted the authorization header of 7 requests"));
    assert!(warnings.contains("skipped requests that are not HTTP: 1 data:, 1 wss:"));
    assert!(warnings.contains(
        "the requests went to 2 origins: https://shop.example.com (11), https://cdn.example.net (1)"
    ));
    assert!(!String::from_utf8_lossy(&imported.json).contains("eyJhbGciOiJIUzI1NiJ9"));
    assert!(!String::from_utf8_lossy(&imported.json).contains("s3cr3t"));
    let kept = session(&ImportOptions {
        keep_secrets: true,
        ..options(Mode::Distinct)
    })
    .unwrap();
    let doc = document(&kept);
    assert_eq!(
        entry(&doc, "requests", "GET /")["headers"]["cookie"],
        "session=s3cr3t-session; theme=dark"
    );
    assert!(!kept.warnings.join("\n").contains("redacted"));
}

#[test]
fn host_and_path_filters() {
    let cdn = session(&ImportOptions {
        hosts: vec!["CDN.example.net".into()],
        ..options(Mode::Distinct)
    })
    .unwrap();
    assert_eq!(cdn.kept, 1);
    assert_eq!(document(&cdn)["target"], "https://cdn.example.net");
    let carts = session(&ImportOptions {
        path_prefixes: vec!["/api/v1/carts/".into()],
        target: Some("http://127.0.0.1:8080".into()),
        ..options(Mode::Shapes)
    })
    .unwrap();
    assert_eq!(carts.kept, 4);
    assert_eq!(document(&carts)["target"], "http://127.0.0.1:8080");
    let none = session(&ImportOptions {
        path_prefixes: vec!["/api/v1/cart".into()],
        ..options(Mode::Distinct)
    })
    .unwrap_err();
    assert_eq!(
        none.to_string(),
        "api-session.har: nothing to import: 14 requests read, 2 not HTTP requests \
         (1 data:, 1 wss:), 12 filtered out by --path-prefix /api/v1/cart"
    );
}

#[test]
fn paths_with_a_host_header_and_tag_headers() {
    let records = vec![
        Recorded {
            method: "get".into(),
            url: "/cart/7".into(),
            headers: vec![
                ("Host".into(), "checkout:8080".into()),
                ("x-verifier-run".into(), "k1".into()),
                ("x-verifier-seq".into(), "3".into()),
            ],
            at: "request 1".into(),
            ..Recorded::default()
        },
        Recorded {
            method: "GET".into(),
            url: "/cart/8".into(),
            at: "request 2".into(),
            ..Recorded::default()
        },
    ];
    let imported = build(&records, &options(Mode::Shapes)).unwrap();
    let doc = document(&imported);
    assert_eq!(doc["target"], "http://checkout:8080");
    assert_eq!(doc["load"]["rate"], "10/s");
    let cart = &doc["requests"][0];
    assert_eq!(cart["path"], "/cart/{{random_int(7,8)}}");
    assert!(cart.get("headers").is_none(), "{cart}");
    let replay = build(&records, &options(Mode::Replay)).unwrap_err();
    assert_eq!(
        replay.to_string(),
        "api-session.har: request 1: no timestamp: --replay needs when each request was sent"
    );
}

#[test]
fn nothing_to_import_and_bad_requests() {
    let empty = build(&[], &options(Mode::Distinct)).unwrap_err();
    assert_eq!(
        empty.to_string(),
        "api-session.har: nothing to import: the recording has no requests"
    );
    let bad = Recorded {
        method: "G ET".into(),
        url: "http://a/".into(),
        at: "line 3".into(),
        ..Recorded::default()
    };
    assert_eq!(
        build(&[bad], &options(Mode::Distinct))
            .unwrap_err()
            .to_string(),
        "api-session.har: line 3: 'G ET' is not an HTTP method"
    );
    let relative = Recorded {
        method: "GET".into(),
        url: "cart/1".into(),
        at: "line 4".into(),
        ..Recorded::default()
    };
    assert!(
        build(&[relative], &options(Mode::Distinct))
            .unwrap_err()
            .to_string()
            .contains("line 4: 'cart/1' is neither an absolute http(s) URL nor a path")
    );
}

#[test]
fn every_real_export_imports_in_every_mode() {
    let files: [(&str, &[u8]); 8] = [
        (
            "chrome.har",
            include_bytes!("../../../tests/fixtures/har/chrome.har"),
        ),
        (
            "firefox.har",
            include_bytes!("../../../tests/fixtures/har/firefox.har"),
        ),
        (
            "safari.har",
            include_bytes!("../../../tests/fixtures/har/safari.har"),
        ),
        (
            "charles.har",
            include_bytes!("../../../tests/fixtures/har/charles.har"),
        ),
        (
            "insomnia.har",
            include_bytes!("../../../tests/fixtures/har/insomnia.har"),
        ),
        (
            "postdata.har",
            include_bytes!("../../../tests/fixtures/har/postdata.har"),
        ),
        (
            "with-bom.har",
            include_bytes!("../../../tests/fixtures/har/with-bom.har"),
        ),
        (
            "head-content-length.har",
            include_bytes!("../../../tests/fixtures/har/head-content-length.har"),
        ),
    ];
    for (name, bytes) in files {
        let parsed = har::parse(bytes, name).unwrap();
        for mode in [Mode::Distinct, Mode::Shapes, Mode::Replay] {
            let imported = build(
                &parsed.records,
                &ImportOptions {
                    source: name.into(),
                    ..options(mode)
                },
            )
            .unwrap_or_else(|e| panic!("{name} {mode:?}: {e}"));
            let text = String::from_utf8(imported.json).unwrap();
            assert!(!text.contains("\":authority\""), "{name}");
            assert!(!text.contains("\"host\""), "{name}");
            assert!(!text.contains("\"content-length\""), "{name}");
            assert!(!text.contains("\"connection\""), "{name}");
        }
    }
}
