// Pathway timeline: one row per step of the pathway CarePlan's activities (status,
// date, deadline, overdue flag) with the resources recorded for it.
import { EXT, aitCodes, codings, dateOf, ext, isIntrathecalPrescription, need, pathwayPlans, referralRef, refID } from "./fhir.js";
import { ACTIVITY_STATUS, day, el, fill } from "./format.js";

// The AIT codes that stand for a fact when they differ from the fact's name.
const FACT_CODES = {
  implantation: ["pump-implantation"],
  refill: ["pump-refill"],
  "rcp-decision": ["rcp-review"],
  "rcp-accepted": ["rcp-review"],
  consent: ["consent-given"],
};

const TYPE_LABEL = {
  ServiceRequest: "Demande", Task: "Tâche", Encounter: "Rencontre", Procedure: "Acte", MedicationRequest: "Prescription",
};

/** behind lists the patient's resources that record one of the step's facts. */
function behind(step, plan, data) {
  const facts = new Set(step.facts);
  const codes = new Set(step.facts.flatMap((f) => [f, ...(FACT_CODES[f] || [])]));
  const out = new Map();
  const add = (r) => out.set(`${r.resourceType}/${r.id}`, r);
  const referral = referralRef(plan);
  for (const sr of data.serviceRequests.ok || []) {
    if ((facts.has("referral") || facts.has("dossier-complete")) && `ServiceRequest/${sr.id}` === referral) add(sr);
  }
  if (facts.has("prescription")) (data.prescriptions.ok || []).filter(isIntrathecalPrescription).forEach(add);
  for (const list of [data.serviceRequests, data.tasks, data.encounters, data.procedures]) {
    for (const r of list.ok || []) {
      if (aitCodes(r).some((c) => codes.has(c))) add(r);
    }
  }
  return [...out.values()].sort((a, b) => String(dateOf(a) || "").localeCompare(String(dateOf(b) || "")));
}

function stepRow(activity, index, steps, plan, data) {
  const d = activity.detail || {};
  const code = (codings(d.code)[0] || {}).code;
  const step = steps.find((s) => s.code === code) || { number: index + 1, code, label: code || "étape", citation: "", facts: [] };
  const overdue = !!(ext(d, EXT.overdue) || {}).valueBoolean;
  const res = behind(step, plan, data);
  const last = res.length ? dateOf(res[res.length - 1]) : undefined;
  const period = d.scheduledPeriod || {};
  const when = last || period.start;
  const status = d.status || "unknown";
  return el("li", { class: `step status-${status}${overdue ? " overdue" : ""}`, dataset: { stepCode: code, status, overdue: String(overdue) } },
    el("h4", {}, el("span", { class: "num" }, `${step.number}.`), " ", step.label),
    el("p", { class: "badges" },
      el("span", { class: `badge badge-${status}` }, ACTIVITY_STATUS[status] || status),
      overdue ? el("span", { class: "badge badge-overdue" }, "En retard") : null),
    el("dl", { class: "facts" },
      el("dt", {}, "Date"), el("dd", { class: "date" }, when ? day(when) : "—"),
      el("dt", {}, "Échéance"), el("dd", { class: "deadline" }, period.end ? day(period.end) : "—"),
      el("dt", {}, "Référence"), el("dd", {}, step.citation || "—")),
    res.length
      ? el("ul", { class: "resources", "aria-label": `Ressources de l'étape ${step.number}` },
        res.map((r) => el("li", { dataset: { ref: `${r.resourceType}/${r.id}` } },
          `${TYPE_LABEL[r.resourceType] || r.resourceType} ${r.resourceType}/${r.id} — ${day(dateOf(r))}`)))
      : el("p", { class: "muted" }, "Aucune ressource enregistrée pour cette étape."));
}

export function renderTimeline(data) {
  const plans = pathwayPlans(need(data.carePlans));
  if (!plans.length) {
    fill("parcours", el("p", {}, "Aucun plan de soins de parcours pour ce patient."));
    return;
  }
  const blocks = plans.map((plan) => {
    const category = codings(plan.category).find((c) => /-pathway$/.test(c.code)).code;
    const steps = (data.referential.steps || {})[category] || [];
    const title = category === "ir-pathway" ? "Parcours de radiologie interventionnelle" : "Parcours d'analgésie intrathécale";
    const state = plan.status === "revoked" ? " (arrêté)" : "";
    return el("div", { class: "pathway", dataset: { careplan: `CarePlan/${plan.id}`, category } },
      el("h3", { class: "pathway-title" }, title + state),
      el("ol", { class: "timeline" }, (plan.activity || []).map((a, i) => stepRow(a, i, steps, plan, data))));
  });
  fill("parcours", blocks);
}
