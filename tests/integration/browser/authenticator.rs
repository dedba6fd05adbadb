//! Chromium's virtual authenticator, through chromedriver's WebAuthn
//! commands (WebAuthn Level 2, §11 "WebDriver Extensions"): the passkey
//! journeys use the real pages, with it in place of a phone or a security
//! key.

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::Client;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use super::Browser;

/// One WebAuthn extension command: `path` under `/session/{id}/webauthn/`.
#[derive(Debug)]
struct WebAuthnCommand {
    method: Method,
    path: String,
    body: Option<Value>,
}

impl WebDriverCompatibleCommand for WebAuthnCommand {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        let session = session_id.expect("WebAuthn commands need a session");
        base_url.join(&format!("session/{session}/webauthn/{}", self.path))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (Method, Option<String>) {
        (self.method.clone(), self.body.as_ref().map(Value::to_string))
    }
}

/// A virtual authenticator added to a browser (§11.3); it goes away with the
/// browser, or with [`Authenticator::remove`].
pub struct Authenticator {
    client: Client,
    pub id: String,
}

/// A credential the authenticator holds (§11.7's Credential Parameters).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Credential {
    /// base64url, as the server stores it.
    pub credential_id: String,
    pub is_resident_credential: bool,
    pub rp_id: Option<String>,
    pub user_handle: Option<String>,
    pub sign_count: u64,
}

impl Browser {
    /// Adds a virtual authenticator like a phone's or a laptop's own: CTAP2,
    /// built in, discoverable credentials, user verification that succeeds,
    /// and a "yes" to every request without anyone touching it.
    pub async fn add_authenticator(&self) -> Authenticator {
        let id = issue(
            &self.client,
            Method::POST,
            "authenticator".to_owned(),
            Some(json!({
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": true,
                "hasUserVerification": true,
                "isUserVerified": true,
                "isUserConsenting": true,
                "automaticPresenceSimulation": true,
            })),
        )
        .await;
        Authenticator {
            client: self.client.clone(),
            id: id
                .as_str()
                .unwrap_or_else(|| panic!("an authenticator id: {id}"))
                .to_owned(),
        }
    }
}

impl Authenticator {
    /// The credentials it holds (§11.7 Get Credentials).
    pub async fn credentials(&self) -> Vec<Credential> {
        let list = issue(
            &self.client,
            Method::GET,
            format!("authenticator/{}/credentials", self.id),
            None,
        )
        .await;
        serde_json::from_value(list.clone())
            .unwrap_or_else(|e| panic!("the authenticator's credentials ({e}): {list}"))
    }

    /// Removes it from the browser (§11.4).
    pub async fn remove(self) {
        issue(
            &self.client,
            Method::DELETE,
            format!("authenticator/{}", self.id),
            None,
        )
        .await;
    }
}

async fn issue(client: &Client, method: Method, path: String, body: Option<Value>) -> Value {
    let what = format!("{method} webauthn/{path}");
    client
        .issue_cmd(WebAuthnCommand { method, path, body })
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"))
}
