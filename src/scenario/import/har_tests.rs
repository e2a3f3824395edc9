use super::*;

macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!("../../../tests/fixtures/har/", $name)).as_slice()
    };
}

fn error(bytes: &[u8]) -> String {
    parse(bytes, "x.har").unwrap_err().to_string()
}

#[test]
fn reads_every_real_export() {
    for (name, bytes, entries) in [
        ("chrome.har", fixture!("chrome.har"), 3),
        ("firefox.har", fixture!("firefox.har"), 14),
        ("safari.har", fixture!("safari.har"), 19),
        ("charles.har", fixture!("charles.har"), 1),
        ("insomnia.har", fixture!("insomnia.har"), 1),
        ("postdata.har", fixture!("postdata.har"), 1),
        ("with-bom.har", fixture!("with-bom.har"), 1),
        (
            "head-content-length.har",
            fixture!("head-content-length.har"),
            1,
        ),
    ] {
        let parsed = parse(bytes, name).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(parsed.records.len(), entries, "{name}");
        assert!(parsed.records.iter().all(|r| r.time_us.is_some()), "{name}");
    }
}

#[test]
fn reads_a_post_body_and_its_type() {
    let parsed = parse(fixture!("with-bom.har"), "with-bom.har").unwrap();
    let record = &parsed.records[0];
    assert_eq!(record.method, "POST");
    assert_eq!(
        record.url,
        "https://signal-metrics-collector-beta.s-onetag.com/metrics"
    );
    assert!(record.body.starts_with(b"{\"metadata\":{\"pageViewId\""));
    assert!(
        record
            .headers
            .iter()
            .any(|(n, v)| n == ":authority" && v.starts_with("signal-metrics"))
    );
}

#[test]
fn reads_base64_bodies_forms_and_skips_cached_entries() {
    let parsed = parse(fixture!("api-session.har"), "api-session.har").unwrap();
    assert_eq!(parsed.records.len(), 14, "the cached entry is skipped");
    assert!(parsed.warnings[0].contains("skipped 1 entry the browser served from its cache"));
    let upload = parsed
        .records
        .iter()
        .find(|r| r.url.ends_with("/upload"))
        .unwrap();
    assert_eq!(
        upload.body,
        [
            0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0xff, 0x00, 0xfe
        ]
    );
    let login = parsed
        .records
        .iter()
        .find(|r| r.url.ends_with("/login"))
        .unwrap();
    assert_eq!(login.body, b"user=ada&remember=1");
}

#[test]
fn multipart_fields_without_the_body_warn() {
    let har = br#"{"log": {"version": "1.2", "entries": [{"startedDateTime": "2026-11-28T09:15:00Z",
        "request": {"method": "POST", "url": "http://a.example/up", "headers": [],
        "postData": {"mimeType": "multipart/form-data; boundary=x", "params": [{"name": "f", "fileName": "a.png"}]}}}]}}"#;
    let parsed = parse(har, "x.har").unwrap();
    assert!(parsed.records[0].body.is_empty());
    assert!(parsed.warnings[0].contains("log.entries[0]: the body (multipart/form-data"));
    assert_eq!(parsed.records[0].headers[0].0, "content-type");
}

#[test]
fn broken_and_truncated_files_name_the_line() {
    assert_eq!(
        error(fixture!("broken.har")),
        "x.har: log (line 2, column 1): not a HAR 1.2 file: invalid type: sequence, expected the HAR log object {\"version\", \"entries\": [...]}"
    );
    let chrome = fixture!("chrome.har");
    let truncated = &chrome[..chrome.len() / 2];
    let lines = truncated.iter().filter(|b| **b == b'\n').count() + 1;
    let message = error(truncated);
    assert!(
        message.starts_with(&format!("x.har: line {lines}, column ")),
        "{message}"
    );
    assert!(
        message.contains("the file ends early (truncated?)"),
        "{message}"
    );
    assert!(error(b"{\"log\": {\"entries\": [}}").contains("line 1, column 22"));
    assert!(error(b"").contains("truncated"));
}

#[test]
fn structure_errors_name_the_entry() {
    assert!(error(b"{\"version\": \"1.2\"}").contains("missing field `log`"));
    assert!(error(b"{\"log\": {\"version\": \"1.2\"}}").contains("log: no \"entries\""));
    let no_url = br#"{"log": {"entries": [{"request": {"method": "GET", "url": "http://a/"}},
        {"request": {"method": "GET", "headers": []}}]}}"#;
    assert_eq!(
        error(no_url),
        "x.har: log.entries[1].request.url: missing: every entry needs the URL it requested"
    );
    let no_request = br#"{"log": {"entries": [{"startedDateTime": "2026-11-28T09:15:00Z"}]}}"#;
    assert!(error(no_request).contains("log.entries[0].request: missing"));
    let bad_date =
        br#"{"log": {"entries": [{"startedDateTime": "today", "request": {"url": "http://a/"}}]}}"#;
    assert!(error(bad_date).contains("log.entries[0].startedDateTime: 'today'"));
    let bad_base64 = br#"{"log": {"entries": [{"request": {"url": "http://a/",
        "postData": {"mimeType": "application/octet-stream", "text": "%%", "encoding": "base64"}}}]}}"#;
    assert!(error(bad_base64).contains("log.entries[0].request.postData.text: encoding is base64"));
    let wrong_type =
        br#"{"log": {"entries": [{"request": {"url": "http://a/", "headers": {"a": "b"}}}]}}"#;
    assert!(error(wrong_type).contains("log.entries[0].request.headers (line 1, column"));
}
