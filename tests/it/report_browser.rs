//! The HTML report in a real browser: headless Chromium (Debian's `chromium`, which `.ci/run`
//! installs) renders the page to a PNG that must not be blank, and its NetLog must show no
//! request made by the page. Chromium's own background requests (component updates, time
//! checks) carry the initiator "not an origin" and are not the page's; a control page with an
//! external image proves the check sees page requests. Without Chromium the test fails: CI
//! installs it, so a missing browser is a broken machine, not a reason to skip.

use crate::report::{pass_folder, render_html};
use std::path::Path;
use std::process::Command;

const CHROMIUM: &str = "/usr/bin/chromium";

/// Renders `page` with headless Chromium; returns (screenshot PNG bytes, page requests).
fn chromium(page: &Path, work: &Path) -> (Vec<u8>, Vec<String>) {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: install it with `apt-get install -y chromium` (.ci/run does)"
    );
    let (shot, net) = (work.join("shot.png"), work.join("net.json"));
    let profile = tempfile::tempdir().unwrap();
    // coreutils `timeout`: a browser that hangs fails the test instead of stalling CI.
    let output = Command::new("timeout")
        .args(["--kill-after=10", "120", CHROMIUM])
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=1200,2000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--log-net-log={}", net.display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    assert!(
        output.status.success() && shot.exists(),
        "chromium failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    (std::fs::read(&shot).unwrap(), page_requests(&net))
}

/// URLs of http(s) requests started in a NetLog whose initiator is the page (not the
/// browser).
fn page_requests(net: &Path) -> Vec<String> {
    let log: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(net).unwrap()).unwrap();
    let start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"].clone();
    assert!(start_job.is_u64(), "a NetLog without URL_REQUEST_START_JOB");
    let events = log["events"].as_array().unwrap();
    let mut urls: Vec<String> = events
        .iter()
        .filter(|e| e["type"] == start_job)
        .filter_map(|e| {
            let params = e.get("params")?;
            let url = params.get("url")?.as_str()?;
            let initiator = params.get("initiator").and_then(|i| i.as_str());
            let web = url.starts_with("http://") || url.starts_with("https://");
            (web && initiator != Some("not an origin")).then(|| url.to_string())
        })
        .collect();
    urls.dedup();
    urls
}

/// Standard deviation of the luminance and the share of pixels that are not background.
fn ink(png_bytes: &[u8]) -> (f64, f64) {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let luma: Vec<f64> = buf[..info.buffer_size()]
        .chunks(channels)
        .map(|p| {
            let rgb = if channels >= 3 {
                [p[0], p[1], p[2]]
            } else {
                [p[0]; 3]
            };
            0.299 * f64::from(rgb[0]) + 0.587 * f64::from(rgb[1]) + 0.114 * f64::from(rgb[2])
        })
        .collect();
    let n = luma.len() as f64;
    let mean = luma.iter().sum::<f64>() / n;
    let variance = luma.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / n;
    let background = luma[0];
    let inked = luma
        .iter()
        .filter(|l| (*l - background).abs() > 16.0)
        .count() as f64
        / n;
    (variance.sqrt(), inked)
}

#[test]
fn report_html_renders_in_chromium_without_network() {
    let dir = pass_folder();
    let (page, html) = render_html(dir.path());
    let (shot, requests) = chromium(&page, dir.path());
    // To look at the page and its screenshot: FIXPROOF_REPORT_OUT=folder.
    if let Some(out) = std::env::var_os("FIXPROOF_REPORT_OUT") {
        let out = Path::new(&out);
        std::fs::create_dir_all(out).unwrap();
        std::fs::write(out.join("report.html"), &html).unwrap();
        std::fs::write(out.join("report.png"), &shot).unwrap();
    }
    assert!(requests.is_empty(), "the page made requests: {requests:?}");
    let (deviation, inked) = ink(&shot);
    assert!(
        deviation > 10.0 && inked > 0.02,
        "the screenshot looks blank: luminance deviation {deviation:.1}, {:.1} % inked",
        inked * 100.0
    );
    // Control: the same page with an external image is caught by the request check.
    let control = dir.path().join("control.html");
    let external = html.replace("</body>", "<img src=\"http://127.0.0.1:9/x.png\"></body>");
    std::fs::write(&control, external).unwrap();
    let (_, requests) = chromium(&control, dir.path());
    assert_eq!(requests, ["http://127.0.0.1:9/x.png"]);
}
