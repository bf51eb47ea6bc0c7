//! Django deployment checks.

pub mod admin_exposed;
pub mod debug;
pub mod verbose_errors;
pub mod weak_secret_key;
