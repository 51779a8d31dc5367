// SMART Backend Services with an independent JOSE library (jose, npm), against the
// gateway:
//
//   JOSE_MODULE=<path to jose's ESM entry> node backend-services.mjs <fhirBase> <clientId> <privateKeyPKCS8.pem> <kid>
//
// It discovers the token endpoint, signs a client assertion (ES384, private_key_jwt),
// gets a system token, reads Patient with it, then replays the same assertion and
// expects a refusal. Prints one JSON line; exit code 0 on success.
import { readFileSync } from "node:fs";
import { randomUUID } from "node:crypto";

const jose = await import(process.env.JOSE_MODULE);
const [base, clientId, keyFile, kid] = process.argv.slice(2);

function fail(msg) {
  console.error(msg);
  process.exit(1);
}

const conf = await (await fetch(base + "/.well-known/smart-configuration")).json();
if (!conf.token_endpoint) fail("no token_endpoint in discovery");
const key = await jose.importPKCS8(readFileSync(keyFile, "utf8"), "ES384");
const assertion = await new jose.SignJWT({})
  .setProtectedHeader({ alg: "ES384", kid, typ: "JWT" })
  .setIssuer(clientId).setSubject(clientId).setAudience(conf.token_endpoint)
  .setJti(randomUUID()).setIssuedAt().setExpirationTime("4m")
  .sign(key);

async function token() {
  const body = new URLSearchParams({
    grant_type: "client_credentials", scope: "system/Patient.rs",
    client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    client_assertion: assertion,
  });
  const r = await fetch(conf.token_endpoint, { method: "POST", body,
    headers: { "content-type": "application/x-www-form-urlencoded" } });
  return { status: r.status, json: await r.json() };
}

const first = await token();
if (first.status !== 200 || !first.json.access_token) fail("token: " + JSON.stringify(first));
const read = await fetch(base + "/Patient", { headers: { authorization: "Bearer " + first.json.access_token, accept: "application/fhir+json" } });
const bundle = await read.json();
if (read.status !== 200 || bundle.resourceType !== "Bundle") fail("search: " + read.status + " " + JSON.stringify(bundle).slice(0, 300));
const replay = await token();
if (replay.status === 200) fail("a replayed assertion (same jti) was accepted");
console.log(JSON.stringify({ scope: first.json.scope, total: bundle.total, replayStatus: replay.status }));
