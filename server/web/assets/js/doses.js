// Intrathecal dose chart: the daily dose of each molecule over time, read from the
// intrathecal MedicationRequests as the gateway reads them (a dosage line naming its
// molecule gives its daily dose; otherwise concentration × pump flow), with the
// referential's limits drawn (000 §IX). The same points are in a table, for screen
// readers and for checking.
import { EXT, codings, dateOf, ext, isIntrathecalPrescription, need } from "./fhir.js";
import { day, el, fill, isoDay, number, table, unit } from "./format.js";

const MASS = { mg: 1, ug: 0.001, g: 1000 };
const COLORS = ["#1f5fa8", "#8a3b00", "#2e6b2e", "#6a2c91", "#9c1f4d"];

function moleculeOf(cc, ref) {
  for (const c of codings(cc)) {
    if (ref.molecules[c.code]) return ref.molecules[c.code];
  }
  return undefined;
}

async function medicationOf(client, mr) {
  const r = mr.medicationReference && mr.medicationReference.reference;
  if (!r) return undefined;
  if (r.startsWith("#")) return (mr.contained || []).find((c) => `#${c.id}` === r);
  return client.request(r);
}

function flowOf(mr) {
  for (const d of mr.dosageInstruction || []) {
    for (const dr of d.doseAndRate || []) {
      const q = dr.rateQuantity || {};
      const u = q.code || q.unit;
      if (u === "mL/d") return q.value;
      if (u === "mL/h") return q.value * 24;
    }
  }
  return undefined;
}

/** doseLine is a molecule's daily dose in mg from the dosage line naming it. */
function doseLine(mr, mol, ref) {
  for (const d of mr.dosageInstruction || []) {
    const named = (d.extension || []).some((e) => e.url === EXT.molecule && moleculeOf(e.valueCodeableConcept, ref) === mol);
    if (!named) continue;
    for (const dr of d.doseAndRate || []) {
      const q = dr.rateQuantity || {};
      const m = /^(mg|ug|g)\/d$/.exec(q.code || q.unit || "");
      if (m && typeof q.value === "number") return q.value * MASS[m[1]];
    }
  }
  return undefined;
}

/** strength is an ingredient's concentration in mg/mL. */
function strength(ing) {
  const n = (ing.strength || {}).numerator || {}, d = (ing.strength || {}).denominator || {};
  const f = MASS[n.code || n.unit];
  if (f === undefined || (d.code || d.unit) !== "mL" || !(d.value > 0)) return undefined;
  return (n.value * f) / d.value;
}

/** points lists {date, molecule, dose, unit, source} for every intrathecal prescription. */
async function points(client, prescriptions, ref) {
  const out = [];
  for (const mr of prescriptions.filter(isIntrathecalPrescription)) {
    if (["entered-in-error", "cancelled", "draft"].includes(mr.status)) continue;
    const med = await medicationOf(client, mr);
    const flow = flowOf(mr);
    for (const ing of (med && med.ingredient) || []) {
      const mol = moleculeOf(ing.itemCodeableConcept, ref);
      const lim = ref.limits.find((l) => l.molecule === mol);
      if (!lim) continue;
      const perUnit = MASS[lim.doseUnit.replace(/\/d$/, "")];
      let mg = doseLine(mr, mol, ref);
      if (mg === undefined && flow !== undefined && strength(ing) !== undefined) mg = strength(ing) * flow;
      if (mg === undefined) continue;
      out.push({ date: isoDay(dateOf(mr)), molecule: mol, dose: Math.round((mg / perUnit) * 1e6) / 1e6, unit: lim.doseUnit, source: `MedicationRequest/${mr.id}` });
    }
  }
  return out.sort((a, b) => a.date.localeCompare(b.date) || a.molecule.localeCompare(b.molecule));
}

const dayMs = (d) => Date.parse(`${d}T00:00:00Z`);

