//! Sign-in with Google, or any OpenID Connect provider by its issuer URL:
//! discovery, the authorization-code flow with PKCE (the `oauth2` crate),
//! the provider's keys, the ID token, and the account it signs in to.
//!
//! Outgoing requests have a connect and a total timeout, follow no
//! redirects and are read up to a size cap, and they are async: a slow or
//! dead provider costs its own sign-in a few seconds and nobody else
//! anything.

pub mod error; // OidcError: why a sign-in did not happen
mod http; // requests to the provider: capped, no redirects, https only
pub mod id_token; // checking the ID token
pub mod jwks; // the provider's keys, cached

use std::fmt;
use std::time::{Duration, Instant};

use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse, BasicTokenType,
};
use oauth2::url::Url;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, ExtraTokenFields,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope, StandardRevocableToken,
    StandardTokenResponse, TokenUrl,
};
use rocket::tokio::sync::Mutex;
use serde::{Deserialize, Serialize};

pub use error::OidcError;
use http::{max_age, read_capped, send, Capped};
pub use id_token::IdClaims;
use jwks::{KeyCache, KeySet, Lookup};

use crate::config::google::is_allowed_url;
use crate::config::OidcConfig;
use crate::error::Error;

/// The provider's endpoints, from its discovery document.
#[derive(Debug, Clone, Deserialize)]
pub struct Metadata {
    pub issuer: String,
    pub authorization_endpoint: Url,
    pub token_endpoint: Url,
    pub jwks_uri: Url,
    #[serde(default)]
    pub token_endpoint_auth_methods_supported: Option<Vec<String>>,
}

/// The token endpoint's answer: OAuth's, plus the ID token.
#[derive(Clone, Serialize, Deserialize)]
pub struct IdTokenFields {
    #[serde(default)]
    pub id_token: Option<String>,
}

impl fmt::Debug for IdTokenFields {
    /// Never prints the ID token (only whether there is one).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdTokenFields")
            .field("id_token", &self.id_token.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

impl ExtraTokenFields for IdTokenFields {}

type TokenResponse = StandardTokenResponse<IdTokenFields, BasicTokenType>;
type OAuthClient = oauth2::Client<
    BasicErrorResponse,
    TokenResponse,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    oauth2::EndpointSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointNotSet,
    oauth2::EndpointSet,
>;

/// What a started sign-in must remember until its callback.
#[derive(Clone, Serialize, Deserialize)]
pub struct Started {
    pub url: Url,
    pub state: String,
    pub nonce: String,
    pub verifier: String,
}

impl fmt::Debug for Started {
    /// Never prints the `state`, `nonce` or PKCE verifier (the URL holds
    /// the state too, so it is left out).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Started")
            .field("state", &"[redacted]")
            .field("nonce", &"[redacted]")
            .field("verifier", &"[redacted]")
            .finish_non_exhaustive()
    }
}

/// The configured provider, its HTTP client and its caches. Managed in
/// [`crate::Gatehouse`] when `[google]` is configured.
pub struct Provider {
    pub config: OidcConfig,
    http: reqwest::Client,
    metadata: Mutex<MetadataCache>,
    keys: KeyCache,
}

/// The discovery document, or the last failure to get it: while the
/// provider is down, sign-ins fail at once instead of each waiting for a
/// timeout of its own.
#[derive(Default)]
struct MetadataCache {
    document: Option<(Metadata, Instant)>,
    failed: Option<(Instant, String)>,
}

/// How long a failure to reach the provider is remembered.
pub const FAILURE_BACKOFF: Duration = Duration::from_secs(5);

/// Text from the provider, fit for a page or a log line: printable
/// characters only, and not too much of them.
pub fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(200).collect()
}

