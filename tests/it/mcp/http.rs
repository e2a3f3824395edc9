//! Over streamable HTTP: a bearer token, queued runs, and the addresses refused.

use super::*;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `fixproof mcp --http` on a free loopback port with a token; waits until it listens.
fn http_server(demo: &Demo, token: &str) -> (tokio::process::Child, String) {
    let token_file = demo.dir.path().join("token");
    std::fs::write(&token_file, format!("{token}\n")).unwrap();
    let port = free_port();
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_fixproof"))
        .arg("mcp")
        .args(["--http", &format!("127.0.0.1:{port}"), "--token-file"])
        .arg(&token_file)
        .args(demo.project_args())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the HTTP server never listened");
        std::thread::sleep(Duration::from_millis(50));
    }
    (child, format!("http://127.0.0.1:{port}/mcp"))
}

async fn http_client(url: &str, token: &str) -> Result<Client, String> {
    use rmcp::transport::StreamableHttpClientTransport;
    use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
    let config = StreamableHttpClientTransportConfig::with_uri(url.to_string())
        .auth_header(token.to_string());
    Recorder::default()
        .serve(StreamableHttpClientTransport::from_config(config))
        .await
        .map_err(|e| e.to_string())
}

#[test]
fn over_streamable_http_runs_queue_go_to_their_end_and_a_wrong_token_is_refused() {
    serially(async {
        let demo = Demo::new();
        let (mut server, url) = http_server(&demo, "s3cret-token");
        let client = http_client(&url, "s3cret-token").await.unwrap();
        let tools = client.list_all_tools().await.unwrap();
        assert_eq!(tools.len(), 8);
        call(&client, &tools, "list_projects", json!({})).await;
        // Two runs of one project: the second queues behind the first, and both end. The
        // second's candidate is an environment override alone: a pricing address that refuses.
        let slow = json!({ "project": "checkout-errors", "patches": [{ "text": demo.patch("guard-address-slow.diff"), "label": "slow" }] });
        let env = json!({ "project": "checkout-errors", "patches": [{ "env": { "FIXPROOF_DEMO_PRICING": "127.0.0.1:9" } }] });
        let mut runs = Vec::new();
        for args in [slow, env] {
            let started = call(&client, &tools, "start_verification", args).await;
            runs.push(started.structured_content.unwrap());
        }
        assert_eq!(
            runs[1]["labels"][0], "env-FIXPROOF_DEMO_PRICING",
            "{:#}",
            runs[1]
        );
        assert_eq!(runs[1]["state"], "queued", "{:#}", runs[1]);
        assert_eq!(runs[1]["queue_position"], 1, "{:#}", runs[1]);
        for run in &runs {
            let id = run["run_id"].as_str().unwrap();
            let ended = poll(&client, &tools, id, |r| {
                r["state"] != "queued" && r["state"] != "running"
            })
            .await;
            assert_eq!(ended["outcome"]["verdict"], "reject", "{ended:#}");
        }
        let ended = poll(&client, &tools, runs[1]["run_id"].as_str().unwrap(), |_| {
            true
        })
        .await;
        let patch = &ended["outcome"]["arms"]["candidate"]["patch"];
        assert_eq!(patch["kind"], "env", "{ended:#}");
        client.cancel().await.unwrap();
        let wrong = http_client(&url, "guess").await;
        assert!(wrong.is_err(), "a wrong token was let in");
        server.kill().await.unwrap();
    });
}

#[test]
fn a_non_loopback_http_address_needs_allow_remote_and_a_token() {
    let demo = Demo::new();
    let token = demo.dir.path().join("token");
    std::fs::write(&token, "t0ken").unwrap();
    let project = demo.project("checkout-p99");
    for extra in [
        &["--http", "0.0.0.0:0"][..],
        &["--http", "0.0.0.0:0", "--allow-remote"][..],
        &[
            "--http",
            "0.0.0.0:0",
            "--token-file",
            token.to_str().unwrap(),
        ][..],
    ] {
        let (code, stderr) = refused_server(extra, &project);
        assert_eq!(code, Some(64), "{extra:?}: {stderr}");
        assert!(stderr.contains("is not a loopback address"), "{stderr}");
        assert!(
            stderr.contains("--allow-remote with --token-file"),
            "{stderr}"
        );
    }
    // A bad project file names its field.
    let bad = demo.dir.path().join("bad.project.json");
    std::fs::write(&bad, r#"{"name": "x", "repo": "repo", "scenario": "scenarios/checkout-p99.json", "command": ["true"], "caps": {"max_rate": "fast"}}"#).unwrap();
    let (code, stderr) = refused_server(&[], &bad);
    assert_eq!(code, Some(64), "{stderr}");
    assert!(stderr.contains("caps.max_rate"), "{stderr}");
}

/// `fixproof mcp EXTRA --project PROJECT`, which must not start: its exit code and stderr.
fn refused_server(extra: &[&str], project: &std::path::Path) -> (Option<i32>, String) {
    let out = binary()
        .arg("mcp")
        .args(extra)
        .arg("--project")
        .arg(project)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
