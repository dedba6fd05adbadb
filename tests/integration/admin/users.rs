//! `/admin/users/new` and `/admin/users/{id}/edit`: creating users (with a
//! password the admin sets, or a temporary one they must change), editing
//! them, and resetting a password.

use gatehouse::domain::Role;
use gatehouse::testing;
use rocket::http::Status;

use super::{admin_browser, between};
use crate::common::{assert_redirect_to, TestApp, PASSWORD};
use crate::db_tests;

db_tests!(create_and_edit_users, temporary_passwords_must_be_changed);

async fn create_and_edit_users(app: TestApp) {
    let (_, admin) = admin_browser(&app).await;
    app.create_user("taken@example.com", "", Role::User).await;
    let page = admin.get("/admin/users/new").await.into_string().await.unwrap();
    assert!(page.contains("<label for=\"email\">") && page.contains("Create user"));

    // Errors next to their fields, values kept.
    let res = admin
        .post(
            "/admin/users",
            &[
                ("email", "not an email"),
                ("name", "Ada Lovelace"),
                ("role", "admin"),
                ("password_choice", "set"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(res.status(), Status::UnprocessableEntity);
    let page = res.into_string().await.unwrap();
    assert!(page.contains("id=\"email-error\">Enter an email address like name@example.com."));
    assert!(page.contains("id=\"password-error\">Use at least 8 characters."));
    assert!(page.contains("value=\"not an email\"") && page.contains("value=\"Ada Lovelace\""));
    assert!(page.contains("<option value=\"admin\" selected>"));
    assert!(page.contains("value=\"set\" id=\"choice-set\" checked"));
    let res = admin
        .post(
            "/admin/users",
            &[
                ("email", "Taken@Example.com"),
                ("name", ""),
                ("role", "user"),
                ("password_choice", "temporary"),
                ("password", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), Status::UnprocessableEntity);
    assert!(res
        .into_string()
        .await
        .unwrap()
        .contains("id=\"email-error\">An account with that email already exists."));

    // With a password chosen by the admin: the user can sign in with it.
    let res = admin
        .post(
            "/admin/users",
            &[
                ("email", "Ada@Example.com"),
                ("name", "Ada"),
                ("role", "user"),
                ("password_choice", "set"),
                ("password", PASSWORD),
            ],
        )
        .await;
    let ada = app.find_user("ada@example.com").await.expect("created");
    assert_redirect_to(&res, &format!("/admin/users/{}", ada.id));
    let (_, _, page) = admin.follow(res).await;
    assert!(page.contains("ada@example.com is created."));
    assert!(!ada.must_change_password && ada.role == "user");
    let browser = app.browser().await;
    assert_redirect_to(&browser.sign_in("ada@example.com", PASSWORD).await, "/");

    // Edit: errors by field, then a good edit; the new role holds at once.
    let edit = format!("/admin/users/{}/edit", ada.id);
    let page = admin.get(&edit).await.into_string().await.unwrap();
    assert!(page.contains("value=\"ada@example.com\"") && page.contains("value=\"Ada\""));
    let res = admin
        .post(
            &edit,
            &[
                ("email", "taken@example.com"),
                ("name", &"x".repeat(101)),
                ("role", "root"),
            ],
        )
        .await;
    assert_eq!(res.status(), Status::UnprocessableEntity);
    let page = res.into_string().await.unwrap();
    assert!(page.contains("id=\"name-error\">Use at most 100 characters."));
    assert!(page.contains("id=\"role-error\">Choose user or admin."));
    assert!(page.contains("value=\"taken@example.com\""));
    let res = admin
        .post(
            &edit,
            &[("email", "taken@example.com"), ("name", "Ada"), ("role", "user")],
        )
        .await;
    assert!(res
        .into_string()
        .await
        .unwrap()
        .contains("id=\"email-error\">An account with that email already exists."));
    assert_eq!(browser.get("/admin").await.status(), Status::Forbidden);
    let res = admin
        .post(
            &edit,
            &[
                ("email", "ada.lovelace@example.com"),
                ("name", "Ada Lovelace"),
                ("role", "admin"),
            ],
        )
        .await;
    let (_, _, page) = admin.follow(res).await;
    assert!(page.contains("ada.lovelace@example.com is saved."));
    let ada = app.find_user("ada.lovelace@example.com").await.unwrap();
    assert_eq!((ada.name.as_str(), ada.role.as_str()), ("Ada Lovelace", "admin"));
    assert_eq!(
        browser.get("/admin").await.status(),
        Status::Ok,
        "promoted: at once"
    );
    let kinds = app.audit_kinds().await;
    for kind in ["user_created", "user_updated", "role_changed"] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
    }
}

async fn temporary_passwords_must_be_changed(app: TestApp) {
    let (_, admin) = admin_browser(&app).await;
    // An invitation: a temporary password, shown once.
    let res = admin
        .post(
            "/admin/users",
            &[
                ("email", "ada@example.com"),
                ("name", "Ada"),
                ("role", "user"),
                ("password_choice", "temporary"),
                ("password", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), Status::Ok);
    let page = res.into_string().await.unwrap();
    let temporary = between(&page, "<code>", "</code>").to_owned();
    assert_eq!(temporary.len(), 19, "{temporary}");
    let ada = app.find_user("ada@example.com").await.unwrap();
    assert!(ada.must_change_password);

    // Ada signs in with it and is held at the password change until done.
    let browser = app.browser().await;
    let res = browser.sign_in("ada@example.com", &temporary).await;
    assert_redirect_to(&res, "/");
    for path in ["/", "/protected", "/items", "/admin"] {
        let res = browser.get(path).await;
        assert_redirect_to(&res, "/account");
    }
    let (status, path, page) = browser.follow(browser.get("/protected").await).await;
    assert_eq!((status, path.as_str()), (Status::Ok, "/account"));
    assert!(page.contains("Choose a new password to continue"));
    let res = app
        .bare
        .get("/api/v1/private")
        .header(testing::sign_in(app.state(), &ada).await.unwrap().authorization())
        .dispatch()
        .await;
    assert_eq!(res.status(), Status::Forbidden);
    assert_eq!(
        res.into_json::<serde_json::Value>().await.unwrap()["description"],
        "Password change required"
    );
    let res = browser
        .post(
            "/account/password",
            &[
                ("current_password", &temporary),
                ("new_password", "my very own passphrase"),
                ("confirm_password", "my very own passphrase"),
            ],
        )
        .await;
    assert_redirect_to(&res, "/account");
    assert_eq!(browser.get("/protected").await.status(), Status::Ok, "free to go");
    assert!(
        !app.find_user("ada@example.com")
            .await
            .unwrap()
            .must_change_password
    );

    // A reset: another temporary password, Ada's sessions end.
    let res = admin
        .post(&format!("/admin/users/{}/reset-password", ada.id), &[])
        .await;
    assert_eq!(res.status(), Status::Ok);
    let page = res.into_string().await.unwrap();
    assert!(
        page.contains("2 open session(s) were signed out"),
        "the browser's and the API's"
    );
    let temporary = between(&page, "<code>", "</code>").to_owned();
    assert_redirect_to(&browser.get("/protected").await, "/login?next=/protected");
    let res = browser.sign_in("ada@example.com", "my very own passphrase").await;
    assert_eq!(res.status(), Status::Unauthorized, "the old password is gone");
    assert_redirect_to(&browser.sign_in("ada@example.com", &temporary).await, "/");
    assert_redirect_to(&browser.get("/protected").await, "/account");
    assert!(app.audit_kinds().await.iter().any(|k| k == "password_reset"));
}
