//! Sandbox mode: fake providers speaking each real wire format (added with their
//! connectors) and the demo tenant a newcomer can log into.

pub mod demo;
