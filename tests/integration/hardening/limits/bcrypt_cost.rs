//! After a change of `password.bcrypt_cost`, an account's hash moves to the
//! new cost at its next sign-in (a wrong password leaves it as it is). That
//! a failed check of a cheaper hash costs as much as the configured one is
//! shown by the unit tests beside `auth::password` (`harden`), without a
//! clock: speed is measured by hand, never asserted.

use gatehouse::auth::password::stored_cost;
use gatehouse::domain::Role;
use rocket::http::Status;

use super::api_sign_in;
use crate::common::{TestApp, PASSWORD};
use crate::db_tests;

db_tests!(
    a_sign_in_moves_the_hash_to_the_configured_cost,
    a_locked_account_is_not_rehashed,
);

async fn set_hash(app: &TestApp, id: i32, hash: String) {
    app.state()
        .db
        .run(move |conn| {
            use diesel::prelude::*;
            use gatehouse::db::schema::users;
            diesel::update(users::table.find(id))
                .set(users::password_hash.eq(hash))
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
}

async fn hash_of(app: &TestApp, email: &str) -> String {
    app.find_user(email).await.unwrap().password_hash.unwrap()
}

async fn a_sign_in_moves_the_hash_to_the_configured_cost(app: TestApp) {
    // The test app runs at cost 10; the account was hashed at 4 (before the
    // cost was raised).
    let user = app.create_user("ada@example.com", "Ada", Role::User).await;
    let cheap = bcrypt::hash(PASSWORD, 4).unwrap();
    set_hash(&app, user.id, cheap.clone()).await;
    let peer = "198.51.100.40:1";
    let wrong = api_sign_in(&app.client, peer, None, "ada@example.com", "wrong guess").await;
    assert_eq!(wrong, Status::Unauthorized);
    assert_eq!(
        hash_of(&app, "ada@example.com").await,
        cheap,
        "a wrong password changes nothing"
    );

    let right = api_sign_in(&app.client, peer, None, "ada@example.com", PASSWORD).await;
    assert_eq!(right, Status::Ok);
    let upgraded = hash_of(&app, "ada@example.com").await;
    assert_eq!(
        stored_cost(&upgraded),
        Some(10),
        "re-hashed at the configured cost"
    );
    assert!(bcrypt::verify(PASSWORD, &upgraded).unwrap());
    assert_eq!(
        api_sign_in(&app.client, peer, None, "ada@example.com", PASSWORD).await,
        Status::Ok
    );
    assert_eq!(hash_of(&app, "ada@example.com").await, upgraded, "once only");

    // A lowered cost is followed too.
    set_hash(&app, user.id, bcrypt::hash(PASSWORD, 11).unwrap()).await;
    assert_eq!(
        api_sign_in(&app.client, peer, None, "ada@example.com", PASSWORD).await,
        Status::Ok
    );
    assert_eq!(stored_cost(&hash_of(&app, "ada@example.com").await), Some(10));
}

/// A right guess on a locked account is refused like a wrong one and does
/// no more work: no new hash (which would make it measurably slower).
async fn a_locked_account_is_not_rehashed(app: TestApp) {
    let user = app.create_user("ada@example.com", "Ada", Role::User).await;
    let cheap = bcrypt::hash(PASSWORD, 4).unwrap();
    set_hash(&app, user.id, cheap.clone()).await;
    let id = user.id;
    app.state()
        .db
        .run(move |conn| {
            use diesel::prelude::*;
            use gatehouse::db::schema::users;
            diesel::update(users::table.find(id))
                .set(users::locked_until.eq(Some(gatehouse::domain::now() + 600)))
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
    let peer = "198.51.100.41:1";
    let right = api_sign_in(&app.client, peer, None, "ada@example.com", PASSWORD).await;
    assert_eq!(
        right,
        Status::Unauthorized,
        "locked: refused like a wrong password"
    );
    assert_eq!(
        hash_of(&app, "ada@example.com").await,
        cheap,
        "not re-hashed while locked"
    );
}
