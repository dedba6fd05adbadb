//! The shared test helper: every test spawns the same app as `main.rs` on a
//! database of its own (a temporary SQLite file, or a fresh PostgreSQL schema
//! when `TEST_DATABASE_URL` is set), so the suite runs in parallel.
//!
//! - here: [`TestApp`], [`db_tests!`](crate::db_tests),
//!   [`backend_tests!`](crate::backend_tests), settings, users, and reading
//!   the database;
//! - [`forms`]: the sign-in form, CSRF values, form bodies, redirects;
//! - [`browser`]: a second browser on the same database, following
//!   redirects (the Chromium tests are in `crate::browser`);
//! - [`mailbox`] and [`smtp_server`]: the mails Gatehouse sends.
#![allow(dead_code)]

pub mod browser;
pub mod forms;
pub mod mailbox;
pub mod smtp_server;

#[cfg(feature = "postgres")]
use diesel::connection::SimpleConnection;
#[cfg(feature = "postgres")]
use diesel::Connection;
use gatehouse::config::{figment_with, Settings};
use gatehouse::db::user::User;
use gatehouse::domain::{Email, Role};
use gatehouse::Gatehouse;
use rocket::figment::Figment;
use rocket::http::Header;
use rocket::local::asynchronous::{Client, LocalResponse};

pub use browser::Browser;
pub use forms::{assert_redirect_to, csrf_in, form_body};

pub const PASSWORD: &str = "correct horse battery staple";
pub const SECRET: &str = "test-only-k3P9vQz8Lr2Xw6Yt1Nb5Mc7Hd4Jf0Gs8Ae2Ui6Oo9";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs each named `async fn name(app: TestApp)` once per backend, as
/// `name::sqlite` and `name::postgres` (ignored without `TEST_DATABASE_URL`,
/// see [`crate::harness`]).
#[macro_export]
macro_rules! db_tests {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                async fn sqlite() {
                    let app = $crate::common::TestApp::spawn($crate::common::Backend::Sqlite).await;
                    super::$name(app.expect("the SQLite test app starts")).await;
                }

                async fn postgres() {
                    let app = $crate::common::TestApp::spawn($crate::common::Backend::Postgres).await;
                    super::$name(app.expect("the PostgreSQL test app starts")).await;
                }

                $crate::register_test!(async sqlite, Nothing);
                $crate::register_test!(async postgres, Postgres);
            }
        )*
    };
}

/// Runs each named `async fn name(backend: Backend)` once per backend, as
/// `name::sqlite` and `name::postgres` (ignored without `TEST_DATABASE_URL`).
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                async fn sqlite() {
                    super::$name($crate::common::Backend::Sqlite).await;
                }

                async fn postgres() {
                    super::$name($crate::common::Backend::Postgres).await;
                }

                $crate::register_test!(async sqlite, Nothing);
                $crate::register_test!(async postgres, Postgres);
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
        #[cfg(feature = "postgres")]
        if let TestDb::Postgres { base, schema } = self {
            if let Ok(mut conn) = diesel::PgConnection::establish(base) {
                let _ = conn.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"));
            }
        }
    }
}

impl TestDb {
    /// A new, empty database (always `Some`). A PostgreSQL one needs
    /// `TEST_DATABASE_URL`: without it the harness ignores PostgreSQL tests,
    /// and one run anyway fails here.
    pub fn new(backend: Backend) -> Option<(TestDb, String)> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("a temp dir");
                let url = format!("sqlite://{}", dir.path().join("test.db").display());
                Some((TestDb::Sqlite(dir), url))
            }
            #[cfg(not(feature = "postgres"))]
            Backend::Postgres => panic!("a PostgreSQL test needs the `postgres` feature"),
            #[cfg(feature = "postgres")]
            Backend::Postgres => {
                let Ok(base) = std::env::var("TEST_DATABASE_URL") else {
                    panic!(
                        "a PostgreSQL test needs TEST_DATABASE_URL \
                         (e.g. postgres://postgres@127.0.0.1:5432/test), and it is not set"
                    );
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

    /// Creates a user with [`PASSWORD`] (see `gatehouse::testing`).
    pub async fn create_user(&self, email: &str, name: &str, role: Role) -> User {
        gatehouse::testing::create_named_user(self.state(), email, name, PASSWORD, role)
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
