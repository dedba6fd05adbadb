//! The account a verified ID token signs in to: by the provider's subject,
//! else (as configured) the account with the same verified email, else (as
//! configured) a new one; then a session. All in one transaction: a refused
//! sign-in links and creates nothing.

use crate::auth::oidc::{IdClaims, OidcError};
use crate::db::audit::{self, EventKind, NewEvent};
use crate::db::session::Device;
use crate::db::user::{NewUser, User};
use crate::db::DbConn;
use crate::domain::{DisplayName, Email, Role};
use crate::error::Error;
use crate::services::signin::{issue_tokens, new_refresh_jti, open_session, SignedIn};
use crate::state::Gatehouse;

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
    check_domain(&config.allowed_domains, &claims)?;
    let (issuer, link_by_email, auto_register) =
        (config.issuer.clone(), config.link_by_email, config.auto_register);
    let lifetime = app.session_lifetime(remember);
    let refresh_jti = new_refresh_jti();
    let jti = refresh_jti.clone();
    let (user, session) = app
        .db
        .run(move |conn| {
            Ok(conn.write(|conn| {
                let rules = Rules {
                    issuer: &issuer,
                    link_by_email,
                    auto_register,
                };
                let user = find_or_create(conn, &claims, email, &rules, &device)?;
                if user.disabled {
                    return Err(OidcError::Disabled);
                }
                let session = open_session(conn, user.id, &device, remember, "google", lifetime, &jti)?;
                Ok((user, session))
            }))
        })
        .await??;
    if let Some(m) = &app.metrics {
        m.sign_in("google");
    }
    Ok(issue_tokens(app, user, session, &refresh_jti)?)
}

/// Whether the provider's word on this email can be trusted enough to link
/// an existing account by it. Google says its `email_verified` is
/// authoritative only for Gmail addresses and for a Workspace account's own
/// domain (`hd`); another provider is trusted as configured.
fn authoritative(issuer: &str, claims: &IdClaims, email: &Email) -> bool {
    if issuer != GOOGLE_ISSUER {
        return true;
    }
    let domain = email.as_str().rsplit('@').next().unwrap_or("");
    matches!(domain, "gmail.com" | "googlemail.com")
        || claims
            .hd
            .as_deref()
            .is_some_and(|hd| hd.eq_ignore_ascii_case(domain))
}

const GOOGLE_ISSUER: &str = "https://accounts.google.com";

/// A lost race with another sign-in of the same person (a unique key).
fn conflict(e: Error) -> OidcError {
    match e {
        Error::EmailTaken | Error::Invalid(_) => OidcError::Conflict,
        other => OidcError::Other(other),
    }
}

fn find_or_create(
    conn: &mut DbConn,
    claims: &IdClaims,
    email: Email,
    rules: &Rules<'_>,
    device: &Device,
) -> Result<User, OidcError> {
    if let Some(user) = User::find_by_google_sub(conn, &claims.sub)? {
        return Ok(user);
    }
    if let Some(user) = User::find_by_email(conn, &email)? {
        if user.google_sub.is_some() {
            return Err(OidcError::LinkedElsewhere);
        }
        // Never link an admin by email: whoever controls the address at
        // the provider would get the admin's account. Nor an account with
        // two-factor sign-in on: Google isn't asked for its code.
        if !rules.link_by_email
            || user.is_admin()
            || user.two_factor_on()
            || !authoritative(rules.issuer, claims, &email)
        {
            return Err(OidcError::LinkNotAllowed);
        }
        let user = User::link_google(conn, user.id, &claims.sub).map_err(conflict)?;
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
    if !rules.auto_register {
        return Err(OidcError::NoAccount);
    }
    let user = User::create(
        conn,
        NewUser {
            email,
            name: DisplayName::from_provider(claims.name.as_deref().unwrap_or_default()),
            password_hash: None,
            role: Role::User,
        },
    )
    .map_err(conflict)?;
    let user = User::link_google(conn, user.id, &claims.sub).map_err(conflict)?;
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

struct Rules<'a> {
    issuer: &'a str,
    link_by_email: bool,
    auto_register: bool,
}

/// Links the signed-in person's account to the Google account a verified ID
/// token names (they asked for it from their account page, so the emails
/// need not match).
pub async fn link(app: &Gatehouse, user_id: i32, claims: IdClaims, device: Device) -> Result<(), OidcError> {
    let provider = app
        .oidc
        .as_ref()
        .ok_or_else(|| OidcError::BadRequest("Google sign-in is not configured.".into()))?;
    check_domain(&provider.config.allowed_domains, &claims)?;
    app.db
        .run(move |conn| {
            Ok(conn.write(|conn| {
                match User::find_by_google_sub(conn, &claims.sub)? {
                    Some(owner) if owner.id == user_id => return Ok(()),
                    Some(_) => return Err(OidcError::SubjectTaken),
                    None => {}
                }
                let user = User::find(conn, user_id)?.ok_or(OidcError::LinkNeedsSignIn)?;
                if user.google_sub.is_some() {
                    return Err(OidcError::LinkedElsewhere);
                }
                User::link_google(conn, user_id, &claims.sub).map_err(conflict)?;
                audit::record(
                    conn,
                    NewEvent {
                        user_id: Some(user_id),
                        device: Some(&device),
                        detail: "linked from the account page",
                        ..NewEvent::new(EventKind::GoogleLinked)
                    },
                )?;
                Ok(())
            }))
        })
        .await?
}

fn check_domain(allowed: &[String], claims: &IdClaims) -> Result<(), OidcError> {
    if allowed.is_empty() {
        return Ok(());
    }
    let hd = claims.hd.as_deref().map(str::to_ascii_lowercase);
    if hd.is_some_and(|hd| allowed.contains(&hd)) {
        Ok(())
    } else {
        Err(OidcError::DomainNotAllowed)
    }
}

/// Writes a refused Google sign-in to the audit log.
pub async fn record_failure(app: &Gatehouse, error: &OidcError, email: Option<String>, device: Device) {
    if let Some(m) = &app.metrics {
        m.sign_in_failed("google");
    }
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
