// Clinical issues: the patient's open DetectedIssues (warnings and alerts the
// gateway or the EHR recorded), most severe first.
import { codings, dateOf, need, refID } from "./fhir.js";
import { day, el, fill, table } from "./format.js";

const SEVERITY = { high: "Élevée", moderate: "Modérée", low: "Faible" };
const RANK = { high: 0, moderate: 1, low: 2 };
const CLOSED = ["cancelled", "entered-in-error"];

export function renderIssues(data) {
  const all = need(data.issues);
  const open = all.filter((i) => !CLOSED.includes(i.status))
    .sort((a, b) => (RANK[a.severity] ?? 3) - (RANK[b.severity] ?? 3) || String(dateOf(b)).localeCompare(String(dateOf(a))));
  if (!open.length) {
    fill("alertes", el("p", { id: "issues-summary", dataset: { open: "0" } }, "Aucune alerte ouverte pour ce patient."));
    return;
  }
  const rows = open.map((i) => {
    const c = codings(i.code)[0] || {};
    return el("tr", { dataset: { ref: `DetectedIssue/${i.id}`, severity: i.severity || "" } },
      el("td", {}, el("span", { class: `badge badge-sev-${i.severity || "none"}` }, SEVERITY[i.severity] || "non précisée")),
      el("td", {}, (i.code && i.code.text) || c.display || c.code || "—"),
      el("td", {}, i.detail || "—"),
      el("td", {}, day(dateOf(i))),
      el("td", {}, (i.implicated || []).map(refID).filter(Boolean).join(", ") || "—"));
  });
  fill("alertes",
    el("p", { id: "issues-summary", dataset: { open: String(open.length) } }, `${open.length} alerte(s) ouverte(s).`),
    table("Alertes cliniques ouvertes", ["Gravité", "Alerte", "Détail", "Date", "Ressources concernées"], rows, { id: "issues-table" }));
}
