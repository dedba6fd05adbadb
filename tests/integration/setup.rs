//! Configuration is checked at ignite: bad values stop the launch.

use gatehouse::config::{figment_with, Config, SAMPLE_SECRET};
use rocket::local::asynchronous::Client;

use crate::common::{figment, settings};
use crate::tests;

tests!(
    release_refuses_a_missing_sample_or_short_secret,
    an_unknown_database_scheme_stops_the_launch_and_creates_nothing,
    a_bad_setting_names_its_key
);

async fn release_refuses_a_missing_sample_or_short_secret() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("r.db").display());
    for secret in [None, Some(SAMPLE_SECRET), Some("short-secret")] {
        let mut s = settings(&url);
        s.jwt.secret_key = secret.map(str::to_owned);
        let figment =
            figment_with("release", s).merge(("secret_key", "hPRYyVRiMyxpw5sBB1XeCMN1kFsDCqKvBi2QJxBVHQk="));
        let err = Config::from_figment(&figment).unwrap_err();
        assert_eq!(err.key, "jwt.secret_key");
        assert!(err.to_string().contains("openssl rand -base64 48"), "{err}");
        let launch = Client::untracked(gatehouse::build(figment.merge(("log_level", "off")))).await;
        assert_fails_to_ignite(launch);
    }
}

async fn an_unknown_database_scheme_stops_the_launch_and_creates_nothing() {
    // Without the scheme check, SQLite would happily create a file named
    // `foo:bar.db` in the working directory.
    let stray = std::path::Path::new("foo:bar.db");
    let launch = Client::untracked(gatehouse::build(figment("foo:bar.db"))).await;
    assert_fails_to_ignite(launch);
    assert!(!stray.exists(), "no stray database file");
    let launch = Client::untracked(gatehouse::build(figment("mysql://localhost/db"))).await;
    assert_fails_to_ignite(launch);
}

async fn a_bad_setting_names_its_key() {
    let f = figment("sqlite://x.db").merge(("password.bcrypt_cost", 4));
    let err = Config::from_figment(&f).unwrap_err();
    assert_eq!(err.key, "password.bcrypt_cost");
    let f = figment("sqlite://x.db").merge(("jwt.access_token_expires", "soon"));
    assert_eq!(
        Config::from_figment(&f).unwrap_err().key,
        "jwt.access_token_expires"
    );
}

fn assert_fails_to_ignite(launch: Result<Client, rocket::Error>) {
    match launch {
        Ok(_) => panic!("the app should not start"),
        Err(e) => assert!(
            matches!(e.kind(), rocket::error::ErrorKind::FailedFairings(_)),
            "{e}"
        ),
    }
}

/// A build without an optional feature refuses, by key, the settings that
/// need it, and doesn't start.
#[cfg(not(all(feature = "google", feature = "mail", feature = "postgres")))]
async fn assert_needs_feature(key: &str, value: &str, feature: &str) {
    let f = figment("sqlite://x.db").merge((key, value));
    let err = Config::from_figment(&f).unwrap_err();
    assert!(err.to_string().contains(&format!("`{feature}` feature")), "{err}");
    let launch = Client::untracked(gatehouse::build(f.merge(("log_level", "off")))).await;
    assert_fails_to_ignite(launch);
}

#[cfg(not(feature = "google"))]
tests!(without_the_google_feature_a_google_client_stops_the_launch);
#[cfg(not(feature = "google"))]
async fn without_the_google_feature_a_google_client_stops_the_launch() {
    assert_needs_feature("google.client_id", "id", "google").await;
}

#[cfg(not(feature = "mail"))]
tests!(without_the_mail_feature_smtp_and_file_stop_the_launch);
#[cfg(not(feature = "mail"))]
async fn without_the_mail_feature_smtp_and_file_stop_the_launch() {
    assert_needs_feature("mail.transport", "smtp", "mail").await;
    assert_needs_feature("mail.transport", "file", "mail").await;
}

#[cfg(not(feature = "postgres"))]
tests!(without_the_postgres_feature_a_postgres_url_stops_the_launch);
#[cfg(not(feature = "postgres"))]
async fn without_the_postgres_feature_a_postgres_url_stops_the_launch() {
    assert_needs_feature("database_url", "postgres://u@localhost/db", "postgres").await;
}
