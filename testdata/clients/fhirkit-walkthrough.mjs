// fhirkit-walkthrough.mjs: the README walk-through done by a real third-party client,
// fhir-kit-client 2.0.3 under Node, against a running gateway.
//
// Usage: node fhirkit-walkthrough.mjs <fhir-base-url>
//   NODE_PATH-free: the Go test passes the installed package directory in
//   FHIRKIT_MODULE (…/node_modules/fhir-kit-client/dist/index.js).
//   AITGW_TOKEN, when set, is sent as "Authorization: Bearer <token>".
//
// Every step asserts what FHIR R4 specifies; the first failure prints the step, what
// was expected and what came back, and exits 1. On success a summary is printed and
// the exit status is 0.
//
// Synthetic data only (no patient data).

import { pathToFileURL } from 'node:url';

const baseUrl = process.argv[2] || process.env.AITGW_BASE_URL;
if (!baseUrl) {
  console.error('usage: node fhirkit-walkthrough.mjs <fhir-base-url>');
  process.exit(2);
}
const modulePath = process.env.FHIRKIT_MODULE;
if (!modulePath) {
  console.error('FHIRKIT_MODULE must point at fhir-kit-client/dist/index.js');
  process.exit(2);
}
const { Client, RESPONSE_KEY } = await import(pathToFileURL(modulePath).href);

const config = { baseUrl };
if (process.env.AITGW_TOKEN) config.bearerToken = process.env.AITGW_TOKEN;
const client = new Client(config);

