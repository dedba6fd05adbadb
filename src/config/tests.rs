//! The settings as a whole: errors name their keys, release checks, no secret printed.

use super::*;

const GOOD: &str = "k3P9vQz8Lr2Xw6Yt1Nb5Mc7Hd4Jf0Gs8Ae2Ui6Oo9";

fn with_secret(secret: Option<&str>) -> Settings {
    let mut s = Settings::default();
    s.jwt.secret_key = secret.map(str::to_owned);
    s
}

#[test]
fn bad_values_name_their_key() {
    let mut s = with_secret(Some(GOOD));
    s.jwt.algorithm = "none".into();
    assert_eq!(s.validate(false).unwrap_err().key, "jwt.algorithm");
    let mut s = with_secret(Some(GOOD));
    s.password.bcrypt_cost = 4;
    assert_eq!(s.validate(false).unwrap_err().key, "password.bcrypt_cost");
    let mut s = with_secret(Some(GOOD));
    s.database_url = "mysql://localhost/db".into();
    assert_eq!(s.validate(false).unwrap_err().key, "database_url");
    let mut s = with_secret(Some(GOOD));
    s.jwt.cookie_samesite = "None".into();
    assert_eq!(s.validate(false).unwrap_err().key, "jwt.cookie_samesite");
}

#[test]
fn unknown_jwt_settings_are_refused() {
    let figment =
        figment_with("debug", Settings::default()).merge(Serialized::default("jwt.verify_expiration", false));
    let err = Config::from_figment(&figment).unwrap_err();
    assert!(err.to_string().contains("verify_expiration"), "{err}");
}

#[test]
fn figment_errors_name_their_key() {
    let figment = figment_with("debug", Settings::default())
        .merge(Serialized::default("jwt.access_token_expires", "soon"));
    let err = Config::from_figment(&figment).unwrap_err();
    assert_eq!(err.key, "jwt.access_token_expires");
}

#[test]
#[cfg(feature = "mail")]
fn release_registration_needs_a_public_url_and_a_mailer() {
    let registering = |url: Option<&str>, transport: &str| {
        let mut s = with_secret(Some(GOOD));
        s.registration = true;
        s.public_url = url.map(str::to_owned);
        s.mail.transport = transport.into();
        s.mail.smtp_url = Some("smtps://u:p@smtp.example.com".into());
        s.validate(true)
    };
    let e = registering(None, "smtp").unwrap_err();
    assert_eq!(e.key, "public_url");
    let e = registering(Some("http://accounts.example.com"), "smtp").unwrap_err();
    assert!(e.message.contains("https"), "{e}");
    for bad in [
        "ftp://example.com",
        "https://example.com/?x=1",
        "https://u@example.com",
        "https://:pw@example.com",
        "example.com",
    ] {
        assert_eq!(
            registering(Some(bad), "smtp").unwrap_err().key,
            "public_url",
            "{bad}"
        );
    }
    assert_eq!(
        registering(Some("https://accounts.example.com"), "log")
            .unwrap_err()
            .key,
        "mail.transport"
    );
    let ok = registering(Some("https://accounts.example.com/"), "smtp").unwrap();
    assert_eq!(ok.public_url, "https://accounts.example.com");
    assert!(
        registering(Some("http://127.0.0.1:8000"), "smtp").is_ok(),
        "loopback"
    );
    // Without registration nothing mails links: neither is needed.
    assert!(with_secret(Some(GOOD)).validate(true).is_ok());
}

#[test]
fn debug_links_point_at_the_local_server() {
    let figment = figment_with("debug", Settings::default()).merge(("port", 9123));
    let config = Config::from_figment(&figment).unwrap();
    assert_eq!(config.public_url, "http://localhost:9123");
    let mut s = with_secret(Some(GOOD));
    s.registration_link_expires = 10;
    assert_eq!(s.validate(false).unwrap_err().key, "registration_link_expires");
}

