//! `fixproof demo-service pricing|checkout` (hidden): the bundled demo services.

use super::Failure;
use crate::demo::service;
use crate::exit_code;
use clap::{Args, ValueEnum};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DemoService {
    /// The downstream with a heavy tail.
    Pricing,
    /// The service under test; reads ./checkout.json, calls $FIXPROOF_DEMO_PRICING (host:port),
    /// or a pricing downstream of its own when that is not set.
    Checkout,
}

#[derive(Debug, Args)]
pub struct DemoServiceArgs {
    pub service: DemoService,
    /// Port on 127.0.0.1; default $PORT.
    #[arg(long, env = "PORT")]
    pub port: u16,
}

pub async fn run(args: DemoServiceArgs) -> Result<i32, Failure> {
    let served = match args.service {
        DemoService::Pricing => service::serve(args.port, service::pricing).await,
        DemoService::Checkout => {
            let config = Arc::new(
                service::read_config()
                    .map_err(|m| Failure::new(exit_code::DATA, anyhow::anyhow!(m)))?,
            );
            // Without a pricing downstream given, the checkout starts its own (the demo's
            // MCP projects run it so).
            let pricing = match std::env::var(service::PRICING_ENV) {
                Ok(pricing) => pricing,
                Err(_) => {
                    let port = crate::orchestrate::process::free_port().map_err(|e| {
                        Failure::new(
                            exit_code::UNAVAILABLE,
                            anyhow::anyhow!("no free port for the pricing downstream: {e}"),
                        )
                    })?;
                    tokio::spawn(service::serve(port, service::pricing));
                    format!("127.0.0.1:{port}")
                }
            };
            let pricing = Arc::new(pricing);
            service::serve(args.port, move |request| {
                service::checkout(config.clone(), pricing.clone(), request)
            })
            .await
        }
    };
    served.map(|()| exit_code::OK).map_err(|e| {
        Failure::new(
            exit_code::UNAVAILABLE,
            anyhow::anyhow!("cannot serve on port {}: {e}", args.port),
        )
    })
}
