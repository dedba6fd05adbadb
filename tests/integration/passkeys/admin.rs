//! An admin sees a user's passkeys (page and API) and removes one (fresh,
//! CSRF, audited with the admin as actor); the command line lists and
//! removes them.

use gatehouse::cli::{execute, Command, UserCommand};
use gatehouse::config::Config;
use gatehouse::domain::Role;
use rocket::http::Status;

use super::{finish_login, start_login, user_with_passkey};
use crate::common::{assert_redirect_to, figment, TestApp};
use crate::db_tests;

db_tests!(
    an_admin_removes_a_passkey,
    the_command_line_lists_and_removes_passkeys,
    removing_a_passkey_signs_out_its_other_sessions
);

/// The owner removes a passkey while signed in with it: the other sessions
/// it started end, the one asking goes on.
async fn removing_a_passkey_signs_out_its_other_sessions(app: TestApp) {
    let ada = app.create_user("ada@example.com", "Ada", Role::User).await;
    let mut auth = user_with_passkey(&app, "ada@example.com").await;
    let mut sessions = Vec::new();
    for counter in 1..=2 {
        auth.counter = counter;
        let (csrf, started) = start_login(&app).await;
        let credential = auth.assert(&started["options"]);
        assert_eq!(
            finish_login(&app, &csrf, &started, &credential).await.status(),
            Status::Ok
        );
        sessions.push(app.claims().await["sid"].as_str().unwrap().to_owned());
    }
    let id = gatehouse::services::passkey::list(app.state(), ada.id)
        .await
        .unwrap()[0]
        .id;
    assert_redirect_to(
        &app.post_form(&format!("/account/passkeys/{id}/delete"), &[])
            .await,
        "/account/passkeys",
    );
    assert_eq!(app.get("/protected").await.status(), Status::Ok);
    let events = app.events("passkey_removed").await;
    assert!(
        events[0].2.ends_with("1 session(s) signed out"),
        "{}",
        events[0].2
    );
    let first = sessions.remove(0);
    let revoked = app
        .state()
        .db
        .run(move |conn| gatehouse::db::session::Session::find(conn, &first))
        .await
        .unwrap()
        .unwrap()
        .revoked_at;
    assert!(revoked.is_some());
}

async fn an_admin_removes_a_passkey(app: TestApp) {
    let ada = app.create_user("ada@example.com", "Ada", Role::User).await;
    let mut auth = user_with_passkey(&app, "ada@example.com").await;
    let passkey = gatehouse::services::passkey::list(app.state(), ada.id)
        .await
        .unwrap()
        .remove(0);
    // Ada signs in with it (on the device she will lose), and with her
    // password elsewhere.
    auth.counter = 1;
    let (csrf, started) = start_login(&app).await;
    let credential = auth.assert(&started["options"]);
    assert_eq!(
        finish_login(&app, &csrf, &started, &credential).await.status(),
        Status::Ok
    );
    let with_passkey = app.claims().await["sid"].as_str().unwrap().to_owned();
    app.sign_in("ada@example.com").await;
    let with_password = app.claims().await["sid"].as_str().unwrap().to_owned();
    let admin = app.create_user("root@example.com", "Root", Role::Admin).await;
    app.sign_in("root@example.com").await;
    let page = app
        .get(&format!("/admin/users/{}", ada.id))
        .await
        .into_string()
        .await
        .unwrap();
    let action = format!("/admin/users/{}/passkeys/{}/delete", ada.id, passkey.id);
    assert!(
        page.contains("id=\"passkeys-heading\"") && page.contains("Laptop"),
        "{page}"
    );
    assert!(page.contains(&action), "{page}");
    let view = app
        .get_json(&format!("/api/v1/admin/users/{}", ada.id))
        .await
        .into_json::<serde_json::Value>()
        .await
        .unwrap();
    assert_eq!(view["passkeys"][0]["name"], "Laptop", "{view}");
    // Without the CSRF value: refused.
    let res = app
        .client
        .post(action.clone())
        .header(rocket::http::ContentType::Form)
        .body("csrf_token=wrong")
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Forbidden);
    drop(res);
    assert_redirect_to(
        &app.post_form(&action, &[]).await,
        &format!("/admin/users/{}", ada.id),
    );
    let events = app.events("passkey_removed").await;
    assert_eq!(events.len(), 1);
    assert_eq!((events[0].0, events[0].1), (Some(ada.id), Some(admin.id)));
    assert!(events[0].2.contains("by an admin"), "{}", events[0].2);
    // The session the passkey started is signed out; the password's is not.
    assert!(
        events[0].2.ends_with("1 session(s) signed out"),
        "{}",
        events[0].2
    );
    let revoked = |sid: String| async {
        app.state()
            .db
            .run(move |conn| gatehouse::db::session::Session::find(conn, &sid))
            .await
            .unwrap()
            .unwrap()
            .revoked_at
            .is_some()
    };
    assert!(revoked(with_passkey).await);
    assert!(!revoked(with_password).await);
    assert!(gatehouse::services::passkey::list(app.state(), ada.id)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(app.post_form(&action, &[]).await.status(), Status::NotFound);
}

async fn the_command_line_lists_and_removes_passkeys(app: TestApp) {
    let ada = app.create_user("ada@example.com", "Ada", Role::User).await;
    user_with_passkey(&app, "ada@example.com").await;
    let id = gatehouse::services::passkey::list(app.state(), ada.id)
        .await
        .unwrap()[0]
        .id;
    let url = app.url.clone();
    let run = move |command: UserCommand| {
        let config = Config::from_figment(&figment(&url)).unwrap();
        execute(Command::User(command), config)
    };
    let (out, removed, again, after) = rocket::tokio::task::spawn_blocking(move || {
        let email = "ada@example.com".to_owned();
        let out = run(UserCommand::Passkeys { email: email.clone() }).unwrap();
        let removed = run(UserCommand::RemovePasskey {
            email: email.clone(),
            id,
        })
        .unwrap();
        let again = run(UserCommand::RemovePasskey {
            email: email.clone(),
            id,
        })
        .unwrap_err();
        let after = run(UserCommand::Passkeys { email }).unwrap();
        (out, removed, again, after)
    })
    .await
    .unwrap();
    assert!(
        out.contains("Laptop") && out.contains("this device only") && out.contains("never"),
        "{out}"
    );
    assert!(out.contains(&id.to_string()), "{out}");
    assert!(removed.contains("removed"), "{removed}");
    assert!(again.to_string().contains("no passkey"), "{again}");
    assert!(after.contains("no passkeys"), "{after}");
    let events = app.events("passkey_removed").await;
    assert_eq!(
        events,
        vec![(
            Some(ada.id),
            None,
            "Laptop (from the command line); 0 session(s) signed out".to_owned()
        )]
    );
    // The words people type.
    use clap::Parser;
    let cli =
        gatehouse::cli::Cli::try_parse_from(["gatehouse", "user", "remove-passkey", "ada@example.com", "3"])
            .unwrap();
    assert!(matches!(
        cli.command,
        Some(Command::User(UserCommand::RemovePasskey { id: 3, .. }))
    ));
}
