//! Token checks: where tokens travel and how they are made.

pub mod identity_derived_token;
pub mod low_entropy_token;
pub mod predictable_token;
pub mod sampling;
pub mod token_leak;
