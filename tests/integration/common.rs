//! The shared test helper: every test spawns the same app as `main.rs` on a
//! database of its own (a temporary SQLite file, or a fresh PostgreSQL schema
//! when `TEST_DATABASE_URL` is set), so the suite runs in parallel.
#![allow(dead_code)]

use std::sync::Once;

use diesel::connection::SimpleConnection;
use diesel::Connection;
use gatehouse::config::{figment_with, Settings};
use gatehouse::db::user::{NewUser, User};
use gatehouse::domain::{Email, Role};
use gatehouse::Gatehouse;
use rocket::figment::Figment;
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::{Client, LocalResponse};

pub const PASSWORD: &str = "correct horse battery staple";
pub const SECRET: &str = "test-only-k3P9vQz8Lr2Xw6Yt1Nb5Mc7Hd4Jf0Gs8Ae2Ui6Oo9";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each named `async fn name(app: TestApp)` once per backend, as
/// `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! db_tests {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[rocket::async_test]
                async fn sqlite() {
                    let app = $crate::common::TestApp::spawn($crate::common::Backend::Sqlite).await;
                    super::$name(app.expect("the SQLite test app starts")).await;
                }

                #[rocket::async_test]
                async fn postgres() {
                    if let Some(app) = $crate::common::TestApp::spawn($crate::common::Backend::Postgres).await {
                        super::$name(app).await;
                    }
                }
            }
        )*
    };
}

/// A database that belongs to one test and is removed after it.
pub enum TestDb {
    Sqlite(tempfile::TempDir),
    Postgres { base: String, schema: String },
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres { base, schema } = self {
            if let Ok(mut conn) = diesel::PgConnection::establish(base) {
                let _ = conn.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
            }
        }
    }
}

impl TestDb {
    /// A new, empty database, or `None` (said once) when PostgreSQL was not
    /// asked for.
    pub fn new(backend: Backend) -> Option<(TestDb, String)> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("a temp dir");
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                Some((TestDb::Sqlite(dir), url))
            }
            Backend::Postgres => {
                let Ok(base) = std::env::var("TEST_DATABASE_URL") else {
                    static SAID: Once = Once::new();
                    SAID.call_once(|| {
                        eprintln!("TEST_DATABASE_URL is not set: PostgreSQL tests skipped (SQLite ran)")
                    });
                    return None;
                };
                let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
                let mut conn = diesel::PgConnection::establish(&base)
                    .unwrap_or_else(|e| panic!("TEST_DATABASE_URL {base} is unreachable: {e}"));
                conn.batch_execute(&format!("CREATE SCHEMA {schema}"))
                    .expect("create a test schema");
                let sep = if base.contains('?') { '&' } else { '?' };
                let url = format!("{base}{sep}options=-csearch_path%3D{schema}");
                Some((TestDb::Postgres { base, schema }, url))
            }
        }
    }
}

/// Settings for a test app: fast bcrypt, a fixed secret, quiet logs.
pub fn settings(database_url: &str) -> Settings {
    let mut settings = Settings {
        database_url: database_url.to_owned(),
        database_pool_size: 4,
        ..Settings::default()
    };
    settings.jwt.secret_key = Some(SECRET.into());
    settings.password.bcrypt_cost = 10;
    settings
}

/// The figment a test app runs on; `extra` overrides settings.
pub fn figment(database_url: &str) -> Figment {
    let root = env!("CARGO_MANIFEST_DIR");
    figment_with("debug", settings(database_url))
        .merge(("template_dir", format!("{root}/templates")))
        .merge(("static_dir", format!("{root}/static")))
        .merge(("log_level", "off"))
}

pub struct TestApp {
    /// A browser: keeps the cookies the app sets.
    pub client: Client,
    /// A client that keeps no cookies: a second instance of the app on the
    /// same database (as behind a load balancer).
    pub bare: Client,
    pub backend: Backend,
    pub url: String,
    pub db: TestDb,
}

