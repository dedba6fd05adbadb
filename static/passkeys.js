// Passkeys in the browser: Gatehouse's own small script, no dependencies.
//
// The server sends WebAuthn options as JSON (webauthn-rs's shape: binary
// fields as base64url strings); this script turns them into what
// `navigator.credentials` takes, runs the ceremony, and posts the credential
// back as JSON in the shape webauthn-rs reads (base64url without padding).
// The conversions are done by hand so that every browser with WebAuthn works,
// not only those with `PublicKeyCredential.parseRequestOptionsFromJSON`.
//
// Each page it serves is found by its elements; on any other page it does
// nothing. It hides nothing: the server renders the passkey parts hidden and
// the script shows them where they can work.
//   /login             #passkey-area, #passkey-sign-in, and autofill in #email
//   /login/two-factor  #passkey-area, #passkey-second-factor
//   /account/passkeys  form#passkey-add, #passkey-name
// Errors go to #passkey-error (role="alert").
(function () {
  "use strict";

  // base64url (no padding) <-> ArrayBuffer

  function toBuffer(text) {
    const base64 = String(text).replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "===".slice((base64.length + 3) % 4);
    const binary = atob(padded);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i += 1) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    const bytes = new Uint8Array(buffer);
    let binary = "";
    for (let i = 0; i < bytes.length; i += 1) {
      binary += String.fromCharCode(bytes[i]);
    }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (d) {
      return Object.assign({}, d, { id: toBuffer(d.id) });
    });
  }

  // RequestChallengeResponse -> PublicKeyCredentialRequestOptions. The
  // server's `mediation` is left out: this script decides it.
  function requestOptions(options) {
    const publicKey = Object.assign({}, options.publicKey);
    publicKey.challenge = toBuffer(publicKey.challenge);
    if (publicKey.allowCredentials) {
      publicKey.allowCredentials = descriptors(publicKey.allowCredentials);
    }
    return publicKey;
  }

  // CreationChallengeResponse -> PublicKeyCredentialCreationOptions.
  function creationOptions(options) {
    const publicKey = Object.assign({}, options.publicKey);
    publicKey.challenge = toBuffer(publicKey.challenge);
    publicKey.user = Object.assign({}, publicKey.user, { id: toBuffer(publicKey.user.id) });
    if (publicKey.excludeCredentials) {
      publicKey.excludeCredentials = descriptors(publicKey.excludeCredentials);
    }
    return publicKey;
  }

  // An assertion as webauthn-rs's `PublicKeyCredential`.
  function assertionJSON(credential) {
    const response = credential.response;
    return {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      response: {
        authenticatorData: toBase64url(response.authenticatorData),
        clientDataJSON: toBase64url(response.clientDataJSON),
        signature: toBase64url(response.signature),
        userHandle: response.userHandle ? toBase64url(response.userHandle) : null,
      },
      extensions: {},
    };
  }

  // A new credential as webauthn-rs's `RegisterPublicKeyCredential`.
  function attestationJSON(credential) {
    const response = credential.response;
    const json = {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      response: {
        attestationObject: toBase64url(response.attestationObject),
        clientDataJSON: toBase64url(response.clientDataJSON),
      },
      extensions: {},
    };
    if (typeof response.getTransports === "function") {
      json.response.transports = response.getTransports();
    }
    return json;
  }

  // The page

  function byId(id) {
    return document.getElementById(id);
  }

  function supported() {
    return Boolean(window.PublicKeyCredential && navigator.credentials);
  }

  // The CSRF value of the page's own form (`form`: a form or a selector),
  // else the first on the page.
  function csrfToken(form) {
    const scope = typeof form === "string" ? document.querySelector(form) : form;
    const field = (scope && scope.querySelector("input[name=csrf_token]")) ||
      document.querySelector("input[name=csrf_token]");
    return field ? field.value : "";
  }

  function showError(message) {
    const box = byId("passkey-error");
    if (box) {
      box.textContent = message;
      box.hidden = false;
    } else {
      window.alert(message);
    }
  }

  function clearError() {
    const box = byId("passkey-error");
    if (box) {
      box.hidden = true;
      box.textContent = "";
    }
  }

  function setBusy(buttons, busy) {
    buttons.forEach(function (button) {
      if (button) {
        button.disabled = busy;
        button.setAttribute("aria-busy", busy ? "true" : "false");
      }
    });
  }

  // Only a path on this site: the server checks `next`, this is a second
  // line.
  function go(redirect) {
    const path = typeof redirect === "string" && /^\/(?![/\\])[^\s\\\u0000-\u001f\u007f]*$/.test(redirect)
      ? redirect
      : "/";
    window.location.assign(path);
  }

  function cancelled(error) {
    return error && (error.name === "NotAllowedError" || error.name === "AbortError");
  }

  // What went wrong, in words: the server's own, or the browser's.
  function describe(error, cancelledText) {
    if (error && error.name === "ServerError") {
      return error.message;
    }
    if (cancelled(error)) {
      return cancelledText;
    }
    if (error && error.name === "InvalidStateError") {
      return "This device already holds a passkey for your account.";
    }
    if (error && error.name === "SecurityError") {
      return "Passkeys are not available at this address.";
    }
    if (error && error.name === "NotSupportedError") {
      return "This browser or device cannot use passkeys here.";
    }
    return "Something went wrong with the passkey" + (error && error.message ? ": " + error.message : ".");
  }

  // POST JSON; the server's errors ({status_code, error, description}) become
  // a `ServerError` saying `description || error`.
  async function post(url, body) {
    let response;
    try {
      response = await fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify(body),
      });
    } catch (e) {
      throw serverError("The server could not be reached. Check your connection and try again.");
    }
    let data = null;
    try {
      data = await response.json();
    } catch (e) {
      data = null;
    }
    if (!response.ok) {
      const text = data && (data.description || data.error);
      throw serverError(text || "The server refused the request (" + response.status + ").");
    }
    if (!data) {
      throw serverError("The server sent an answer this page cannot read.");
    }
    return data;
  }

  function serverError(message) {
    const error = new Error(message);
    error.name = "ServerError";
    return error;
  }

  // Shows #passkey-area where passkeys can work: WebAuthn is there and this
  // is the relying party's host. On another host (e.g. 127.0.0.1 for a
  // server set up as localhost), a note links to where they work.
  function showArea(area) {
    const rpId = area.getAttribute("data-rp-id");
    if (supported() && (!rpId || onRelyingParty(rpId))) {
      area.hidden = false;
      return true;
    }
    if (rpId && !onRelyingParty(rpId)) {
      noteElsewhere(area);
    }
    return false;
  }

  // Whether this page's host is the relying party's id or below it
  // (rp_id `example.com` serves `id.example.com`).
  function onRelyingParty(rpId) {
    const host = window.location.hostname.toLowerCase();
    const id = rpId.toLowerCase();
    return host === id || host.endsWith("." + id);
  }

  function noteElsewhere(area) {
    let origin;
    try {
      origin = new URL(area.getAttribute("data-origin") || "");
    } catch (e) {
      return;
    }
    if (origin.protocol !== "https:" && origin.protocol !== "http:") {
      return;
    }
    const note = document.createElement("p");
    note.className = "note passkey-elsewhere";
    note.id = "passkey-elsewhere";
    const link = document.createElement("a");
    link.href = origin.origin + window.location.pathname + window.location.search;
    link.textContent = origin.host;
    note.append("Passkeys work at ", link, ".");
    area.parentNode.insertBefore(note, area.nextSibling);
  }

  // /login: the button, and autofill in the email field

  function initLogin(button) {
    const area = byId("passkey-area");
    if (!area || !showArea(area)) {
      return;
    }
    const form = "form[action='/login']";
    const cancelledText = "Signing in with a passkey was cancelled or timed out. You can try again.";
    let conditional = null;
    let autofillRestarts = 0;

    function finishBody(start, credential) {
      const body = {
        csrf_token: csrfToken(form),
        challenge_id: start.challenge_id,
        credential: assertionJSON(credential),
      };
      const next = document.querySelector("input[name=next]");
      if (next && next.value) {
        body.next = next.value;
      }
      const remember = byId("remember");
      if (remember) {
        body.remember = remember.checked;
      }
      return body;
    }

    async function finish(start, credential) {
      const done = await post("/login/passkey/finish", finishBody(start, credential));
      go(done.redirect);
    }

    function stopAutofill() {
      if (conditional) {
        conditional.abort();
        conditional = null;
      }
    }

    // One conditional request at a time: the browser offers the passkeys
    // in the email field's autofill; picking one signs in.
    async function startAutofill() {
      const PKC = window.PublicKeyCredential;
      if (conditional || !PKC || typeof PKC.isConditionalMediationAvailable !== "function") {
        return;
      }
      let available = false;
      try {
        available = await PKC.isConditionalMediationAvailable();
      } catch (e) {
        available = false;
      }
      if (!available || conditional) {
        return;
      }
      const controller = new AbortController();
      conditional = controller;
      let picked = false;
      try {
        const start = await post("/login/passkey/start", { csrf_token: csrfToken(form) });
        if (controller.signal.aborted) {
          return;
        }
        const credential = await navigator.credentials.get({
          publicKey: requestOptions(start.options),
          mediation: "conditional",
          signal: controller.signal,
        });
        if (controller.signal.aborted || !credential) {
          return;
        }
        picked = true;
        setBusy([button], true);
        clearError();
        await finish(start, credential);
      } catch (error) {
        if (controller.signal.aborted) {
          return;
        }
        setBusy([button], false);
        if (picked || !cancelled(error)) {
          showError(describe(error, cancelledText));
        }
        if (conditional === controller) {
          conditional = null;
        }
        // A passkey the server refused: offer the list again (a few times).
        if (picked && autofillRestarts < 3) {
          autofillRestarts += 1;
          startAutofill();
        }
      }
    }

    button.addEventListener("click", async function () {
      if (button.disabled) {
        return;
      }
      stopAutofill();
      setBusy([button], true);
      clearError();
      try {
        const start = await post("/login/passkey/start", { csrf_token: csrfToken(form) });
        const credential = await navigator.credentials.get({ publicKey: requestOptions(start.options) });
        await finish(start, credential);
      } catch (error) {
        setBusy([button], false);
        showError(describe(error, cancelledText));
        startAutofill();
      }
    });

    startAutofill();
  }

  // /login/two-factor: a passkey in place of the code

  function initSecondFactor(button) {
    const area = byId("passkey-area");
    if (!area || !showArea(area)) {
      return;
    }
    const form = "form[action='/login/two-factor']";
    const cancelledText = "Using a passkey was cancelled or timed out. You can try again, or enter a code.";
    button.addEventListener("click", async function () {
      if (button.disabled) {
        return;
      }
      setBusy([button], true);
      clearError();
      try {
        const start = await post("/login/two-factor/passkey/start", { csrf_token: csrfToken(form) });
        const credential = await navigator.credentials.get({ publicKey: requestOptions(start.options) });
        const done = await post("/login/two-factor/passkey/finish", {
          csrf_token: csrfToken(form),
          challenge_id: start.challenge_id,
          credential: assertionJSON(credential),
        });
        go(done.redirect);
      } catch (error) {
        setBusy([button], false);
        showError(describe(error, cancelledText));
      }
    });
  }

  // /account/passkeys: adding one

  function initAdd(form) {
    const cancelledText = "Adding the passkey was cancelled or timed out. You can try again.";
    const submit = byId("passkey-add-submit") || form.querySelector("button[type=submit], button:not([type])");
    form.addEventListener("submit", async function (event) {
      event.preventDefault();
      if (submit && submit.disabled) {
        return;
      }
      if (!supported()) {
        showError("This browser cannot create passkeys.");
        return;
      }
      const nameField = byId("passkey-name");
      const name = nameField ? nameField.value.trim() : "";
      setBusy([submit], true);
      clearError();
      try {
        const start = await post("/account/passkeys/register/start", { csrf_token: csrfToken(form) });
        const credential = await navigator.credentials.create({ publicKey: creationOptions(start.options) });
        const done = await post("/account/passkeys/register/finish", {
          csrf_token: csrfToken(form),
          challenge_id: start.challenge_id,
          name: name,
          credential: attestationJSON(credential),
        });
        go(done.redirect);
      } catch (error) {
        setBusy([submit], false);
        showError(describe(error, cancelledText));
      }
    });
  }

  function init() {
    const signIn = byId("passkey-sign-in");
    if (signIn) {
      initLogin(signIn);
    }
    const secondFactor = byId("passkey-second-factor");
    if (secondFactor) {
      initSecondFactor(secondFactor);
    }
    const add = byId("passkey-add");
    if (add && add.tagName === "FORM") {
      initAdd(add);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
