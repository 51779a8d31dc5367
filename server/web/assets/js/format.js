// French renderings of dates, statuses and quantities, and a tiny DOM builder.

const dateFmt = new Intl.DateTimeFormat("fr-FR", { day: "2-digit", month: "2-digit", year: "numeric", timeZone: "UTC" });
const dateTimeFmt = new Intl.DateTimeFormat("fr-FR", { day: "2-digit", month: "2-digit", year: "numeric", hour: "2-digit", minute: "2-digit", timeZone: "UTC" });

/** day renders a FHIR date or dateTime as dd/mm/yyyy; "non renseigné" when absent. */
export function day(v) {
  if (!v) return "non renseigné";
  const d = new Date(v);
  return isNaN(d) ? v : dateFmt.format(d);
}

/** dayTime renders a dateTime with its time (UTC). */
export function dayTime(v) {
  if (!v) return "non renseigné";
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) return day(v);
  const d = new Date(v);
  return isNaN(d) ? v : `${dateTimeFmt.format(d)} UTC`;
}

/** isoDay is the yyyy-mm-dd part of a FHIR date or dateTime, in UTC. */
export function isoDay(v) {
  if (!v) return "";
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) return v;
  const d = new Date(v);
  return isNaN(d) ? "" : d.toISOString().slice(0, 10);
}

/** number renders a number the French way (decimal comma). */
export function number(v, digits = 2) {
  return new Intl.NumberFormat("fr-FR", { maximumFractionDigits: digits }).format(v);
}

/** unit renders a UCUM unit for reading: ug/d → µg/j. */
export function unit(u) {
  return (u || "").replace(/^ug/, "µg").replace(/\/d$/, "/j");
}

export const ACTIVITY_STATUS = {
  "not-started": "Non commencée",
  scheduled: "Programmée",
  "in-progress": "En cours",
  completed: "Terminée",
  cancelled: "Annulée",
  "on-hold": "Suspendue",
  stopped: "Arrêtée",
  unknown: "Inconnue",
};

export const COMMUNICATION_STATUS = {
  preparation: "En préparation",
  "in-progress": "Envoi en cours",
  completed: "Remis",
  "not-done": "Non envoyé",
  "on-hold": "En attente",
  stopped: "Arrêté",
  "entered-in-error": "Échec de remise",
  unknown: "Inconnu",
};

/** el builds an element: el("td", {class: "x", dataset: {a: 1}}, "text", child). */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "dataset") Object.assign(e.dataset, v);
    else if (k === "class") e.className = v;
    else e.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

/** table builds an accessible table: a caption, column headers, and rows of cells. */
export function table(caption, headers, rows, attrs = {}) {
  return el("table", attrs,
    el("caption", {}, caption),
    el("thead", {}, el("tr", {}, headers.map((h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows));
}

/** fill replaces a section's body. */
export function fill(section, ...children) {
  const body = document.querySelector(`#${section} .body`);
  body.replaceChildren(...children.flat().filter(Boolean));
  return body;
}

/** unavailable says in a section that its data could not be read, and why. */
export function unavailable(section, err) {
  const why = err && err.message ? err.message : String(err);
  fill(section, el("p", { class: "warn", role: "note" }, `Données indisponibles : ${why}`));
}
