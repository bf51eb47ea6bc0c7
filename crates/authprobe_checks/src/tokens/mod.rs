//! Token checks: where tokens travel and how they are made.

pub mod token_leak;
