//! Test helpers for apps built on Gatehouse (Flask-JWT-Router's test
//! utilities): make a user, mint tokens for them, and send them as an
//! `Authorization` header or as a browser's cookies.
//!
//! ```no_run
//! # async fn example(client: rocket::local::asynchronous::Client) {
//! use gatehouse::testing;
//! let app = testing::state(&client);
//! let user = testing::create_user(app, "ada@example.com", "a long passphrase", gatehouse::domain::Role::User)
//!     .await
//!     .unwrap();
//! let tokens = testing::sign_in(app, &user).await.unwrap();
//! let res = client.get("/api/v1/me").header(tokens.authorization()).dispatch().await;
//! # }
//! ```

use rocket::http::{Cookie, Header};
use rocket::local::asynchronous::Client;

use crate::db::session::Device;
use crate::db::user::{NewUser, User};
use crate::domain::{DisplayName, Email, Role};
use crate::error::Error;
use crate::services::signin;
use crate::state::Gatehouse;

/// Settings for an app's tests: the SQLite database at `database_url`
/// (one per test, e.g. in a temporary folder), a fixed test-only secret, the
/// cheapest bcrypt cost Gatehouse accepts, and no logs. Nothing is read from
/// Rocket.toml or the environment; merge more on top.
pub fn figment(database_url: &str) -> rocket::figment::Figment {
    let mut settings = crate::config::Settings {
        database_url: database_url.to_owned(),
        database_pool_size: 4,
        ..Default::default()
    };
    settings.jwt.secret_key = Some("test-only-secret-never-in-production-8f2c1a9e7d3b5".into());
    settings.password.bcrypt_cost = 10;
    crate::config::figment_with("debug", settings).merge(("log_level", "off"))
}

/// The app state of a local client's Rocket.
pub fn state(client: &Client) -> &Gatehouse {
    client
        .rocket()
        .state::<Gatehouse>()
        .expect("a Rocket built with gatehouse::build or gatehouse::stage")
}

/// Creates a user with a password (hashed with the configured cost) and no
/// display name.
pub async fn create_user(app: &Gatehouse, email: &str, password: &str, role: Role) -> Result<User, Error> {
    create_named_user(app, email, "", password, role).await
}

/// Same, with a display name (`""` for none).
pub async fn create_named_user(
    app: &Gatehouse,
    email: &str,
    name: &str,
    password: &str,
    role: Role,
) -> Result<User, Error> {
    let email = Email::parse(email).map_err(Error::Invalid)?;
    let name = DisplayName::parse(name).map_err(Error::Invalid)?;
    let hash = app.passwords.hash(password.to_owned()).await?;
    app.db
        .run(move |conn| {
            User::create(
                conn,
                NewUser {
                    email,
                    name,
                    password_hash: Some(hash),
                    role,
                },
            )
        })
        .await
}

/// A session's tokens, ready to send.
#[derive(Debug, Clone)]
pub struct TestTokens {
    pub access_token: String,
    pub refresh_token: String,
    /// The CSRF value cookie-authenticated writes must echo.
    pub csrf: String,
    pub session_id: String,
    access_cookie: String,
    refresh_cookie: String,
    csrf_header: String,
}

impl TestTokens {
    /// `Authorization: Bearer <access token>`.
    pub fn authorization(&self) -> Header<'static> {
        Header::new("Authorization", format!("Bearer {}", self.access_token))
    }

    /// The access and refresh cookies, as a signed-in browser sends them.
    pub fn cookies(&self) -> Vec<Cookie<'static>> {
        vec![
            Cookie::new(self.access_cookie.clone(), self.access_token.clone()),
            Cookie::new(self.refresh_cookie.clone(), self.refresh_token.clone()),
        ]
    }

    /// The CSRF header cookie-authenticated writes need.
    pub fn csrf_header(&self) -> Header<'static> {
        Header::new(self.csrf_header.clone(), self.csrf.clone())
    }
}

/// Starts a session for `user`, as a password sign-in would (a fresh access
/// token and a refresh token).
pub async fn sign_in(app: &Gatehouse, user: &User) -> Result<TestTokens, Error> {
    let signed_in = signin::start_session(app, user.clone(), Device::default(), true, "test").await?;
    let config = &app.config.jwt;
    Ok(TestTokens {
        csrf: signed_in.claims.csrf.clone(),
        session_id: signed_in.session.id.clone(),
        access_token: signed_in.token,
        refresh_token: signed_in.refresh_token,
        access_cookie: config.access_cookie_name.clone(),
        refresh_cookie: config.refresh_cookie_name.clone(),
        csrf_header: config.access_csrf_header_name.clone(),
    })
}

/// Same, with a non-fresh access token (as after a renewal), for testing
/// `FreshLogin` routes.
pub async fn sign_in_stale(app: &Gatehouse, user: &User) -> Result<TestTokens, Error> {
    let mut tokens = sign_in(app, user).await?;
    let sid = tokens.session_id.clone();
    let session = app
        .db
        .run(move |conn| crate::db::session::Session::find(conn, &sid)?.ok_or(Error::NotFound))
        .await?;
    let (token, _) = app.issue_access(user, &session, &tokens.csrf, false)?;
    tokens.access_token = token;
    Ok(tokens)
}
