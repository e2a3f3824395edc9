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
    pub fn invalid(&self, path: impl Into<String>, message: impl Into<String>) -> ScenarioError {
        ScenarioError::Invalid {
            file: self.file.clone(),
            path: path.into(),
            message: message.into(),
        }
    }
}
