//! Scenario errors: each names the file, the JSON path and the fix.

use std::path::PathBuf;

/// Why a scenario could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("cannot read scenario {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why it could not be read.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid JSON, or a field has the wrong type or name.
    #[error("{file}: {location}: {message}")]
    Syntax {
        /// The file.
        file: String,
        /// `line L, column C` or the JSON path.
        location: String,
        /// What is wrong.
        message: String,
    },
    /// A field has a value that cannot work.
    #[error("{file}: {path}: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// The JSON path of the field, e.g. `load.rate` or `requests[2].path`.
        path: String,
        /// What is wrong and the fix.
        message: String,
    },
    /// A command-line override does not fit the scenario.
    #[error("{flag}: {message}")]
    Flag {
        /// The flag, e.g. `--rate`.
        flag: String,
        /// What is wrong and the fix.
        message: String,
    },
}

/// Collects the file name for [`ScenarioError::Invalid`] so call sites only give path and text.
#[derive(Clone)]
pub struct Origin {
    pub file: String,
}

impl Origin {
    pub fn invalid(
        &self,
        path: impl Into<String>,
        message: impl std::fmt::Display,
    ) -> ScenarioError {
        ScenarioError::Invalid {
            file: self.file.clone(),
            path: path.into(),
            message: message.to_string(),
        }
    }
}

/// A value as a user writes it — a rate, a duration, a URL, an HTTP version — that does not
/// parse. Each message names the accepted form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// A rate of zero, a negative rate, or one that overflows.
    #[error("rate must be positive, got {0}")]
    RateNotPositive(String),
    /// A rate with a unit other than `/s`, `/min`, `/h` or `/ms`.
    #[error("unknown rate unit '/{unit}' in '{text}': use /s, /min, /h or /ms, e.g. '200/s'")]
    RateUnit {
        /// The unit as written.
        unit: String,
        /// The whole rate.
        text: String,
    },
    /// A rate whose number does not parse.
    #[error("'{0}' is not a rate: write it like '200/s' or '30k/min'")]
    NotARate(String),
    /// A negative or non-finite number of seconds.
    #[error("duration must be a non-negative number of seconds, got {0}")]
    DurationNotPositive(String),
    /// A duration in no accepted form.
    #[error("'{text}' is not a duration ({reason}): write it like '60s', '1m30s' or '250ms'")]
    NotADuration {
        /// The duration as written.
        text: String,
        /// What the parser stumbled on.
        reason: String,
    },
    /// An HTTP version other than `auto`, `1.1` or `2`.
    #[error("unknown HTTP version '{0}': use \"auto\", \"1.1\" or \"2\"")]
    HttpVersion(String),
    /// A target that is not an absolute `http://` or `https://` URL.
    #[error("{0}")]
    Url(#[from] UrlError),
    /// A request template that does not parse.
    #[error("{0}")]
    Template(#[from] TemplateError),
}

/// Why a target URL cannot be driven.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// It does not parse as a URI.
    #[error("'{url}' is not a URL ({reason}): write it like 'http://127.0.0.1:8080'")]
    Syntax {
        /// The URL as written.
        url: String,
        /// The parser's reason.
        reason: String,
    },
    /// A scheme other than `http` or `https`.
    #[error("'{url}': scheme '{scheme}' is not supported: use http:// or https://")]
    Scheme {
        /// The URL as written.
        url: String,
        /// Its scheme.
        scheme: String,
    },
    /// No scheme at all (`127.0.0.1:8080`).
    #[error("'{0}' has no scheme: write it like 'http://{0}'")]
    NoScheme(String),
    /// No host.
    #[error("'{0}' has no host")]
    NoHost(String),
    /// `user:password@` in the URL.
    #[error("'{0}': credentials in the URL are not supported: set an authorization header")]
    Credentials(String),
}

/// Why a request template (`{{seq}}`, `{{choice('a','b')}}`, …) does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    /// `{{` without `}}`.
    #[error("unclosed '{{{{' in '{0}': close it with '}}}}'")]
    Unclosed(String),
    /// An expression that is none of the supported ones.
    #[error("unknown template '{{{{{0}}}}}': {SUPPORTED}")]
    Unknown(String),
    /// A function other than `random_int` or `choice`.
    #[error("unknown template function '{name}' in '{{{{{expr}}}}}': {SUPPORTED}")]
    UnknownFunction {
        /// The function's name.
        name: String,
        /// The whole expression.
        expr: String,
    },
    /// `random_int(a,b)` with `a > b`.
    #[error("'{{{{{expr}}}}}': the lower bound {low} is above the upper bound {high}")]
    BoundsReversed {
        /// The whole expression.
        expr: String,
        /// The lower bound.
        low: i64,
        /// The upper bound.
        high: i64,
    },
    /// `random_int` without two integers.
    #[error("'{{{{{0}}}}}' needs two integers, e.g. {{{{random_int(1,5000)}}}}")]
    NotTwoIntegers(String),
    /// A `choice` option without quotes.
    #[error("'{{{{{0}}}}}': quote every option, e.g. {{{{choice('a','b')}}}}")]
    Unquoted(String),
    /// A `choice` option whose quote is not closed.
    #[error("'{{{{{0}}}}}': an option's quote is not closed")]
    UnclosedQuote(String),
    /// A header option with a control character.
    #[error("'{{{{{0}}}}}': a header value cannot contain control characters")]
    ControlCharacter(String),
    /// `choice()` with no option.
    #[error("'{{{{{0}}}}}' needs at least one option")]
    NoOption(String),
}

const SUPPORTED: &str = "use {{seq}}, {{uuid}}, {{random_int(a,b)}} or {{choice('a','b')}}";
