//! An admin sees a user's passkeys (page and API) and removes one (fresh,
//! CSRF, audited with the admin as actor); the command line lists and
//! removes them.

use gatehouse::cli::{execute, Command, UserCommand};
use gatehouse::config::Config;
use gatehouse::domain::Role;
use rocket::http::Status;

use super::user_with_passkey;
use crate::common::{assert_redirect_to, figment, TestApp};
use crate::db_tests;

db_tests!(
    an_admin_removes_a_passkey,
    the_command_line_lists_and_removes_passkeys
);

async fn an_admin_removes_a_passkey(app: TestApp) {
    let ada = app.create_user("ada@example.com", "Ada", Role::User).await;
    user_with_passkey(&app, "ada@example.com").await;
    let passkey = gatehouse::services::passkey::list(app.state(), ada.id)
        .await
        .unwrap()
        .remove(0);
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
    assert!(events[0].2.contains("by an admin"));
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
        vec![(Some(ada.id), None, "Laptop (from the command line)".to_owned())]
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
