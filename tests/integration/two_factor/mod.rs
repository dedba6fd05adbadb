//! Two-factor sign-in (TOTP codes and recovery codes):
//!
//! - [`enroll`]: `/account/two-factor`: turning it on with a right code,
//!   recovery codes, turning it off with a code;
//! - [`signin`]: the form's second step: no session before the code,
//!   `amr`, lockout, replayed and recovery codes;
//! - [`api`]: `/api/v1/login`'s `mfa_token`, `/api/v1/login/two-factor`,
//!   Flask-JWT's `/auth`, `amr` across refreshes;
//! - [`admin`]: an admin's reset, `required_for_admins`, the
//!   `SecondFactor` guard on an app's own route.
//!
//! Codes are made from the secret with the same TOTP crate the app uses.

mod admin;
mod api;
mod enroll;
mod signin;

use gatehouse::auth::totp;
use gatehouse::db::session::Device;
use gatehouse::domain::now;
use gatehouse::services::two_factor;
use rocket::http::ContentType;
use rocket::local::asynchronous::LocalResponse;

use crate::common::{form_body, TestApp};

/// The code for the step `steps` away from now.
pub fn code(secret: &str, steps: i64) -> String {
    let t = totp::totp(secret, "test", "test").unwrap();
    totp::code_at(&t, (now() + steps * totp::STEP as i64) as u64)
}

/// Six digits that are no code of the steps around now.
pub fn wrong_code(secret: &str) -> String {
    let near: Vec<String> = (-2..=2).map(|s| code(secret, s)).collect();
    (0..10)
        .map(|d| d.to_string().repeat(6))
        .find(|c| !near.contains(c))
        .unwrap()
}

/// Turns two-factor sign-in on for a user (through the service, with a
/// right code for the current step); returns the secret and the recovery
/// codes. Codes for later steps (`code(secret, 1)`) work next.
pub async fn turn_on(app: &TestApp, email: &str) -> (String, Vec<String>) {
    let user = app.find_user(email).await.unwrap();
    let enrollment = two_factor::begin(app.state(), &user).await.unwrap();
    let codes = two_factor::confirm(
        app.state(),
        &user,
        &code(&enrollment.secret, 0),
        Device::default(),
    )
    .await
    .unwrap();
    (enrollment.secret, codes)
}

/// How many sessions a user has (revoked or not).
pub async fn session_count(app: &TestApp, user_id: i32) -> i64 {
    app.state()
        .db
        .run(move |conn| {
            use diesel::prelude::*;
            use gatehouse::db::schema::sessions;
            Ok(sessions::table
                .filter(sessions::user_id.eq(user_id))
                .count()
                .get_result(conn)?)
        })
        .await
        .unwrap()
}

impl TestApp {
    /// Submits the second step's form (in `app.client`, which holds the
    /// pending sign-in's cookie).
    pub async fn code_form(&self, code: &str) -> LocalResponse<'_> {
        let csrf = self.csrf("/login/two-factor").await;
        self.client
            .post("/login/two-factor")
            .header(ContentType::Form)
            .body(form_body(&[("csrf_token", &csrf), ("code", code)]))
            .dispatch()
            .await
    }

    /// Posts a form as the signed-in browser (`app.client`), with its CSRF
    /// value.
    pub async fn post_form(&self, uri: &str, fields: &[(&str, &str)]) -> LocalResponse<'_> {
        let csrf = self.csrf_cookie();
        let mut all = vec![("csrf_token", csrf.as_str())];
        all.extend_from_slice(fields);
        self.client
            .post(uri.to_owned())
            .header(ContentType::Form)
            .body(form_body(&all))
            .dispatch()
            .await
    }

    /// The signed-in browser's token claims (`/api/v1/me`).
    pub async fn claims(&self) -> serde_json::Value {
        let me: serde_json::Value = self.get_json("/api/v1/me").await.into_json().await.unwrap();
        me["claims"].clone()
    }
}