impl TestApp {
    /// The app as `main.rs` builds it, on a database of its own.
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        Self::spawn_rocket(backend, gatehouse::build).await
    }

    /// The app with its figment adjusted (a setting changed).
    pub async fn spawn_with(backend: Backend, adjust: impl Fn(Figment) -> Figment) -> Option<TestApp> {
        Self::spawn_rocket(backend, |f| gatehouse::build(adjust(f))).await
    }

    /// Builds a custom Rocket (e.g. with extra routes) on this test's kind of
    /// database.
    pub async fn spawn_rocket(
        backend: Backend,
        make: impl Fn(Figment) -> rocket::Rocket<rocket::Build>,
    ) -> Option<TestApp> {
        let (db, url) = TestDb::new(backend)?;
        let client = Client::tracked(make(figment(&url)))
            .await
            .expect("the app ignites");
        let bare = Client::untracked(make(figment(&url)))
            .await
            .expect("the app ignites");
        Some(TestApp {
            client,
            bare,
            backend,
            url,
            db,
        })
    }

    pub fn state(&self) -> &Gatehouse {
        self.client
            .rocket()
            .state::<Gatehouse>()
            .expect("Gatehouse state")
    }

    pub async fn create_user(&self, email: &str, name: &str, role: Role) -> User {
        let app = self.state();
        let hash = app.passwords.hash(PASSWORD.into()).await.unwrap();
        let email = Email::parse(email).unwrap();
        let name = name.to_owned();
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
            .unwrap()
    }

    /// The account with this email, if there is one.
    pub async fn find_user(&self, email: &str) -> Option<User> {
        let email = Email::parse(email).unwrap();
        self.state()
            .db
            .run(move |conn| User::find_by_email(conn, &email))
            .await
            .unwrap()
    }

    /// The CSRF value of the form on a page.
    pub async fn csrf(&self, uri: &str) -> String {
        let body = self
            .client
            .get(uri.to_owned())
            .dispatch()
            .await
            .into_string()
            .await
            .unwrap();
        csrf_in(&body).unwrap_or_else(|| panic!("no csrf_token on {uri}"))
    }

    /// Submits the sign-in form as a browser does.
    pub async fn sign_in_form(
        &self,
        email: &str,
        password: &str,
        extra: &[(&str, &str)],
    ) -> LocalResponse<'_> {
        let csrf = self.csrf("/login").await;
        let mut fields = vec![
            ("email", email),
            ("password", password),
            ("csrf_token", csrf.as_str()),
        ];
        fields.extend_from_slice(extra);
        self.client
            .post("/login")
            .header(ContentType::Form)
            .body(form_body(&fields))
            .dispatch()
            .await
    }

    /// Signs in (the user must exist with [`PASSWORD`]) and checks it worked.
    pub async fn sign_in(&self, email: &str) {
        let res = self.sign_in_form(email, PASSWORD, &[]).await;
        assert_redirect_to(&res, "/");
    }

    /// The readable CSRF cookie's value (what a page's script would send).
    pub fn csrf_cookie(&self) -> String {
        self.client
            .cookies()
            .get("csrf_access_token")
            .expect("signed in: a CSRF cookie")
            .value()
            .to_owned()
    }

    /// Signs out as the header's "Sign out" button does; returns the
    /// response (a redirect home).
    pub async fn sign_out(&self) -> LocalResponse<'_> {
        self.client
            .post("/logout")
            .header(Header::new("X-CSRF-TOKEN", self.csrf_cookie()))
            .dispatch()
            .await
    }

    /// The current access cookie's value.
    pub fn access_cookie(&self) -> Option<String> {
        self.client
            .cookies()
            .get("access_token_cookie")
            .map(|c| c.value().to_owned())
    }

    pub async fn get(&self, uri: &str) -> LocalResponse<'_> {
        self.client.get(uri.to_owned()).dispatch().await
    }

    pub async fn get_json(&self, uri: &str) -> LocalResponse<'_> {
        self.client
            .get(uri.to_owned())
            .header(Header::new("Accept", "application/json"))
            .dispatch()
            .await
    }

    /// GET as an API client with only the given access cookie.
    pub async fn get_with_cookie(&self, uri: &str, token: &str) -> LocalResponse<'_> {
        self.bare
            .get(uri.to_owned())
            .cookie(rocket::http::Cookie::new("access_token_cookie", token.to_owned()))
            .header(Header::new("Accept", "application/json"))
            .dispatch()
            .await
    }

    /// Follows redirects from a response, as a browser would, to the final
    /// page; returns its status, path and body.
    pub async fn follow(&self, res: LocalResponse<'_>) -> (Status, String, String) {
        follow_redirects(&self.client, res).await
    }

    /// Moves every session's activity and last renewal `seconds` into the
    /// past, as if time had gone by.
    pub async fn age_sessions(&self, seconds: i64) {
        self.state()
            .db
            .run(move |conn| {
                use diesel::prelude::*;
                use gatehouse::db::schema::sessions;
                let then = gatehouse::domain::now() - seconds;
                diesel::update(sessions::table)
                    .set((sessions::last_used_at.eq(then), sessions::refreshed_at.eq(then)))
                    .execute(conn)?;
                Ok(())
            })
            .await
            .unwrap();
    }

    pub async fn audit_kinds(&self) -> Vec<String> {
        self.state()
            .db
            .run(|conn| gatehouse::db::audit::recent(conn, None, 100))
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.kind)
            .collect()
    }
}