// A tag unique to this run keeps searches exact even on a shared server.
const run = `fkc-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
const system = 'urn:aitgw:test:fhirkit';

const passed = [];
let current = '';

class StepError extends Error {}

function check(cond, msg) {
  if (!cond) throw new StepError(msg);
}
function eq(got, want, what) {
  const g = JSON.stringify(got);
  const w = JSON.stringify(want);
  check(g === w, `${what}: expected ${w}, got ${g}`);
}
function header(res, name) {
  const r = res && res[RESPONSE_KEY];
  return r ? r.headers.get(name) : null;
}
async function step(name, fn) {
  current = name;
  await fn();
  passed.push(name);
}
// expectStatus runs fn, which must fail with the given HTTP status and an
// OperationOutcome body.
async function expectStatus(status, fn, what) {
  try {
    await fn();
  } catch (err) {
    const got = err && err.response && err.response.status;
    check(got === status, `${what}: expected HTTP ${status}, got ${got ?? err}`);
    const body = err.response.data;
    if (status >= 400 && body && typeof body === 'object' && Object.keys(body).length > 0) {
      eq(body.resourceType, 'OperationOutcome', `${what}: error body resourceType`);
    }
    return;
  }
  throw new StepError(`${what}: expected HTTP ${status}, got a success`);
}

function patient(n, extra = {}) {
  return {
    resourceType: 'Patient',
    identifier: [{ system, value: `${run}-${n}` }],
    name: [{ family: `Walkthrough${n}`, given: ['Test'] }],
    gender: 'unknown',
    birthDate: '1970-01-01',
    ...extra,
  };
}

try {
  let created;

  await step('capabilities', async () => {
    const cs = await client.capabilityStatement();
    eq(cs.resourceType, 'CapabilityStatement', 'GET /metadata resourceType');
    eq(cs.fhirVersion, '4.0.1', 'CapabilityStatement.fhirVersion');
  });

  await step('create', async () => {
    created = await client.create({ resourceType: 'Patient', body: patient(0) });
    eq(created.resourceType, 'Patient', 'create returns the resource');
    check(typeof created.id === 'string' && created.id.length > 0, 'create: server assigns an id');
    eq(created.meta && created.meta.versionId, '1', 'create: meta.versionId');
    const loc = header(created, 'location') || header(created, 'content-location');
    check(loc && loc.includes(`/Patient/${created.id}/_history/1`), `create: Location header, got ${loc}`);
    eq(header(created, 'etag'), 'W/"1"', 'create: ETag');
  });

  await step('read', async () => {
    const got = await client.read({ resourceType: 'Patient', id: created.id });
    eq(got.id, created.id, 'read id');
    eq(got.identifier, created.identifier, 'read identifier');
    eq(got.name, created.name, 'read name');
    eq(header(got, 'etag'), 'W/"1"', 'read ETag');
  });

  await step('update', async () => {
    const body = { ...patient(0), id: created.id, gender: 'female' };
    const upd = await client.update({ resourceType: 'Patient', id: created.id, body });
    eq(upd.meta && upd.meta.versionId, '2', 'update: meta.versionId');
    eq(upd.gender, 'female', 'update: new content');
  });

  await step('update with If-Match on a stale version (412)', async () => {
    const body = { ...patient(0), id: created.id, gender: 'male' };
    await expectStatus(412, () => client.update({
      resourceType: 'Patient', id: created.id, body, options: { headers: { 'If-Match': 'W/"1"' } },
    }), 'PUT If-Match W/"1" when current is 2');
  });

  await step('vread', async () => {
    const v1 = await client.vread({ resourceType: 'Patient', id: created.id, version: '1' });
    eq(v1.gender, 'unknown', 'vread 1 keeps the first content');
    eq(v1.meta.versionId, '1', 'vread 1 versionId');
    const v2 = await client.vread({ resourceType: 'Patient', id: created.id, version: '2' });
    eq(v2.gender, 'female', 'vread 2 content');
  });

  await step('patch (JSON Patch)', async () => {
    const p = await client.patch({
      resourceType: 'Patient', id: created.id,
      jsonPatch: [
        { op: 'replace', path: '/gender', value: 'other' },
        { op: 'add', path: '/active', value: true },
      ],
    });
    eq(p.gender, 'other', 'patch replace');
    eq(p.active, true, 'patch add');
    eq(p.meta.versionId, '3', 'patch makes version 3');
    const back = await client.read({ resourceType: 'Patient', id: created.id });
    eq(back.gender, 'other', 'patched content is stored');
  });

  await step('conditional update (existing match)', async () => {
    const body = { ...patient(0), gender: 'male' };
    const cu = await client.update({
      resourceType: 'Patient', searchParams: { identifier: `${system}|${run}-0` }, body,
    });
    eq(cu.id, created.id, 'conditional update hits the matching resource');
    eq(cu.meta.versionId, '4', 'conditional update makes version 4');
    eq(cu.gender, 'male', 'conditional update content');
  });

  await step('conditional update (no match creates)', async () => {
    const cu = await client.update({
      resourceType: 'Patient', searchParams: { identifier: `${system}|${run}-cu` }, body: patient('cu'),
    });
    check(cu.id && cu.id !== created.id, 'conditional update without match creates a new resource');
    eq(cu.meta.versionId, '1', 'created by conditional update: version 1');
  });

  await step('history (instance)', async () => {
    const h = await client.history({ resourceType: 'Patient', id: created.id });
    eq(h.resourceType, 'Bundle', 'history is a Bundle');
    eq(h.type, 'history', 'Bundle.type');
    const versions = (h.entry || []).map((e) => e.resource && e.resource.meta.versionId);
    eq(versions, ['4', '3', '2', '1'], 'instance history, newest first');
  });

  await step('history (type, _count, paged)', async () => {
    let h = await client.request('Patient/_history?_count=2');
    eq(h.type, 'history', 'type history Bundle.type');
    let n = 0;
    let pages = 0;
    while (h) {
      pages++;
      check(pages <= 20, 'history paging does not end');
      check((h.entry || []).length <= 2, '_count=2 respected in history');
      n += (h.entry || []).length;
      h = await client.nextPage({ bundle: h });
    }
    check(n >= 5, `type history holds every version (4 + 1 at least), got ${n}`);
  });

  const pageTotal = 7;
  await step('search with paging (next links followed)', async () => {
    for (let i = 1; i <= pageTotal; i++) {
      await client.create({ resourceType: 'Patient', body: patient(`page-${i}`, { name: [{ family: `Pager${run}` }] }) });
    }
    let bundle = await client.search({
      resourceType: 'Patient', searchParams: { family: `Pager${run}`, _count: 3 },
    });
    eq(bundle.type, 'searchset', 'search Bundle.type');
    const ids = new Set();
    let pages = 0;
    while (bundle) {
      pages++;
      check(pages <= 10, 'paging does not end');
      for (const e of bundle.entry || []) {
        check(!ids.has(e.resource.id), `duplicate ${e.resource.id} across pages`);
        ids.add(e.resource.id);
        if (e.search) check(e.search.mode === 'match', 'entry.search.mode');
      }
      check((bundle.entry || []).length <= 3, '_count=3 respected');
      bundle = await client.nextPage({ bundle });
    }
    eq(ids.size, pageTotal, 'all matches reached through next links');
    eq(pages, 3, 'pages for 7 matches at _count=3');
  });

  await step('batch', async () => {
    const b = await client.batch({
      body: {
        resourceType: 'Bundle', type: 'batch',
        entry: [
          { resource: patient('batch-1'), request: { method: 'POST', url: 'Patient' } },
          { request: { method: 'GET', url: `Patient/${created.id}` } },
          { request: { method: 'GET', url: 'Patient/does-not-exist-ever' } },
        ],
      },
    });
    eq(b.type, 'batch-response', 'batch Bundle.type');
    eq(b.entry.length, 3, 'one response entry per request');
    check(b.entry[0].response.status.startsWith('201'), `batch create status ${b.entry[0].response.status}`);
    check(b.entry[1].response.status.startsWith('200'), `batch read status ${b.entry[1].response.status}`);
    check(b.entry[2].response.status.startsWith('404'), `batch missing read status ${b.entry[2].response.status} (batch entries fail alone)`);
  });

  await step('transaction (urn:uuid references resolved)', async () => {
    const pid = 'urn:uuid:0b6a6a3c-6e0b-4d36-9d3a-1d4a52a8b0f1';
    const t = await client.transaction({
      body: {
        resourceType: 'Bundle', type: 'transaction',
        entry: [
          { fullUrl: pid, resource: patient('tx'), request: { method: 'POST', url: 'Patient' } },
          {
            fullUrl: 'urn:uuid:5d7e1a8e-3f0c-4a55-8c41-2f5b8e9d6c10',
            resource: {
              resourceType: 'Observation', status: 'final',
              code: { coding: [{ system: 'http://loinc.org', code: '72514-3' }] },
              subject: { reference: pid },
              valueInteger: 3,
            },
            request: { method: 'POST', url: 'Observation' },
          },
        ],
      },
    });
    eq(t.type, 'transaction-response', 'transaction Bundle.type');
    eq(t.entry.length, 2, 'one response entry per request');
    for (const e of t.entry) {
      check(e.response.status.startsWith('201'), `transaction entry status ${e.response.status}`);
      check(e.response.location, 'transaction entry location');
      check(e.response.etag, 'transaction entry etag');
    }
    const patLoc = t.entry[0].response.location;
    const patId = patLoc.split('/_history')[0].split('/').pop();
    const obsId = t.entry[1].response.location.split('/_history')[0].split('/').pop();
    const obs = await client.read({ resourceType: 'Observation', id: obsId });
    eq(obs.subject.reference, `Patient/${patId}`, 'urn:uuid rewritten to the created Patient');
  });

  await step('transaction is atomic', async () => {
    await expectStatus(400, () => client.transaction({
      body: {
        resourceType: 'Bundle', type: 'transaction',
        entry: [
          { resource: patient('atomic'), request: { method: 'POST', url: 'Patient' } },
          { resource: { resourceType: 'Patient', id: 'x' }, request: { method: 'PUT', url: 'Patient/y' } },
        ],
      },
    }), 'transaction with an id mismatch');
    const s = await client.search({ resourceType: 'Patient', searchParams: { identifier: `${system}|${run}-atomic` } });
    eq((s.entry || []).length, 0, 'nothing of a failed transaction is written');
  });

  await step('delete then read is 410', async () => {
    await client.delete({ resourceType: 'Patient', id: created.id });
    await expectStatus(410, () => client.read({ resourceType: 'Patient', id: created.id }), 'read after delete');
    const v4 = await client.vread({ resourceType: 'Patient', id: created.id, version: '4' });
    eq(v4.meta.versionId, '4', 'versions before the delete stay readable');
  });

  await step('read unknown id is 404', async () => {
    await expectStatus(404, () => client.read({ resourceType: 'Patient', id: `nope-${run}` }), 'read unknown');
  });

  console.log(`fhir-kit-client 2.0.3 walk-through: ${passed.length} steps passed against ${baseUrl}`);
  for (const p of passed) console.log(`  ok  ${p}`);
  process.exit(0);
} catch (err) {
  for (const p of passed) console.log(`  ok  ${p}`);
  if (err instanceof StepError) {
    console.error(`FAIL ${current}: ${err.message}`);
  } else {
    const status = err && err.response ? ` (HTTP ${err.response.status}: ${JSON.stringify(err.response.data).slice(0, 400)})` : '';
    console.error(`FAIL ${current}: ${err && err.message}${status}`);
  }
  process.exit(1);
}
