// Dossier checklist: $ait-dossier-status on the referral (000 §V), each issue sorted
// into missing, stale or out of range.
import { need, pathwayPlans, referralOf } from "./fhir.js";
import { el, fill, table } from "./format.js";

const KINDS = [
  { prefix: "missing:", key: "missing", label: "Manquant" },
  { prefix: "stale:", key: "stale", label: "Trop ancien" },
  { prefix: "out of range:", key: "out-of-range", label: "Hors limites" },
];

function kindOf(issue) {
  const d = (issue.diagnostics || "").trim();
  return KINDS.find((k) => d.startsWith(k.prefix)) || { key: "other", label: "Autre" };
}

/** element names the dossier element of an issue: its coding after the seed section. */
function element(issue) {
  const cs = ((issue.details || {}).coding || []).slice(1);
  const c = cs[0];
  if (!c) return "—";
  return c.display ? `${c.display} (${c.code})` : c.code;
}

export async function renderDossier(data) {
  const plan = pathwayPlans(need(data.carePlans))[0];
  const referral = referralOf(plan, need(data.serviceRequests));
  if (!referral) {
    fill("dossier", el("p", {}, "Aucune demande d'adressage liée au parcours."));
    return;
  }
  const out = await data.client.request(`ServiceRequest/${encodeURIComponent(referral.id)}/$ait-dossier-status`);
  const params = out.parameter || [];
  const complete = (params.find((p) => p.name === "complete") || {}).valueBoolean === true;
  const outcome = (params.find((p) => p.name === "outcome") || {}).resource || { issue: [] };
  const issues = complete ? [] : (outcome.issue || []);
  const counts = Object.fromEntries(KINDS.map((k) => [k.key, 0]));
  const rows = issues.map((i) => {
    const k = kindOf(i);
    counts[k.key] = (counts[k.key] || 0) + 1;
    return el("tr", { dataset: { kind: k.key } },
      el("td", {}, el("span", { class: `badge badge-${k.key}` }, k.label)),
      el("td", {}, element(i)),
      el("td", { lang: "en" }, i.diagnostics || ""),
      el("td", {}, (i.details || {}).text || ""));
  });
  const summary = complete
    ? el("p", { class: "ok", id: "dossier-summary", dataset: { complete: "true" } }, "Dossier complet : rien ne manque, rien n'est trop ancien ni hors limites.")
    : el("p", { class: "warn", id: "dossier-summary", dataset: { complete: "false" } },
      `Dossier incomplet : ${counts.missing} manquant(s), ${counts.stale} trop ancien(s), ${counts["out-of-range"]} hors limites.`);
  fill("dossier", summary,
    el("p", { class: "muted" }, `Demande ServiceRequest/${referral.id}. Les analyses datent de moins d'un mois, l'imagerie de moins de six semaines à la date d'adressage.`),
    rows.length ? table("Éléments du dossier à compléter", ["Statut", "Élément", "Détail (serveur)", "Référence"], rows, { id: "dossier-table" }) : null);
}