/** chart draws one molecule on the time axis [lo, hi] shared by all the charts. */
function chart(mol, pts, lim, color, lo, hi) {
  const xs = pts.map((p) => dayMs(p.date));
  const line = (label, y, dash, c) => ({ label, data: [{ x: lo, y }, { x: hi, y }], borderColor: c, borderDash: dash, borderWidth: 2, pointRadius: 0, fill: false });
  const datasets = [{ label: `${lim.label} (${unit(lim.doseUnit)})`, data: pts.map((p, i) => ({ x: xs[i], y: p.dose })), borderColor: color, backgroundColor: color, stepped: "after", pointRadius: 5, borderWidth: 3 }];
  const limits = [];
  if (lim.doseMax) { datasets.push(line(`maximum ${number(lim.doseMax)} ${unit(lim.doseUnit)}`, lim.doseMax, [8, 4], "#b00020")); limits.push(`maximum ${number(lim.doseMax)} ${unit(lim.doseUnit)}${lim.hard ? " (limite absolue)" : ""}`); }
  if (lim.doseMin) { datasets.push(line(`minimum ${number(lim.doseMin)} ${unit(lim.doseUnit)}`, lim.doseMin, [2, 4], "#b00020")); limits.push(`minimum ${number(lim.doseMin)} ${unit(lim.doseUnit)}`); }
  if (lim.typical) { datasets.push(line(`habituel ≤ ${number(lim.typical)} ${unit(lim.doseUnit)}`, lim.typical, [4, 4], "#8a5a00")); limits.push(`habituellement au plus ${number(lim.typical)} ${unit(lim.doseUnit)}`); }
  const canvas = el("canvas", { role: "img", "aria-label": `Dose quotidienne de ${lim.label} de ${day(pts[0].date)} à ${day(pts[pts.length - 1].date)} : ${pts.map((p) => `${number(p.dose, 3)} ${unit(p.unit)} le ${day(p.date)}`).join(", ")}. Limites : ${limits.join(", ") || "aucune"}.`, dataset: { molecule: mol } });
  const box = el("figure", { class: "chart", dataset: { molecule: mol } },
    el("div", { class: "chart-canvas" }, canvas),
    el("figcaption", {}, `${lim.label} — limites du référentiel : ${limits.join(", ") || "aucune fixée"} (${lim.citation}).`));
  const ymax = Math.max(...pts.map((p) => p.dose), lim.doseMax || 0, lim.typical || 0) * 1.15;
  // eslint-disable-next-line no-undef
  new Chart(canvas, {
    type: "line",
    data: { datasets },
    options: {
      animation: false, responsive: true, maintainAspectRatio: false,
      scales: {
        x: { type: "linear", min: lo, max: hi, ticks: { callback: (v) => day(new Date(v).toISOString()), maxTicksLimit: 6, color: "#222" } },
        y: { beginAtZero: true, suggestedMax: ymax, title: { display: true, text: unit(lim.doseUnit), color: "#222" }, ticks: { color: "#222" } },
      },
      plugins: { legend: { labels: { color: "#222" } } },
    },
  });
  return box;
}

export async function renderDoses(data) {
  const ref = data.referential;
  const pts = await points(data.client, need(data.prescriptions), ref);
  if (!pts.length) {
    fill("doses", el("p", {}, "Aucune prescription intrathécale."));
    return;
  }
  const molecules = [...new Set(pts.map((p) => p.molecule))];
  let lo = dayMs(pts[0].date), hi = dayMs(pts[pts.length - 1].date);
  if (lo === hi) { lo -= 7 * 864e5; hi += 7 * 864e5; }
  const pad = Math.max((hi - lo) * 0.04, 864e5); // the first and last points whole
  lo -= pad;
  hi += pad;
  const charts = molecules.map((m, i) => chart(m, pts.filter((p) => p.molecule === m), ref.limits.find((l) => l.molecule === m), COLORS[i % COLORS.length], lo, hi));
  const rows = pts.map((p) => el("tr", { dataset: { date: p.date, molecule: p.molecule, dose: String(p.dose), unit: p.unit, source: p.source } },
    el("td", {}, day(p.date)),
    el("td", {}, ref.limits.find((l) => l.molecule === p.molecule).label),
    el("td", { class: "num" }, `${number(p.dose, 3)} ${unit(p.unit)}`),
    el("td", {}, p.source)));
  fill("doses", el("div", { class: "charts" }, charts),
    table("Doses quotidiennes prescrites (données des graphiques)", ["Date", "Molécule", "Dose quotidienne", "Prescription"], rows, { id: "dose-table" }));
}
