//! One integration-test binary (one link), with a module per area.

mod common;

mod account;
mod admin_api;
mod admin_pages;
mod api;
mod browser;
mod catchers;
mod cli;
mod google;
mod guards;
mod items;
mod keys;
mod mailbox;
mod oidc_provider;
mod register;
mod setup;
mod signin;
mod smtp_server;
mod tokens;
