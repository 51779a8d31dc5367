// Loaded before fhirclient.js. The app authenticates with its bearer token only, so
// no request it makes carries the browser's ambient credentials: no cookie, and no
// HTTP Basic login cached for the gateway's origin. Without this, the browser would
// send the clinician's Basic credentials, given at the authorization endpoint, on to
// the token endpoint under the same /auth/ path, which reads them as a client's
// (client_secret_basic) and refuses the public app's code exchange.
(function () {
  "use strict";
  var nativeFetch = window.fetch.bind(window);
  window.fetch = function (input, init) {
    var opts = Object.assign({}, init || {}, { credentials: "omit" });
    return nativeFetch(input, opts);
  };
})();
