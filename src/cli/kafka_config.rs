//! `--kafka-config KEY=VALUE` and `--kafka-config-file FILE`: the client settings of a user's
//! cluster, for every Kafka command and for Kafka scenarios in `verify`. Lowest precedence
//! first: a scenario's `kafka.config`, `FIXPROOF_KAFKA_CONFIG` (what a local arm's service
//! gets), the file, the flags.

use super::Failure;
use crate::exit_code;
use crate::kafka::{Settings, Sources};
use crate::scenario::Scenario;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Clone, Default, Args)]
pub struct KafkaConfigFlags {
    /// A client property for the Kafka cluster, as kcat's -X (repeatable):
    /// `security.protocol=SASL_SSL`, `sasl.mechanism=SCRAM-SHA-512`,
    /// `sasl.password=${env:KAFKA_PASSWORD}`. Java client properties are translated.
    #[arg(long = "kafka-config", value_name = "KEY=VALUE")]
    pub kafka_config: Vec<String>,
    /// The cluster's client properties in a Java-style properties file (`client.properties`).
    #[arg(long = "kafka-config-file", value_name = "FILE")]
    pub kafka_config_file: Option<PathBuf>,
}

impl KafkaConfigFlags {
    /// The settings of `scenario`'s `kafka.config`, the file and the flags, resolved.
    ///
    /// # Errors
    /// Exit 64 naming the flag, file line or scenario field.
    pub fn settings(&self, scenario: Option<&Scenario>) -> Result<Settings, Failure> {
        let bad = |e: crate::kafka::SettingsError| Failure::new(exit_code::USAGE, e);
        let mut sources = Sources::default();
        if let Some((k, file)) = scenario.and_then(|s| s.kafka.as_ref().zip(s.source.as_ref())) {
            sources = sources.scenario(&k.config, file);
        }
        sources = sources.environment().map_err(bad)?;
        if let Some(file) = &self.kafka_config_file {
            sources = sources.properties_file(file).map_err(bad)?;
        }
        sources
            .flags(&self.kafka_config)
            .map_err(bad)?
            .resolve()
            .map_err(bad)
    }

    /// The cluster at `bootstrap` with these settings, checked by librdkafka.
    ///
    /// # Errors
    /// Exit 64 for a setting that cannot be used.
    #[cfg(feature = "kafka")]
    pub fn connection(
        &self,
        bootstrap: &str,
        scenario: Option<&Scenario>,
    ) -> Result<crate::kafka::Connection, Failure> {
        crate::kafka::Connection::new(bootstrap, self.settings(scenario)?)
            .map_err(super::kafka::failure)
    }
}
