//! Chromium's virtual authenticator, through chromedriver's WebAuthn
//! commands (WebAuthn Level 2, §11 "WebDriver Extensions"): the passkey
//! journeys use the real pages, with it in place of a phone or a security
//! key.
//!
//! In this virtual environment Chromium answers a conditional request (the
//! passkey autofill of the email field) at once, as if the person had picked
//! the passkey from the list: a sign-in page with autofill signs in by
//! itself. [`Browser::without_passkey_autofill`] makes the browser one
//! without autofill, for the journeys that click the button or type a
//! password.

use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::Client;
use reqwest::Method;
use serde::Deserialize;
use serde_json::{json, Value};

use super::Browser;

/// A command of chromedriver's beyond fantoccini's: `path` under
/// `/session/{id}/`.
#[derive(Debug)]
struct SessionCommand {
    method: Method,
    path: String,
    body: Option<Value>,
}

impl WebDriverCompatibleCommand for SessionCommand {
    fn endpoint(&self, base_url: &url::Url, session_id: Option<&str>) -> Result<url::Url, url::ParseError> {
        let session = session_id.expect("a command of a session");
        base_url.join(&format!("session/{session}/{}", self.path))
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
            "webauthn/authenticator".to_owned(),
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

    /// From the next page on, the browser says it has no passkey autofill
    /// (`isConditionalMediationAvailable()` is false, as in a browser that
    /// lacks it), so the sign-in page waits for the button or a password.
    /// Chromium only: a script run before each page's own (DevTools'
    /// `Page.addScriptToEvaluateOnNewDocument`, through chromedriver).
    pub async fn without_passkey_autofill(&self) {
        issue(
            &self.client,
            Method::POST,
            "goog/cdp/execute".to_owned(),
            Some(json!({
                "cmd": "Page.addScriptToEvaluateOnNewDocument",
                "params": { "source": "if (window.PublicKeyCredential) {
                    PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false);
                }" },
            })),
        )
        .await;
    }
}

impl Authenticator {
    /// The credentials it holds (§11.7 Get Credentials).
    pub async fn credentials(&self) -> Vec<Credential> {
        let list = issue(
            &self.client,
            Method::GET,
            format!("webauthn/authenticator/{}/credentials", self.id),
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
            format!("webauthn/authenticator/{}", self.id),
            None,
        )
        .await;
    }
}

async fn issue(client: &Client, method: Method, path: String, body: Option<Value>) -> Value {
    let what = format!("{method} {path}");
    client
        .issue_cmd(SessionCommand { method, path, body })
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"))
}