impl Provider {
    pub fn new(config: OidcConfig) -> Result<Self, Error> {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.connect_timeout)
            .timeout(config.timeout)
            .user_agent(concat!("gatehouse/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Config(format!("google: could not build the HTTP client: {e}")))?;
        Ok(Self {
            config,
            http,
            metadata: Mutex::new(MetadataCache::default()),
            keys: KeyCache::default(),
        })
    }

    /// GETs a document from the provider, up to [`http::MAX_BODY`].
    async fn get(&self, url: &Url) -> Result<(Vec<u8>, Duration), OidcError> {
        let res = send(self.http.get(url.clone()), url, self.config.loopback).await?;
        if !res.status().is_success() {
            return Err(OidcError::Unreachable(format!("{url} answered {}", res.status())));
        }
        let age = max_age(res.headers());
        Ok((read_capped(res).await?, age))
    }

    /// The discovery document, cached as its `Cache-Control` allows; a
    /// failure is remembered for [`FAILURE_BACKOFF`].
    pub async fn metadata(&self) -> Result<Metadata, OidcError> {
        let mut cache = self.metadata.lock().await;
        let now = Instant::now();
        if let Some((meta, expires)) = &cache.document {
            if *expires > now {
                return Ok(meta.clone());
            }
        }
        if let Some((at, why)) = &cache.failed {
            if now.duration_since(*at) < FAILURE_BACKOFF {
                return Err(OidcError::Unreachable(why.clone()));
            }
        }
        match self.discover().await {
            Ok((meta, age)) => {
                *cache = MetadataCache {
                    document: Some((meta.clone(), now + age)),
                    failed: None,
                };
                Ok(meta)
            }
            Err(e) => {
                log::warn!("OpenID Connect discovery at {} failed: {e:?}", self.config.issuer);
                cache.failed = Some((Instant::now(), format!("{e:?}")));
                Err(e)
            }
        }
    }

    async fn discover(&self) -> Result<(Metadata, Duration), OidcError> {
        let url = Url::parse(&format!(
            "{}/.well-known/openid-configuration",
            self.config.issuer.trim_end_matches('/')
        ))
        .map_err(|e| OidcError::Unreachable(e.to_string()))?;
        let (body, age) = self.get(&url).await?;
        let meta: Metadata = serde_json::from_slice(&body)
            .map_err(|e| OidcError::Unreachable(format!("its discovery document is not usable: {e}")))?;
        // OpenID Connect Discovery §4.3: the document must be the issuer's own.
        if meta.issuer != self.config.issuer {
            return Err(OidcError::Unreachable(format!(
                "its discovery document names the issuer `{}`, not `{}`",
                meta.issuer, self.config.issuer
            )));
        }
        for url in [&meta.authorization_endpoint, &meta.token_endpoint, &meta.jwks_uri] {
            if !is_allowed_url(url, self.config.loopback) {
                return Err(OidcError::Unreachable(format!("its endpoint {url} is not https")));
            }
        }
        Ok((meta, age))
    }

    fn client(&self, meta: &Metadata, redirect_uri: &Url) -> OAuthClient {
        let auth_type = match &meta.token_endpoint_auth_methods_supported {
            Some(methods)
                if !methods.iter().any(|m| m == "client_secret_basic")
                    && methods.iter().any(|m| m == "client_secret_post") =>
            {
                AuthType::RequestBody
            }
            _ => AuthType::BasicAuth,
        };
        oauth2::Client::new(ClientId::new(self.config.client_id.clone()))
            .set_client_secret(ClientSecret::new(self.config.client_secret.clone()))
            .set_auth_uri(AuthUrl::from_url(meta.authorization_endpoint.clone()))
            .set_token_uri(TokenUrl::from_url(meta.token_endpoint.clone()))
            .set_redirect_uri(RedirectUrl::from_url(redirect_uri.clone()))
            .set_auth_type(auth_type)
    }

    /// Starts a sign-in: the provider's authorization URL with a new
    /// `state`, `nonce` and PKCE (S256) challenge, and what the callback
    /// will need.
    pub async fn start(&self) -> Result<Started, OidcError> {
        let meta = self.metadata().await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        // Random like `state` (oauth2 has no type of its own for it).
        let nonce = CsrfToken::new_random();
        let client = self.client(&meta, &self.config.redirect_uri);
        let mut request = client
            .authorize_url(CsrfToken::new_random)
            .add_scopes(self.config.scopes.iter().cloned().map(Scope::new))
            .set_pkce_challenge(challenge)
            .add_extra_param("nonce", nonce.secret().clone());
        // Google's account chooser shows only that domain's accounts (a
        // hint: the `hd` claim is still checked).
        if let [domain] = self.config.allowed_domains.as_slice() {
            request = request.add_extra_param("hd", domain.clone());
        }
        let (url, state) = request.url();
        Ok(Started {
            url,
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
        })
    }

    /// Trades an authorization code (with its PKCE verifier) for the ID
    /// token, and verifies it.
    pub async fn exchange(
        &self,
        code: String,
        verifier: String,
        redirect_uri: &Url,
        nonce: &str,
    ) -> Result<IdClaims, OidcError> {
        let meta = self.metadata().await?;
        let client = self.client(&meta, redirect_uri);
        let response = client
            .exchange_code(AuthorizationCode::new(code))
            .set_pkce_verifier(PkceCodeVerifier::new(verifier))
            .request_async(&Capped {
                http: self.http.clone(),
                loopback: self.config.loopback,
            })
            .await
            .map_err(|e| match e {
                RequestTokenError::ServerResponse(r) => {
                    OidcError::CodeRejected(match r.error_description() {
                        Some(d) => format!("{} ({})", r.error(), printable(d)),
                        None => r.error().to_string(),
                    })
                }
                RequestTokenError::Request(e) => e,
                RequestTokenError::Parse(e, _) => {
                    OidcError::Unreachable(format!("its token response is not usable: {e}"))
                }
                RequestTokenError::Other(e) => OidcError::Unreachable(e),
            })?;
        let id_token = response
            .extra_fields()
            .id_token
            .clone()
            .ok_or(OidcError::InvalidToken("the provider sent no ID token"))?;
        self.verify(&id_token, &meta, nonce).await
    }

    /// Checks an ID token against the provider's keys and our settings.
    pub async fn verify(&self, token: &str, meta: &Metadata, nonce: &str) -> Result<IdClaims, OidcError> {
        let kid = id_token::key_id(token)?;
        let jwks_uri = meta.jwks_uri.clone();
        let fetch = || async {
            let (body, age) = self.get(&jwks_uri).await?;
            let set = KeySet::parse(&body).map_err(OidcError::Unreachable)?;
            Ok::<_, OidcError>((set, age))
        };
        match self
            .keys
            .key(&kid, self.config.jwks_refetch_interval, fetch)
            .await?
        {
            Lookup::Found(key) => id_token::verify(token, &key, &self.config, nonce),
            Lookup::Unknown => Err(OidcError::InvalidToken(
                "the ID token is signed by a key the provider does not publish",
            )),
        }
    }

    /// Whether a single-page app may use this `redirect_uri`.
    pub fn allows_spa_redirect(&self, uri: &Url) -> bool {
        self.config.spa_redirect_uris.contains(uri)
    }
}

#[cfg(test)]
mod tests {
    use super::Started;

    #[test]
    fn debug_never_prints_what_the_callback_checks() {
        let started = Started {
            url: "https://accounts.example.com/auth?state=st-41&nonce=no-42"
                .parse()
                .unwrap(),
            state: "st-41".into(),
            nonce: "no-42".into(),
            verifier: "ve-43".into(),
        };
        let debug = format!("{started:?}");
        for secret in ["st-41", "no-42", "ve-43"] {
            assert!(!debug.contains(secret), "{secret} in {debug}");
        }
    }
}
