//! Authorization checks: who may read or change which objects, and who may call which
//! functions. The write probes (BOLA003, AUTHZ002) share `write_probes`.

pub mod cross_identity_access;
pub mod cross_identity_write;
pub mod enumerable_ids;
pub mod function_level_authorization;
pub mod mass_assignment;
mod objects;
mod write_probes;
