//! schemathesis against a live server.
