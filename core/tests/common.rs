//! Helpers shared by the core's integration tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use polytrace_core::config::{Config, OptionValue};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};

/// Resolves a configuration from explicit options only (an empty environment).
pub fn config(options: &[(&str, OptionValue)]) -> Config {
    let opts: Vec<(String, OptionValue)> = options
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    Config::resolve(&opts, &|_| None)
        .expect("valid test options")
        .0
}

pub fn s(v: &str) -> OptionValue {
    OptionValue::Str(v.to_string())
}

pub fn i(v: i64) -> OptionValue {
    OptionValue::Int(v)
}

/// Drops every batch at once, counting spans: the fastest possible back end.
#[derive(Debug, Clone, Default)]
pub struct Discard {
    pub spans: Arc<AtomicU64>,
}

impl SpanExporter for Discard {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.spans.fetch_add(batch.len() as u64, Ordering::Relaxed);
        Ok(())
    }
}

/// Blocks every export until `release` is called: a back end that hangs.
#[derive(Debug, Clone, Default)]
pub struct Gate {
    pub state: Arc<(Mutex<bool>, Condvar)>,
    pub spans: Arc<AtomicU64>,
}

impl Gate {
    pub fn release(&self) {
        let (m, c) = &*self.state;
        *m.lock().unwrap() = true;
        c.notify_all();
    }
}

impl SpanExporter for Gate {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let state = self.state.clone();
        let n = batch.len() as u64;
        // Block a blocking-pool thread, not the runtime's only worker.
        let _ = tokio::task::spawn_blocking(move || {
            let (m, c) = &*state;
            let mut open = m.lock().unwrap();
            while !*open {
                open = c.wait(open).unwrap();
            }
        })
        .await;
        self.spans.fetch_add(n, Ordering::Relaxed);
        Ok(())
    }
}

/// Keeps every exported span (also across shutdown, unlike the SDK's in-memory exporter).
#[derive(Debug, Clone, Default)]
pub struct Collect {
    pub spans: Arc<Mutex<Vec<SpanData>>>,
}

impl Collect {
    pub fn get_finished_spans(&self) -> Result<Vec<SpanData>, std::convert::Infallible> {
        Ok(self.spans.lock().unwrap().clone())
    }
}

impl SpanExporter for Collect {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.spans.lock().unwrap().extend(batch);
        Ok(())
    }
}
