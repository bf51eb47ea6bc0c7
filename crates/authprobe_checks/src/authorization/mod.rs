//! Authorization checks: who may read or change which objects.

pub mod cross_identity_access;
pub mod enumerable_ids;
