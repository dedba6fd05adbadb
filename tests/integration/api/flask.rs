//! For people porting from Flask: `username` at login, the `{"msg": ...}` error shape, route lists relative to
//! `api_prefix`, JSON 401s from page routes for JSON clients.
