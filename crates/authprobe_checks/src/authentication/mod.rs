//! Authentication checks: credential handling on protected endpoints.

pub mod exposed_secrets;
pub mod invalid_token_accepted;
pub mod method_bypass;
pub mod missing_authentication;
pub mod missing_www_authenticate;
pub mod spec_drift;
pub mod token_in_query;
pub mod token_type_confusion;
pub mod user_enumeration;
pub mod weak_password_policy;
pub mod weak_password_recovery;
