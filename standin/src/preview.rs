//! `mirrord preview start|status|stop` (mirrord Enterprise): a preview environment is a pod
//! of the target running the given image, reached by requests carrying `baggage:
//! mirrord-session=<key>`. The stand-in records each started preview in the cluster directory
//! (`previews/<key>.json`, with the arguments it was given) and reports it as `Ready`.

use crate::session::CLUSTER_ENV;
use serde_json::{Value, json};
use std::path::PathBuf;

/// `preview` with its arguments (after `preview`).
pub fn preview(args: &[String]) -> i32 {
    let Some(cluster) = std::env::var_os(CLUSTER_ENV).map(PathBuf::from) else {
        eprintln!("Error: stand-in mirrord: {CLUSTER_ENV} is not set");
        return 1;
    };
    let dir = cluster.join("previews");
    match args.first().map(String::as_str) {
        Some("start") => start(&dir, &args[1..]),
        Some("status") => status(&dir),
        Some("stop") => stop(&dir, &args[1..]),
        other => {
            eprintln!(
                "error: unrecognized subcommand '{}' (start, status, stop)",
                other.unwrap_or("")
            );
            2
        }
    }
}

/// The value of each `-x VALUE` / `--long VALUE` flag; an unknown flag is an error.
fn flags(
    args: &[String],
    known: &[(&str, &str)],
) -> Result<serde_json::Map<String, Value>, String> {
    let mut out = serde_json::Map::new();
    let mut i = 0;
    while i < args.len() {
        let Some((_, long)) = known.iter().find(|(s, l)| args[i] == *s || args[i] == *l) else {
            return Err(format!("unexpected argument '{}' found", args[i]));
        };
        let value = args
            .get(i + 1)
            .ok_or(format!("a value is required for '{long}'"))?;
        out.insert(
            long.trim_start_matches('-').to_string(),
            Value::String(value.clone()),
        );
        i += 2;
    }
    Ok(out)
}

fn start(dir: &std::path::Path, args: &[String]) -> i32 {
    let known = [
        ("-k", "--key"),
        ("-i", "--image"),
        ("-t", "--target"),
        ("-n", "--target-namespace"),
        ("--ttl", "--ttl"),
        ("--timeout", "--timeout"),
        ("-f", "--config-file"),
    ];
    let parsed = match flags(args, &known) {
        Ok(parsed) => parsed,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    for needed in ["key", "image", "target"] {
        if !parsed.contains_key(needed) {
            eprintln!("Error: mirrord preview start needs --{needed}");
            return 1;
        }
    }
    let key = parsed["key"].as_str().unwrap_or_default().to_string();
    let record = json!({ "key": key, "args": args, "flags": parsed, "phase": "Ready" });
    let written = std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(dir.join(format!("{key}.json")), record.to_string()));
    if let Err(e) = written {
        eprintln!("Error: stand-in cluster: {e}");
        return 1;
    }
    println!(
        "Preview environment for key {key} is ready: requests with baggage: mirrord-session={key} reach it."
    );
    0
}

fn status(dir: &std::path::Path) -> i32 {
    let entries = std::fs::read_dir(dir)
        .map(|d| d.flatten().collect::<Vec<_>>())
        .unwrap_or_default();
    for entry in entries {
        if let Ok(text) = std::fs::read_to_string(entry.path()) {
            println!("{text}");
        }
    }
    0
}

fn stop(dir: &std::path::Path, args: &[String]) -> i32 {
    let parsed = match flags(
        args,
        &[
            ("-k", "--key"),
            ("--glob", "--glob"),
            ("-t", "--target"),
            ("-n", "--target-namespace"),
        ],
    ) {
        Ok(parsed) => parsed,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    let key = parsed.get("key").and_then(Value::as_str).unwrap_or("*");
    let entries = std::fs::read_dir(dir)
        .map(|d| d.flatten().collect::<Vec<_>>())
        .unwrap_or_default();
    for entry in entries {
        let name = entry
            .file_name()
            .to_string_lossy()
            .trim_end_matches(".json")
            .to_string();
        if key == "*" || name == key {
            let _ = std::fs::remove_file(entry.path());
            println!("stopped preview {name}");
        }
    }
    0
}
