//! `/account/two-factor`: the secret, confirmed by a right code (a wrong one
//! leaves it off), recovery codes shown once, new ones, and turning it off
//! with a code.

use gatehouse::domain::Role;
use rocket::http::{ContentType, Status};

use super::{code, turn_on, wrong_code};
use crate::common::{assert_redirect_to, form_body, TestApp};
use crate::db_tests;

db_tests!(
    turning_on_needs_a_right_code,
    changes_need_a_fresh_sign_in,
    turning_off_needs_a_current_code,
    new_recovery_codes_replace_the_old,
);

fn secret_on(page: &str) -> String {
    let start =
        page.find("id=\"totp-secret\">").expect("the secret on the page") + "id=\"totp-secret\">".len();
    let end = page[start..].find('<').unwrap() + start;
    page[start..end].replace(' ', "")
}

async fn turning_on_needs_a_right_code(app: TestApp) {
    app.create_user("ada@example.com", "Ada", Role::User).await;
    app.sign_in("ada@example.com").await;
    let page = app.get("/account/two-factor").await.into_string().await.unwrap();
    assert!(
        page.contains("Two-factor sign-in is <strong>off</strong>"),
        "{page}"
    );
    let account = app.get("/account").await.into_string().await.unwrap();
    assert!(account.contains("href=\"/account/two-factor\""));

    let res = app.post_form("/account/two-factor/setup", &[]).await;
    assert_eq!(res.status(), Status::Ok);
    let page = res.into_string().await.unwrap();
    let secret = secret_on(&page);
    assert_eq!(secret.len(), 32, "a 160-bit base32 secret: {secret}");
    // The QR code is inline SVG made here, no style attribute or script.
    assert!(page.contains("<svg role=\"img\""), "{page}");
    assert!(!page.contains("style=") && !page.contains("<script"));
    // The same pending secret until it is confirmed.
    let again = app.post_form("/account/two-factor/setup", &[]).await;
    assert_eq!(secret_on(&again.into_string().await.unwrap()), secret);

    // A wrong code: refused, next to the field; still off.
    let res = app
        .post_form("/account/two-factor/confirm", &[("code", &wrong_code(&secret))])
        .await;
    assert_eq!(res.status(), Status::UnprocessableEntity);
    let page = res.into_string().await.unwrap();
    assert!(page.contains("id=\"code-error\"") && page.contains("aria-describedby=\"code-error\""));
    assert!(app
        .find_user("ada@example.com")
        .await
        .unwrap()
        .totp_enabled_at
        .is_none());

    // The right one: on, with ten recovery codes shown once.
    let res = app
        .post_form("/account/two-factor/confirm", &[("code", &code(&secret, 0))])
        .await;
    assert_eq!(res.status(), Status::Ok);
    let page = res.into_string().await.unwrap();
    assert_eq!(page.matches("<li><code>").count(), 10, "{page}");
    assert!(app.find_user("ada@example.com").await.unwrap().two_factor_on());
    assert!(app.audit_kinds().await.contains(&"two_factor_enabled".to_owned()));
    let page = app.get("/account/two-factor").await.into_string().await.unwrap();
    assert!(page.contains("Two-factor sign-in is <strong>on</strong>"));
    assert!(page.contains("id=\"recovery-left\">10<"), "{page}");
    assert!(!page.contains("totp-secret"), "the secret is never shown again");
    // Stored hashed: no recovery code in the database as typed.
    let stored = app
        .state()
        .db
        .run(|conn| {
            use diesel::prelude::*;
            use gatehouse::db::schema::recovery_codes;
            Ok(recovery_codes::table
                .select(recovery_codes::code_hash)
                .load::<String>(conn)?)
        })
        .await
        .unwrap();
    assert_eq!(stored.len(), 10);
    assert!(stored.iter().all(|h| h.len() == 64 && !h.contains('-')));
}

