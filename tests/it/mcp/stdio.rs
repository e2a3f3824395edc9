//! Over the server's stdio: every tool, progress, runs followed and cancelled, refusals, and a
//! client that goes away.

use super::*;
use rmcp::model::{ClientRequest, Request};
use rmcp::service::PeerRequestOptions;

#[test]
fn an_agent_verifies_patches_over_stdio_follows_runs_and_cancels_one() {
    serially(async {
        let demo = Demo::new();
        let (client, recorder) = stdio(&demo).await;
        let tools = client.list_all_tools().await.unwrap();
        let names: Vec<&str> = tools.iter().map(|t| t.name.as_ref()).collect();
        for name in [
            "list_projects",
            "verify_patch",
            "start_verification",
            "get_run",
            "cancel_run",
            "compare_runs",
            "render_report",
            "list_results",
        ] {
            assert!(names.contains(&name), "{names:?}");
            let tool = tools.iter().find(|t| t.name == name).unwrap();
            assert_eq!(
                tool.output_schema.as_ref().unwrap()["type"],
                "object",
                "{name}"
            );
        }
        let projects = call(&client, &tools, "list_projects", json!({})).await;
        assert_eq!(
            projects.structured_content.as_ref().unwrap()["projects"][0]["name"],
            "checkout-p99"
        );

        // verify_patch blocks, with progress, and answers the verdict with its feedback as text.
        let patch = demo.patch("timeout-150ms-cached.diff");
        let args =
            json!({ "project": "checkout-p99", "patches": [{ "text": patch, "label": "cached" }] });
        let answer = call(&client, &tools, "verify_patch", args).await;
        let outcome = answer.structured_content.clone().unwrap();
        assert_eq!(outcome["kind"], "verdict", "{outcome:#}");
        assert_eq!(outcome["verdict"], "pass", "{}", text(&answer));
        assert!(text(&answer).contains("cached: PASS"), "{}", text(&answer));
        let progress = recorder.progress.lock().unwrap().clone();
        assert!(
            progress.iter().any(|m| m.contains("ready in")),
            "{progress:?}"
        );
        assert!(
            progress.iter().any(|m| m.contains("decided")),
            "{progress:?}"
        );

        // start_verification and get_run to the end.
        let args = json!({ "project": "checkout-p99", "patches": [{ "text": demo.patch("timeout-2s.diff") }] });
        let run = run_id(call(&client, &tools, "start_verification", args).await);
        let ended = poll(&client, &tools, &run, |r| {
            r["state"] != "queued" && r["state"] != "running"
        })
        .await;
        assert_eq!(ended["state"], "done", "{ended:#}");
        assert_eq!(ended["outcome"]["verdict"], "reject", "{ended:#}");
        assert_eq!(ended["labels"][0], "patch-1");

        // A run cancelled mid-load: its services end and its worktrees go.
        let run = start_long_run(&client, &tools, &demo).await;
        let cancelled = call(&client, &tools, "cancel_run", json!({ "run_id": run })).await;
        let cancelled = cancelled.structured_content.unwrap();
        assert_eq!(cancelled["state"], "cancelled", "{cancelled:#}");
        demo.services_gone(Duration::from_secs(2));
        assert_eq!(demo.worktrees(), 0, "worktrees left behind");

        // A blocking verify_patch cancelled by notifications/cancelled: the same cleanup.
        let patch = demo.patch("guard-address.diff");
        let args =
            json!({ "project": "checkout-errors", "patches": [{ "text": patch }], "rate": "50/s" });
        let Value::Object(args) = args else {
            unreachable!()
        };
        let params = CallToolRequestParams::new("verify_patch").with_arguments(args);
        let request = ClientRequest::CallToolRequest(Request::new(params));
        let handle = client
            .send_cancellable_request(request, PeerRequestOptions::no_options())
            .await
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        let seen = recorder.progress.lock().unwrap().len();
        while !recorder.progress.lock().unwrap()[seen..]
            .iter()
            .any(|m| m.contains("requests"))
        {
            assert!(
                Instant::now() < deadline,
                "the cancelled call's load never flowed"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        handle
            .cancel(Some("the agent moved on".into()))
            .await
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while demo.worktrees() > 0 {
            assert!(Instant::now() < deadline, "worktrees left behind");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        demo.services_gone(Duration::from_secs(5));

        // The results: listed, rendered, compared.
        let results = call(
            &client,
            &tools,
            "list_results",
            json!({ "project": "checkout-p99" }),
        )
        .await;
        let results = results.structured_content.unwrap()["results"]
            .as_array()
            .unwrap()
            .clone();
        assert_eq!(results.len(), 2, "{results:?}");
        let report = call(
            &client,
            &tools,
            "render_report",
            json!({ "project": "checkout-p99", "run": results[0]["folder"] }),
        )
        .await;
        assert!(text(&report).contains("PASS"), "{}", text(&report));
        let artifacts = results[0]["artifacts"].as_array().unwrap();
        let baseline = artifacts
            .iter()
            .find(|a| a.as_str().unwrap().ends_with("baseline.json"))
            .unwrap();
        let candidate = artifacts
            .iter()
            .find(|a| a.as_str().unwrap().ends_with("cached.json"))
            .unwrap();
        let args = json!({ "project": "checkout-p99", "baseline": baseline, "candidates": [candidate], "slo": ["p99 < 300ms"] });
        let compared = call(&client, &tools, "compare_runs", args).await;
        assert_eq!(compared.structured_content.unwrap()["verdict"], "pass");

        // Refusals, each naming what to fix.
        let patch = json!([{ "text": demo.patch("timeout-2s.diff") }]);
        refused(
            &call(
                &client,
                &tools,
                "verify_patch",
                json!({ "project": "nope", "patches": patch }),
            )
            .await,
            "unknown project 'nope'",
        );
        refused(
            &call(
                &client,
                &tools,
                "verify_patch",
                json!({ "project": "checkout-locked", "patches": patch, "slo": ["p99 < 1s"] }),
            )
            .await,
            "does not allow overriding the SLOs",
        );
        refused(
            &call(
                &client,
                &tools,
                "start_verification",
                json!({ "project": "checkout-p99", "patches": patch, "rate": "900/s" }),
            )
            .await,
            "above project 'checkout-p99''s cap of 500/s",
        );
        refused(
            &call(&client, &tools, "get_run", json!({ "run_id": "run-0" })).await,
            "unknown run",
        );
        for (patches, says) in [
            (
                json!([{ "text": demo.patch("timeout-2s.diff"), "revert": "HEAD" }]),
                "both \"text\" and \"revert\"",
            ),
            (json!([{ "label": "x" }]), "candidate 1 is empty"),
            (
                json!([{ "env": { "A": "1" } }, { "env": { "B": "2" } }]),
                "only one candidate per call may be env alone",
            ),
            (
                json!([{ "revert": "no-such-commit" }]),
                "--revert no-such-commit: not a commit",
            ),
        ] {
            let args = json!({ "project": "checkout-p99", "patches": patches });
            refused(&call(&client, &tools, "verify_patch", args).await, says);
        }
        // A refused call leaves no folder behind: only the two runs of checkout-p99.
        let folders = std::fs::read_dir(demo.dir.path().join("results/checkout-p99")).unwrap();
        assert_eq!(folders.count(), 2);
        refused(
            &call(
                &client,
                &tools,
                "render_report",
                json!({ "project": "checkout-p99", "run": "../../etc" }),
            )
            .await,
            "results folder",
        );
        client.cancel().await.unwrap();
    });
}

#[test]
fn a_client_that_goes_away_mid_run_leaves_nothing_behind() {
    serially(async {
        let demo = Demo::new();
        let args = demo.project_args();
        let mut server = tokio::process::Command::new(env!("CARGO_BIN_EXE_fixproof"))
            .arg("mcp")
            .args(&args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let (stdout, stdin) = (server.stdout.take().unwrap(), server.stdin.take().unwrap());
        let client = Recorder::default().serve((stdout, stdin)).await.unwrap();
        let tools = client.list_all_tools().await.unwrap();
        start_long_run(&client, &tools, &demo).await;
        // The client closes the server's stdin and goes.
        drop(client);
        let status = tokio::time::timeout(Duration::from_secs(30), server.wait())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(status.code(), Some(0));
        demo.services_gone(Duration::from_secs(2));
        assert_eq!(demo.worktrees(), 0, "worktrees left behind");
    });
}
