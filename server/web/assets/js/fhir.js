// Small readers of FHIR JSON shared by the screens. They never guess: a missing
// element gives undefined, and the screens say "non renseigné".

export const AIT = "https://fhir.aitgw.org/ig/ait";
export const SYSTEM_AIT = `${AIT}/CodeSystem/ait`;
export const EXT = {
  overdue: `${AIT}/StructureDefinition/ait-activity-overdue`,
  deadlineSection: `${AIT}/StructureDefinition/ait-deadline-section`,
  nextRefill: `${AIT}/StructureDefinition/ait-next-refill-date`,
  volumeInstilled: `${AIT}/StructureDefinition/ait-volume-instilled`,
  flowRate: `${AIT}/StructureDefinition/ait-flow-rate`,
  molecule: `${AIT}/StructureDefinition/ait-molecule`,
};
export const PROFILE_PRESCRIPTION = `${AIT}/StructureDefinition/ait-intrathecal-prescription`;
// INS (identifiant national de santé): NIR, and the test and demo NIA/NIR OIDs.
export const INS_SYSTEMS = ["urn:oid:1.2.250.1.213.1.4.8", "urn:oid:1.2.250.1.213.1.4.9", "urn:oid:1.2.250.1.213.1.4.10", "urn:oid:1.2.250.1.213.1.4.11"];
// Intrathecal route: SNOMED CT 72607000, EDQM 20042000. 372452007 is not one: it is
// Endotracheopulmonary use, so a line coded with it is not shown as intrathecal.
export const INTRATHECAL_ROUTES = ["72607000", "20042000"];

/** ext returns the first extension of r with url. */
export function ext(r, url) {
  return (r && r.extension ? r.extension : []).find((e) => e.url === url);
}

/** codings lists the codings of a CodeableConcept (or of several). */
export function codings(...ccs) {
  return ccs.flat().filter(Boolean).flatMap((cc) => cc.coding || []);
}

/** aitCodes lists the AIT code system codes a resource is coded with. */
export function aitCodes(r) {
  return codings(r.code, r.type, r.category)
    .filter((c) => c.system === SYSTEM_AIT)
    .map((c) => c.code);
}

/** humanName renders a HumanName list, the official name first. */
export function humanName(names) {
  if (!names || !names.length) return undefined;
  const n = names.find((x) => x.use === "official") || names[0];
  if (n.text) return n.text;
  return [...(n.prefix || []), ...(n.given || []), (n.family || "").toUpperCase()].filter(Boolean).join(" ");
}

/** refID is the "Type/id" of a reference, or undefined for a contained or absent one. */
export function refID(ref) {
  const r = ref && ref.reference;
  if (!r || r.startsWith("#")) return undefined;
  return r.replace(/^.*\/(\w+\/[^/]+)$/, "$1");
}

/** dateOf is the clinical date of a step resource, as the gateway reads it. */
export function dateOf(r) {
  for (const k of ["performedDateTime", "occurrenceDateTime", "effectiveDateTime", "authoredOn", "sent", "date", "created", "identifiedDateTime"]) {
    if (r[k]) return r[k];
  }
  for (const k of ["performedPeriod", "period", "executionPeriod", "effectivePeriod"]) {
    if (r[k] && r[k].start) return r[k].start;
  }
  return undefined;
}

/** searchAll runs a search and returns every resource of every page (bounded). */
export async function searchAll(client, query) {
  const out = await client.request(query, { pageLimit: 20, flat: true });
  return (Array.isArray(out) ? out : [out]).filter((r) => r && r.resourceType && r.resourceType !== "OperationOutcome");
}

/** isIntrathecalPrescription: the guide's profile, or an intrathecal route. */
export function isIntrathecalPrescription(mr) {
  if (((mr.meta && mr.meta.profile) || []).includes(PROFILE_PRESCRIPTION)) return true;
  return (mr.dosageInstruction || []).some((d) => codings(d.route).some((c) => INTRATHECAL_ROUTES.includes(c.code)));
}

/** need unwraps a settled read: its value, or its error thrown. */
export function need(settled) {
  if (settled.err) throw settled.err;
  return settled.ok;
}

/** pathwayPlans are the pathway CarePlans (AIT or IR category), newest first. */
export function pathwayPlans(carePlans) {
  return carePlans
    .filter((cp) => codings(cp.category).some((c) => c.system === SYSTEM_AIT && /-pathway$/.test(c.code)))
    .sort((a, b) => String((b.meta && b.meta.lastUpdated) || "").localeCompare(String((a.meta && a.meta.lastUpdated) || "")));
}

/**
 * referralRef is the reference of the referral that opened a pathway CarePlan: the
 * first ServiceRequest of its supportingInfo (R4's CarePlan.basedOn takes CarePlans
 * only), or basedOn in plans stored before that rule was enforced.
 */
export function referralRef(plan) {
  if (!plan) return undefined;
  const info = (plan.supportingInfo || []).map(refID).find((r) => r && r.startsWith("ServiceRequest/"));
  return info || (plan.basedOn && plan.basedOn.length ? refID(plan.basedOn[0]) : undefined);
}

/** referralOf is the referral ServiceRequest that opened a pathway CarePlan. */
export function referralOf(plan, serviceRequests) {
  const ref = referralRef(plan);
  return ref ? serviceRequests.find((s) => `ServiceRequest/${s.id}` === ref) : undefined;
}

/** practitionerName reads a Practitioner or PractitionerRole reference's name. */
export async function practitionerName(client, reference) {
  const id = refID(reference);
  if (!id) return reference && reference.display;
  const r = await client.request(id);
  if (r.resourceType === "PractitionerRole") {
    const p = r.practitioner ? await practitionerName(client, r.practitioner) : undefined;
    return p || (reference.display ?? id);
  }
  return humanName(r.name) || reference.display || id;
}

/**
 * patientOf is the patient a resource belongs to ("Patient/id"), if any. Only a
 * relative reference counts: an absolute URL may name another server's patient
 * with the same id.
 */
export function patientOf(r) {
  for (const k of ["subject", "patient", "for", "beneficiary"]) {
    const ref = r[k] && r[k].reference;
    if (ref && /^Patient\/[A-Za-z0-9\-.]{1,64}$/.test(ref)) return ref;
  }
  return undefined;
}

/**
 * samePatient keeps the resources that belong to Patient/pid and returns how many it
 * dropped: a search by patient should return no other, and if it ever did, the view
 * shows nothing of them rather than another patient's data.
 */
export function samePatient(resources, pid) {
  const want = `Patient/${pid}`;
  const kept = resources.filter((r) => patientOf(r) === want);
  return { kept, dropped: resources.length - kept.length };
}
