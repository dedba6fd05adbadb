//! The account a verified ID token signs in to: by the provider's subject,
//! else (as configured) the account with the same verified email, else (as
//! configured) a new one; then a session. All in one transaction: a refused
//! sign-in links and creates nothing.

use diesel::Connection;

use super::{IdClaims, OidcError};
use crate::app::Gatehouse;
use crate::auth::signin::{issue_tokens, new_refresh_jti, open_session, SignedIn};
use crate::db::audit::{self, EventKind, NewEvent};
use crate::db::session::Device;
use crate::db::user::{NewUser, User};
use crate::db::DbConn;
use crate::domain::{Email, Role};

/// Signs in the person a verified ID token names. `remember` gives the
/// session the longer lifetime (API clients, which keep their own tokens).
pub async fn sign_in(
    app: &Gatehouse,
    claims: IdClaims,
    device: Device,
    remember: bool,
) -> Result<SignedIn, OidcError> {
    let Some(provider) = app.oidc.as_ref() else {
        return Err(OidcError::BadRequest("Google sign-in is not configured.".into()));
    };
    let config = &provider.config;
    if !claims.email_verified() {
        return Err(OidcError::EmailNotVerified);
    }
    let email = claims
        .email
        .as_deref()
        .and_then(|e| Email::parse(e).ok())
        .ok_or(OidcError::NoEmail)?;
    if !config.allowed_domains.is_empty() {
        let hd = claims.hd.as_deref().map(str::to_ascii_lowercase);
        if !hd.is_some_and(|hd| config.allowed_domains.contains(&hd)) {
            return Err(OidcError::DomainNotAllowed);
        }
    }
    let (link, create) = (config.link_by_email, config.auto_register);
    let lifetime = app.session_lifetime(remember);
    let refresh_jti = new_refresh_jti();
    let jti = refresh_jti.clone();
    let (user, session) = app
        .db
        .run(move |conn| {
            Ok(conn.transaction(|conn| {
                let user = find_or_create(conn, &claims, email, link, create, &device)?;
                if user.disabled {
                    return Err(OidcError::Disabled);
                }
                let session = open_session(conn, user.id, &device, remember, "google", lifetime, &jti)?;
                Ok((user, session))
            }))
        })
        .await??;
    Ok(issue_tokens(app, user, session, &refresh_jti)?)
}

fn find_or_create(
    conn: &mut DbConn,
    claims: &IdClaims,
    email: Email,
    link_by_email: bool,
    auto_register: bool,
    device: &Device,
) -> Result<User, OidcError> {
    if let Some(user) = User::find_by_google_sub(conn, &claims.sub)? {
        return Ok(user);
    }
    if let Some(user) = User::find_by_email(conn, &email)? {
        if user.google_sub.is_some() {
            return Err(OidcError::LinkedElsewhere);
        }
        if !link_by_email {
            return Err(OidcError::LinkNotAllowed);
        }
        let user = User::link_google(conn, user.id, &claims.sub)?;
        audit::record(
            conn,
            NewEvent {
                user_id: Some(user.id),
                device: Some(device),
                detail: "linked by verified email",
                ..NewEvent::new(EventKind::GoogleLinked)
            },
        )?;
        return Ok(user);
    }
    if !auto_register {
        return Err(OidcError::NoAccount);
    }
    let user = User::create(
        conn,
        NewUser {
            email,
            name: claims.name.clone().unwrap_or_default(),
            password_hash: None,
            role: Role::User,
        },
    )?;
    let user = User::link_google(conn, user.id, &claims.sub)?;
    audit::record(
        conn,
        NewEvent {
            user_id: Some(user.id),
            device: Some(device),
            detail: "registered by Google sign-in",
            ..NewEvent::new(EventKind::UserCreated)
        },
    )?;
    Ok(user)
}

/// Writes a refused Google sign-in to the audit log.
pub async fn record_failure(app: &Gatehouse, error: &OidcError, email: Option<String>, device: Device) {
    let detail = format!("google: {}", error.code());
    let result = app
        .db
        .run(move |conn| {
            let user_id = match email.as_deref().map(Email::parse) {
                Some(Ok(email)) => User::find_by_email(conn, &email)?.map(|u| u.id),
                _ => None,
            };
            audit::record(
                conn,
                NewEvent {
                    user_id,
                    email: email.as_deref(),
                    device: Some(&device),
                    detail: &detail,
                    ..NewEvent::new(EventKind::SignInFailed)
                },
            )
        })
        .await;
    if let Err(e) = result {
        log::error!("could not record a refused Google sign-in: {}", e.chain());
    }
}
