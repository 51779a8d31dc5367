// Headless SMART App Launch with fhirclient 2.6.3 (Node), against any FHIR base URL:
//
//   NODE_PATH=<dir with node_modules> node fhirclient_launch.js <fhirBaseURL> [launch]
//
// Without `launch` it runs a standalone launch (patient picker + consent); with it, an
// EHR launch. The "browser" is this script: it follows the authorization server's
// redirects and submits its HTML forms (picking the first patient, approving), then
// lets fhirclient redeem the code and read CarePlan. Client id and scope come from the
// environment (SMART_CLIENT_ID, SMART_SCOPE); the client must be registered as public
// with redirect URI http://app.local/cb. Prints one JSON line; exit code 0 on success.
"use strict";
const smart = require("fhirclient");

const iss = process.argv[2];
const launch = process.argv[3] || "";
const clientId = process.env.SMART_CLIENT_ID || "fhirclient-test";
const scope = process.env.SMART_SCOPE ||
  (launch ? "launch openid fhirUser patient/CarePlan.rs patient/Patient.rs"
          : "launch/patient openid fhirUser offline_access patient/CarePlan.rs patient/Patient.rs");

const session = {};

// fakeRequest is the Node request fhirclient reads (url, host, socket/connection).
function fakeRequest(url) {
  const sock = { encrypted: false };
  return { url, method: "GET", headers: { host: "app.local" }, socket: sock, connection: sock, session };
}

// fakeResponse records fhirclient's redirect.
function fakeResponse() {
  const r = { status: 0, location: "" };
  r.writeHead = (status, headers) => { r.status = status; r.location = headers.location || headers.Location; };
  r.end = () => {};
  return r;
}

function form(html) {
  const req = /name="req" value="([^"]+)"/.exec(html);
  if (!req) throw new Error("no authorization form in page: " + html.slice(0, 200));
  const f = new URLSearchParams({ req: req[1], action: "approve" });
  if (html.includes('value="pick"')) {
    const p = /name="patient" value="([^"]+)"/.exec(html);
    if (!p) throw new Error("picker lists no patient");
    f.set("action", "pick");
    f.set("patient", p[1]);
  }
  return f;
}

async function main() {
  if (!iss) throw new Error("usage: fhirclient_launch.js <fhirBaseURL> [launch]");
  const res = fakeResponse();
  const opts = { iss, clientId, scope, redirectUri: "/cb", pkceMode: "required" };
  if (launch) opts.launch = launch;
  await smart(fakeRequest(launch ? "/launch?iss=" + encodeURIComponent(iss) + "&launch=" + launch : "/launch"), res).authorize(opts);
  if (res.status !== 302) throw new Error("authorize did not redirect");

  // Play the browser until the server sends us back to the app. SMART_USER and
  // SMART_PASSWORD, when set, log the user in (HTTP Basic), as a browser would after
  // the server's challenge.
  const login = process.env.SMART_USER
    ? { authorization: "Basic " + Buffer.from(process.env.SMART_USER + ":" + process.env.SMART_PASSWORD).toString("base64") }
    : {};
  let resp = await fetch(res.location, { redirect: "manual", headers: login });
  for (let i = 0; i < 4 && resp.status === 200; i++) {
    const action = new URL("/auth/authorize", res.location).href;
    resp = await fetch(action, { method: "POST", body: form(await resp.text()), redirect: "manual",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: new URL(action).origin, ...login } });
  }
  const back = resp.headers.get("location") || "";
  if (resp.status !== 302 || !back.startsWith("http://app.local/cb")) {
    throw new Error("authorization ended with " + resp.status + " " + back);
  }
  const u = new URL(back);
  if (u.searchParams.get("error")) throw new Error("authorization error " + u.searchParams.get("error"));

  const client = await smart(fakeRequest(u.pathname + u.search), fakeResponse()).ready();
  const bundle = await client.request("CarePlan?patient=" + client.patient.id);
  console.log(JSON.stringify({
    patient: client.patient.id,
    scope: client.state.tokenResponse.scope,
    refresh: Boolean(client.state.tokenResponse.refresh_token),
    idToken: Boolean(client.state.tokenResponse.id_token),
    resourceType: bundle.resourceType,
  }));
}

main().catch(e => { console.error(String(e && e.stack || e)); process.exit(1); });
