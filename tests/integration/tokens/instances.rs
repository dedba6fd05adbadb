//! Two instances of the app on one database (as behind a load balancer):
//! a sign-out, a disabled account or a demotion on one holds at the very
//! next request on the other, on both backends. Nothing caches whether a
//! session is valid; on SQLite the check reads through its own read-only
//! connection, which must see the other instance's write at once.

use gatehouse::db::user::User;
use gatehouse::domain::Role;
use rocket::http::{Cookie, Status};

use crate::common::{assert_redirect_to, TestApp};
use crate::db_tests;

db_tests!(
    sign_out_holds_on_the_other_instance,
    disabling_holds_on_the_other_instance,
    demotion_holds_on_the_other_instance,
);

/// The signed-in browser's access cookie, for the other instance.
fn access(app: &TestApp) -> Cookie<'static> {
    Cookie::new("access_token_cookie", app.access_cookie().unwrap())
}

async fn sign_out_holds_on_the_other_instance(app: TestApp) {
    app.create_user("ada@example.com", "Ada", Role::User).await;
    app.sign_in("ada@example.com").await;
    let cookie = access(&app);
    let res = app.bare.get("/protected").cookie(cookie.clone()).dispatch().await;
    assert_eq!(res.status(), Status::Ok, "the other instance takes the token");
    app.sign_out().await;
    let res = app.bare.get("/protected").cookie(cookie).dispatch().await;
    assert_redirect_to(&res, "/login?next=/protected");
}

async fn disabling_holds_on_the_other_instance(app: TestApp) {
    let ada = app.create_user("ada@example.com", "Ada", Role::User).await;
    app.sign_in("ada@example.com").await;
    let cookie = access(&app);
    let res = app.bare.get("/protected").cookie(cookie.clone()).dispatch().await;
    assert_eq!(res.status(), Status::Ok);
    app.state()
        .db
        .run(move |conn| User::set_disabled(conn, ada.id, true))
        .await
        .unwrap();
    let res = app.bare.get("/protected").cookie(cookie.clone()).dispatch().await;
    assert_redirect_to(&res, "/login?next=/protected");
    let res = app.get("/protected").await;
    assert_redirect_to(&res, "/login?next=/protected");
}

async fn demotion_holds_on_the_other_instance(app: TestApp) {
    let root = app.create_user("root@example.com", "Root", Role::Admin).await;
    app.create_user("other@example.com", "Other", Role::Admin).await;
    app.sign_in("root@example.com").await;
    let cookie = access(&app);
    let res = app.bare.get("/admin").cookie(cookie.clone()).dispatch().await;
    assert_eq!(res.status(), Status::Ok, "an admin on the other instance");
    app.state()
        .db
        .run(move |conn| User::set_role(conn, root.id, Role::User))
        .await
        .unwrap();
    let res = app.bare.get("/admin").cookie(cookie).dispatch().await;
    assert_eq!(res.status(), Status::Forbidden, "demoted at the next request");
}
