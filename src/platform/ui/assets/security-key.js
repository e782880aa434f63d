// The security key ceremony (WebAuthn), which browsers offer only to scripts. The page holds the options from the
// server (data-options, base64url strings as JSON) and all the words; this script shows the form, asks the browser
// for a new key (create) or a signature (get) when the button is pressed, and sends the answer in the form, or
// what went wrong, for the server to check and explain. Without it the page says that JavaScript is needed.
(function () {
  'use strict';

  var form = document.getElementById('security-key-form');
  if (!form) return;
  if (!window.PublicKeyCredential || !navigator.credentials) {
    document.getElementById('security-key-unsupported').hidden = false;
    return;
  }
  form.hidden = false;

  function toBytes(text) {
    var binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  }

  function toText(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = '';
    for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function withBytes(list) {
    return (list || []).map(function (c) {
      return { type: c.type || 'public-key', id: toBytes(c.id), transports: c.transports };
    });
  }

  var options = JSON.parse(form.getAttribute('data-options'));
  options.challenge = toBytes(options.challenge);
  var creating = form.getAttribute('data-ceremony') === 'create';
  if (creating) {
    options.user.id = toBytes(options.user.id);
    options.excludeCredentials = withBytes(options.excludeCredentials);
  } else {
    options.allowCredentials = withBytes(options.allowCredentials);
  }

  // The JSON form of a credential that the server's library reads.
  function answer(credential) {
    var r = credential.response;
    var json = {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      clientExtensionResults: credential.getClientExtensionResults(),
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      response: { clientDataJSON: toText(r.clientDataJSON) },
    };
    if (creating) {
      json.response.attestationObject = toText(r.attestationObject);
      json.response.transports = typeof r.getTransports === 'function' ? r.getTransports() : [];
    } else {
      json.response.authenticatorData = toText(r.authenticatorData);
      json.response.signature = toText(r.signature);
      if (r.userHandle) json.response.userHandle = toText(r.userHandle);
    }
    return JSON.stringify(json);
  }

  // NotAllowedError: cancelled, timed out, or no registered key was there; InvalidStateError: this key is already
  // registered (it is in excludeCredentials); anything else failed.
  function outcome(error) {
    var name = error && error.name;
    if (name === 'NotAllowedError' || name === 'AbortError') return 'cancelled';
    if (name === 'InvalidStateError') return 'already-registered';
    return 'failed';
  }

  var button = document.getElementById('security-key');
  var busy = false;
  form.addEventListener('submit', function (event) {
    event.preventDefault();
    if (busy) return;
    busy = true;
    button.setAttribute('aria-disabled', 'true');
    var asked = creating ? navigator.credentials.create({ publicKey: options }) : navigator.credentials.get({ publicKey: options });
    asked
      .then(answer)
      .then(
        function (json) {
          form.elements.response.value = json;
        },
        function (error) {
          form.elements.outcome.value = outcome(error);
        },
      )
      .then(function () {
        form.submit();
      });
  });
})();