/// Follows redirects from a response with `client`, as a browser would, to
/// the final page; returns its status, path and body.
pub async fn follow_redirects(client: &Client, res: LocalResponse<'_>) -> (Status, String, String) {
    let mut status = res.status();
    let mut location = res.headers().get_one("Location").map(str::to_owned);
    let mut path = String::new();
    let mut body = res.into_string().await.unwrap_or_default();
    let mut hops = 0;
    while let Some(next) = location.take() {
        hops += 1;
        assert!(hops < 10, "redirect loop at {next}");
        let res = client.get(next.clone()).dispatch().await;
        status = res.status();
        path = next;
        location = res.headers().get_one("Location").map(str::to_owned);
        body = res.into_string().await.unwrap_or_default();
    }
    (status, path, body)
}

pub fn csrf_in(html: &str) -> Option<String> {
    let start = html.find("name=\"csrf_token\" value=\"")? + "name=\"csrf_token\" value=\"".len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_owned())
}

pub fn form_body(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                k,
                percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Asserts a `303 See Other` to exactly `location`.
#[track_caller]
pub fn assert_redirect_to(res: &LocalResponse<'_>, location: &str) {
    assert_eq!(
        res.status(),
        Status::SeeOther,
        "expected a redirect to {location}"
    );
    assert_eq!(res.headers().get_one("Location"), Some(location));
}

/// Another browser on the same database (a second instance of the app, as
/// behind a load balancer), with its own cookies.
pub struct Browser {
    pub client: Client,
}

impl TestApp {
    pub async fn browser(&self) -> Browser {
        let client = Client::tracked(gatehouse::build(figment(&self.url)))
            .await
            .expect("the app ignites");
        Browser { client }
    }
}

impl Browser {
    /// Submits the sign-in form.
    pub async fn sign_in(&self, email: &str, password: &str) -> LocalResponse<'_> {
        let body = self.get("/login").await.into_string().await.unwrap();
        let csrf = csrf_in(&body).expect("a csrf_token on /login");
        self.client
            .post("/login")
            .header(ContentType::Form)
            .body(form_body(&[
                ("csrf_token", &csrf),
                ("email", email),
                ("password", password),
            ]))
            .dispatch()
            .await
    }

    pub async fn get(&self, uri: &str) -> LocalResponse<'_> {
        self.client.get(uri.to_owned()).dispatch().await
    }

    /// The CSRF value of this browser's session (its readable cookie).
    pub fn csrf(&self) -> String {
        self.client
            .cookies()
            .get("csrf_access_token")
            .map(|c| c.value().to_owned())
            .unwrap_or_default()
    }

    /// Posts a form with this session's CSRF value first.
    pub async fn post(&self, uri: &str, fields: &[(&str, &str)]) -> LocalResponse<'_> {
        let csrf = self.csrf();
        let mut all = vec![("csrf_token", csrf.as_str())];
        all.extend_from_slice(fields);
        self.client
            .post(uri.to_owned())
            .header(ContentType::Form)
            .body(form_body(&all))
            .dispatch()
            .await
    }

    /// Follows redirects to the final page: status, path and body.
    pub async fn follow(&self, res: LocalResponse<'_>) -> (Status, String, String) {
        follow_redirects(&self.client, res).await
    }
}
