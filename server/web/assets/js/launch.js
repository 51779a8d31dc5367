// Starts a SMART App Launch with fhirclient.js: an EHR launch when the URL carries
// "launch", a standalone launch (patient picker) otherwise. The FHIR server is the
// "iss" parameter, or this gateway. PKCE (S256) is required: the app is a public
// client and keeps no secret.
const status = document.getElementById("launch-status");
const failure = document.getElementById("launch-error");

async function launch() {
  const res = await fetch("config.json", { headers: { Accept: "application/json" } });
  if (!res.ok) throw new Error(`configuration de l'application indisponible (HTTP ${res.status})`);
  const cfg = await res.json();
  const params = new URLSearchParams(window.location.search);
  const launchID = params.get("launch");
  // An EHR launch brings its patient; a standalone launch asks for one.
  const scope = cfg.scope.split(" ").filter((s) => (launchID ? s !== "launch/patient" : s !== "launch")).join(" ");
  const options = {
    clientId: cfg.clientId,
    scope,
    redirectUri: "index.html",
    iss: params.get("iss") || cfg.fhirBase,
    pkceMode: "required",
  };
  if (launchID) options.launch = launchID;
  await FHIR.oauth2.authorize(options);
}

launch().catch((err) => {
  status.textContent = "La connexion n'a pas pu démarrer.";
  failure.hidden = false;
  failure.textContent = err && err.message ? err.message : String(err);
});