async fn changes_need_a_fresh_sign_in(app: TestApp) {
    let user = app.create_user("ada@example.com", "Ada", Role::User).await;
    // A renewed (not fresh) token: every change sends the browser to sign
    // in again, and nothing changes.
    let stale = gatehouse::testing::sign_in_stale(app.state(), &user)
        .await
        .unwrap();
    for path in [
        "/account/two-factor/setup",
        "/account/two-factor/confirm",
        "/account/two-factor/disable",
        "/account/two-factor/recovery-codes",
    ] {
        let res = app
            .bare
            .post(path)
            .cookies(stale.cookies())
            .header(ContentType::Form)
            .body(form_body(&[("csrf_token", &stale.csrf), ("code", "123456")]))
            .dispatch()
            .await;
        assert_redirect_to(&res, "/login");
    }
    assert!(app
        .find_user("ada@example.com")
        .await
        .unwrap()
        .totp_enabled_at
        .is_none());
    let pending = app
        .state()
        .db
        .run(move |conn| gatehouse::db::two_factor::TotpSecret::find(conn, user.id))
        .await
        .unwrap();
    assert!(pending.is_none(), "no secret made without a fresh sign-in");
}

async fn turning_off_needs_a_current_code(app: TestApp) {
    app.create_user("ada@example.com", "Ada", Role::User).await;
    let (secret, codes) = turn_on(&app, "ada@example.com").await;
    app.sign_in_form("ada@example.com", crate::common::PASSWORD, &[])
        .await;
    assert_redirect_to(&app.code_form(&code(&secret, 1)).await, "/");

    let res = app
        .post_form("/account/two-factor/disable", &[("code", &wrong_code(&secret))])
        .await;
    assert_eq!(res.status(), Status::UnprocessableEntity);
    assert!(app.find_user("ada@example.com").await.unwrap().two_factor_on());
    let res = app
        .post_form("/account/two-factor/disable", &[("code", "")])
        .await;
    assert_eq!(res.status(), Status::UnprocessableEntity);
    assert!(app.audit_kinds().await.contains(&"two_factor_failed".to_owned()));

    // A recovery code does it too (here: the current code's step was used
    // at sign-in, so only a recovery code or the next step's code works).
    let res = app
        .post_form("/account/two-factor/disable", &[("code", &codes[3])])
        .await;
    assert_redirect_to(&res, "/account/two-factor");
    let user = app.find_user("ada@example.com").await.unwrap();
    assert!(!user.two_factor_on());
    assert!(app
        .audit_kinds()
        .await
        .contains(&"two_factor_disabled".to_owned()));
    // Password alone signs in again.
    app.sign_out().await;
    app.sign_in("ada@example.com").await;
}

async fn new_recovery_codes_replace_the_old(app: TestApp) {
    app.create_user("ada@example.com", "Ada", Role::User).await;
    let (secret, old) = turn_on(&app, "ada@example.com").await;
    app.sign_in_form("ada@example.com", crate::common::PASSWORD, &[])
        .await;
    assert_redirect_to(&app.code_form(&code(&secret, 1)).await, "/");
    // Not without a code: a session that never gave one (a Google
    // sign-in) must not mint codes that turn two-factor off.
    for wrong in ["", &wrong_code(&secret)] {
        let res = app
            .post_form("/account/two-factor/recovery-codes", &[("code", wrong)])
            .await;
        assert_eq!(res.status(), Status::UnprocessableEntity);
        let page = res.into_string().await.unwrap();
        assert!(page.contains("id=\"regen_code-error\""), "{page}");
        assert!(!page.contains("<li><code>"), "no codes shown");
    }
    // (The current step's code was used at sign-in: a recovery code.)
    let res = app
        .post_form("/account/two-factor/recovery-codes", &[("code", &old[1])])
        .await;
    assert_eq!(res.status(), Status::Ok);
    let page = res.into_string().await.unwrap();
    assert_eq!(page.matches("<li><code>").count(), 10);
    assert!(!page.contains(&old[0]));
    assert!(app
        .audit_kinds()
        .await
        .contains(&"recovery_codes_regenerated".to_owned()));
    // The old codes no longer sign in.
    app.sign_out().await;
    app.sign_in_form("ada@example.com", crate::common::PASSWORD, &[])
        .await;
    assert_eq!(app.code_form(&old[0]).await.status(), Status::Unauthorized);
}
