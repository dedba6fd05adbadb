//! `/auth/google/link`: a signed-in person links Google from the account
//! page.

use gatehouse::domain::Role;
use oauth2::url::Url;
use rocket::http::{ContentType, Header, Status};
use rocket::local::asynchronous::LocalResponse;

use super::provider::Provider;
use super::{assert_refused, authorize, sign_in, signed_in_as, spawn};
use crate::backend_tests;
use crate::common::{assert_redirect_to, Backend};

backend_tests!(linking_from_the_account_page);

async fn linking_from_the_account_page(backend: Backend) {
    let provider = Provider::start();
    let app = spawn(backend, &provider, &[]).await;
    app.create_user("ada@example.com", "Ada", Role::Admin).await;
    // Signed out: nothing to link to.
    let res = app.client.post("/auth/google/link").dispatch().await;
    assert_eq!(res.status(), Status::SeeOther);
    assert!(res.headers().get_one("Location").unwrap().starts_with("/login"));

    // Signed in (fresh, with a password): the button, the provider, and back
    // on the account page, linked, whatever email Google has.
    app.sign_in("ada@example.com").await;
    let account = app.get("/account").await.into_string().await.unwrap();
    assert!(account.contains("action=\"/auth/google/link\""), "a link button");
    let csrf = crate::common::csrf_in(&account).unwrap();
    let res = app
        .client
        .post("/auth/google/link")
        .header(ContentType::Form)
        .body(format!("csrf_token={csrf}"))
        .dispatch()
        .await;
    let url = onward(res).await;
    let res = app.get(&authorize(&url).await).await;
    assert_redirect_to(&res, "/account");
    let account = app.get("/account").await.into_string().await.unwrap();
    assert!(account.contains("Google is linked"));
    let ada = app.find_user("ada@example.com").await.unwrap();
    assert_eq!(ada.google_sub.as_deref(), Some("google-sub-1"));
    // An admin sees it on the user's page (Ada is an admin: her own page).
    let admin_view = app
        .get(&format!("/admin/users/{}", ada.id))
        .await
        .into_string()
        .await
        .unwrap();
    assert!(
        admin_view.contains("<dt>Google</dt><dd>Linked</dd>"),
        "{admin_view}"
    );
    // And now Google signs her in (an admin, linked by her own hand).
    app.sign_out().await;
    assert_redirect_to(&sign_in(&app, "/").await, "/");
    assert_eq!(signed_in_as(&app).await.as_deref(), Some("ada@example.com"));

    // A Google account already linked elsewhere can't be linked again.
    app.create_user("bob@example.com", "Bob", Role::User).await;
    app.sign_out().await;
    app.sign_in("bob@example.com").await;
    let res = app
        .client
        .post("/auth/google/link")
        .header(Header::new("X-CSRF-TOKEN", app.csrf_cookie()))
        .dispatch()
        .await;
    let url = onward(res).await;
    assert_refused(
        app.get(&authorize(&url).await).await,
        Status::Unauthorized,
        "subject_taken",
    )
    .await;
    assert!(app
        .find_user("bob@example.com")
        .await
        .unwrap()
        .google_sub
        .is_none());
}

/// The provider's authorization URL from the page the link button's POST
/// answers: no redirect (Chromium would check it against the CSP's
/// `form-action 'self'`), but a page that refreshes to it, with a link.
async fn onward(res: LocalResponse<'_>) -> Url {
    assert_eq!(res.status(), Status::Ok);
    let csp = res
        .headers()
        .get_one("Content-Security-Policy")
        .unwrap()
        .to_owned();
    assert!(csp.contains("form-action 'self';"), "{csp}");
    let page = res.into_string().await.unwrap();
    let attr = |prefix: &str| -> String {
        let start = page
            .find(prefix)
            .unwrap_or_else(|| panic!("no {prefix} in {page}"))
            + prefix.len();
        let end = page[start..].find('"').unwrap();
        // Tera's escapes in an attribute value.
        page[start..start + end]
            .replace("&#x2F;", "/")
            .replace("&#x27;", "'")
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&")
    };
    let refresh = attr("<meta http-equiv=\"refresh\" content=\"0; url=");
    let link = attr("id=\"google-onward\" href=\"");
    assert_eq!(refresh, link);
    Url::parse(&link).unwrap()
}
