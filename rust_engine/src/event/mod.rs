//! Events: candle types, the streaming event queue and the engine loop.

pub mod batch;
pub mod engine;
pub mod ledger;
pub mod queue;
pub mod types;
