//! End-to-end tests: the real `authprobe` binary against the real Django testbed.

mod util;

mod action;
mod auth_model;
mod checks;
mod cli;
mod fleet;
mod flows;
mod hardened;
mod history;
mod hostile;
mod interrupt;
mod knobs;
mod markdown;
mod precision;
mod reports;
mod safety;
mod secrets;
mod spec;
mod tokens;
mod writes;
mod zoo;
