// package-tools.mjs: loads the AIT package with fhir-package-loader and generates the
// snapshot of each of its StructureDefinitions with fhir-snapshot-generator, from the
// FHIR package cache under $HOME/.fhir/packages (which holds the AIT package and
// hl7.fhir.r4.core#4.0.1). Env: AIT_NAME, AIT_VERSION. Prints one JSON line.
import { defaultPackageLoader, LoadStatus } from 'fhir-package-loader';
import { FhirPackageExplorer } from 'fhir-package-explorer';
import { FhirSnapshotGenerator } from 'fhir-snapshot-generator';
import path from 'node:path';
import os from 'node:os';

const name = process.env.AIT_NAME, version = process.env.AIT_VERSION;
const cachePath = path.join(os.homedir(), '.fhir', 'packages');
const errors = [];
const log = (level, message) => { if (level === 'error') errors.push(message); };
const loader = await defaultPackageLoader({ log });
for (const [n, v] of [['hl7.fhir.r4.core', '4.0.1'], [name, version]]) {
  const status = await loader.loadPackage(n, v);
  if (status !== LoadStatus.LOADED) {
    console.log(JSON.stringify({ error: `fhir-package-loader: ${n}#${v} ${status}`, errors }));
    process.exit(0);
  }
}
const infos = loader.findResourceInfos('*', { scope: name, type: ['StructureDefinition'] });
const fpe = await FhirPackageExplorer.create({ context: [`${name}@${version}`], cachePath, fhirVersion: '4.0.1', skipExamples: true });
const fsg = await FhirSnapshotGenerator.create({ fpe, fhirVersion: '4.0.1', cacheMode: 'none' });
const snapshots = {}, failures = {};
for (const info of infos) {
  try {
    const sd = await fsg.getSnapshot(info.url);
    snapshots[info.url] = sd?.snapshot?.element?.length ?? 0;
  } catch (e) {
    failures[info.url] = String(e?.message ?? e);
  }
}
console.log(JSON.stringify({ loaded: infos.length, snapshots, failures, errors }));