#[test]
#[cfg(feature = "google")]
fn debug_never_prints_a_secret() {
    let old = "old-secret-3e8d0a-Qm7vX2pL9sK4wT6yB1nC";
    let mut s = with_secret(Some(GOOD));
    s.database_url = "postgres://app:db-pass-91c4@db.internal/gh".into();
    s.jwt.verify_keys = vec![VerifyKeySettings {
        algorithm: "HS256".into(),
        public_key_file: None,
        secret_key: Some(old.into()),
        kid: None,
    }];
    s.google.client_id = Some("id".into());
    s.google.client_secret = Some("client-secret-77b2".into());
    s.google.redirect_uri = Some("https://example.com/auth/google/callback".into());
    let checked = format!("{:?}", s.clone().validate(false).unwrap());
    let debug = format!("{s:?}");
    for secret in [GOOD, "db-pass-91c4", old, "client-secret-77b2"] {
        assert!(!debug.contains(secret), "{secret} in {debug}");
        assert!(!checked.contains(secret), "{secret} in {checked}");
    }
    assert!(
        debug.contains("db.internal") && debug.contains("[redacted]"),
        "{debug}"
    );
}

#[test]
fn password_reset_is_on_when_mail_can_carry_links() {
    let reset = |setting: Option<bool>, url: Option<&str>, transport: &str, release: bool| {
        let mut s = with_secret(Some(GOOD));
        s.password_reset = setting;
        s.public_url = url.map(str::to_owned);
        s.mail.transport = transport.into();
        s.mail.smtp_url = Some("smtps://u:p@smtp.example.com".into());
        s.mail.dir = Some("/tmp/gatehouse-mail".into());
        s.validate(release)
    };
    let url = Some("https://accounts.example.com");
    // Off when asked, whatever else.
    let off = reset(Some(false), None, "log", true).unwrap();
    assert!(!off.password_reset && off.password_reset_off.is_none());
    if cfg!(feature = "mail") {
        // Unset: on in debug (the `log` transport prints the link), and in
        // release with a public_url and a real transport.
        assert!(
            reset(None, Some("http://localhost:8000"), "log", false)
                .unwrap()
                .password_reset
        );
        assert!(reset(None, url, "smtp", true).unwrap().password_reset);
        // Else off, saying why.
        let c = reset(None, None, "smtp", true).unwrap();
        assert!(!c.password_reset);
        assert!(c.password_reset_off.unwrap().contains("public_url"));
        let c = reset(None, url, "log", true).unwrap();
        assert!(!c.password_reset);
        assert!(c.password_reset_off.unwrap().contains("mail.transport"));
        // Asked for, what it lacks stops the launch.
        assert!(reset(Some(true), url, "file", true).unwrap().password_reset);
        assert_eq!(
            reset(Some(true), None, "smtp", true).unwrap_err().key,
            "public_url"
        );
        assert_eq!(
            reset(Some(true), url, "log", true).unwrap_err().key,
            "mail.transport"
        );
    } else {
        let c = reset(None, Some("http://localhost:8000"), "log", false).unwrap();
        assert!(!c.password_reset);
        assert!(c.password_reset_off.unwrap().contains("`mail` feature"));
        let e = reset(Some(true), Some("http://localhost:8000"), "log", false).unwrap_err();
        assert_eq!(e.key, "password_reset");
    }
    let mut s = with_secret(Some(GOOD));
    s.password_reset_expires = 60;
    assert_eq!(s.validate(false).unwrap_err().key, "password_reset_expires");
}

#[test]
fn password_reset_settings_are_known() {
    let figment = figment_with("debug", Settings::default())
        .merge(Serialized::default("password_reset", false))
        .merge(Serialized::default("password_reset_expires", 900));
    let config = Config::from_figment(&figment).unwrap();
    assert!(!config.password_reset);
    assert_eq!(config.password_reset_expires, 900);
}
