// Patient header: identity, INS, GP and referring physician.
import { INS_SYSTEMS, humanName, need, pathwayPlans, practitionerName, referralOf } from "./fhir.js";
import { day, el, fill } from "./format.js";

const GENDER = { female: "femme", male: "homme", other: "autre", unknown: "inconnu" };

async function nameOrWhy(client, reference) {
  if (!reference) return "non renseigné";
  try {
    return (await practitionerName(client, reference)) || "non renseigné";
  } catch (err) {
    return `illisible (${err.message || err})`;
  }
}

export async function renderPatient(data) {
  const p = need(data.patient);
  const ins = (p.identifier || []).find((i) => INS_SYSTEMS.includes(i.system));
  const plan = pathwayPlans(data.carePlans.ok || [])[0];
  const referral = referralOf(plan, data.serviceRequests.ok || []);
  const [gp, referrer] = await Promise.all([
    nameOrWhy(data.client, (p.generalPractitioner || [])[0]),
    nameOrWhy(data.client, referral && referral.requester),
  ]);
  const name = humanName(p.name) || "sans nom";
  document.getElementById("patient-title").textContent = name;
  document.title = `${name} — vue du parcours AIT`;
  const item = (term, value, id) => [el("dt", {}, term), el("dd", { id }, value)];
  fill("patient", el("dl", { class: "facts" },
    item("Né(e) le", day(p.birthDate), "patient-birthdate"),
    item("Sexe", GENDER[p.gender] || "non renseigné", "patient-gender"),
    item("INS", ins ? ins.value : "non renseigné", "patient-ins"),
    item("Médecin traitant", gp, "patient-gp"),
    item("Médecin adresseur", referrer, "patient-referrer")));
}
