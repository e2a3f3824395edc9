//! `Verdict.preview`: what a human needs to try a passing candidate in a mirrord preview
//! environment (mirrord Enterprise): the image, the exact `mirrord preview start` command,
//! the session header and a curl example, and, with `verify --preview`, how starting it went.

use serde::{Deserialize, Serialize};

/// The preview of a passing candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PreviewRecord {
    /// The preview session's key.
    pub key: String,
    /// The candidate's image (`--preview-image`, or what `--preview-build` printed).
    pub image: Option<String>,
    /// `mirrord preview start -k <key> -i <image> -t <target> [-n <ns>] --ttl <mins>`.
    pub command: Option<String>,
    /// The header that routes a request to the preview: `baggage: mirrord-session=<key>`.
    pub header: String,
    /// A request through the service's URL with that header.
    pub curl: Option<String>,
    /// With `--preview`: whether `mirrord preview start` succeeded.
    pub started: Option<bool>,
    /// With `--preview`: the last lines it printed.
    pub output: Option<String>,
    /// Why there is no image or command, or why starting failed.
    pub error: Option<String>,
}
