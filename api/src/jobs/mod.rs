//! Durable background work on the `jobs` table (graphile-worker / Oban / River
//! semantics): enqueued in the same transaction as the business change (transactional
//! outbox), de-duplicated by `job_key`, claimed with a lease (`locked_until`) renewed by a
//! heartbeat, retried with jittered exponential backoff. A `kill -9` at any point loses
//! nothing: an expired lease makes the job claimable again. Handlers must therefore be
//! idempotent (they are: downloads upsert, pushes look their reference up first).

pub mod handlers;
pub mod queue;
pub mod runner;

pub use queue::{JobRecord, NewJob};
pub use runner::{Handler, JobContext, JobError, Runner};
