// Pump and refills: the pump (reservoir), the refills (volume, flow, next date) and a
// calendar with the last refill, the next one and the day the pump runs dry at the
// programmed flow (000 §XIII; 001). The dry date is computed as the gateway does:
// refill date + reservoir ÷ flow, in whole hours.
import { EXT, SYSTEM_AIT, aitCodes, codings, dateOf, ext, isIntrathecalPrescription, need } from "./fhir.js";
import { day, el, fill, isoDay, number, table } from "./format.js";

const MONTHS = new Intl.DateTimeFormat("fr-FR", { month: "long", year: "numeric", timeZone: "UTC" });
const WEEKDAYS = ["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."];
const WEEKDAY_NAMES = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"];

function quantity(q, units) {
  if (!q || typeof q.value !== "number") return undefined;
  const u = q.code || q.unit;
  if (u === "mL/h" && units.includes("mL/d")) return q.value * 24;
  return units.includes(u) ? q.value : undefined;
}

function reservoirOf(device) {
  const prop = (device.property || []).find((p) => codings(p.type).some((c) => c.system === SYSTEM_AIT && c.code === "reservoir-volume"));
  return prop ? quantity((prop.valueQuantity || [])[0], ["mL"]) : undefined;
}

/** prescribedFlow is the pump flow (mL/d) of the latest intrathecal prescription. */
function prescribedFlow(prescriptions) {
  const latest = prescriptions.filter(isIntrathecalPrescription).sort((a, b) => String(dateOf(b)).localeCompare(String(dateOf(a))))[0];
  for (const d of (latest && latest.dosageInstruction) || []) {
    for (const dr of d.doseAndRate || []) {
      const f = quantity(dr.rateQuantity, ["mL/d"]);
      if (f !== undefined) return f;
    }
  }
  return undefined;
}

function calendar(marks) {
  const dates = Object.keys(marks).sort();
  const first = new Date(`${dates[0].slice(0, 7)}-01T00:00:00Z`);
  const last = new Date(`${dates[dates.length - 1]}T00:00:00Z`);
  const months = [];
  for (let m = new Date(first); m <= last && months.length < 4; m.setUTCMonth(m.getUTCMonth() + 1)) {
    const y = m.getUTCFullYear(), mo = m.getUTCMonth();
    const days = new Date(Date.UTC(y, mo + 1, 0)).getUTCDate();
    const offset = (new Date(Date.UTC(y, mo, 1)).getUTCDay() + 6) % 7;
    const cells = Array(offset).fill(null).concat([...Array(days).keys()].map((d) => d + 1));
    const rows = [];
    for (let i = 0; i < cells.length; i += 7) {
      rows.push(el("tr", {}, cells.slice(i, i + 7).map((d) => {
        if (d === null) return el("td", {});
        const iso = `${y}-${String(mo + 1).padStart(2, "0")}-${String(d).padStart(2, "0")}`;
        const mk = marks[iso];
        return mk
          ? el("td", { class: `mark mark-${mk.key}`, dataset: { mark: mk.key, date: iso } }, el("span", {}, String(d)), el("span", { class: "mark-label" }, mk.label))
          : el("td", {}, String(d));
      })));
    }
    months.push(el("table", { class: "calendar" },
      el("caption", {}, MONTHS.format(m)),
      el("thead", {}, el("tr", {}, WEEKDAYS.map((w, i) => el("th", { scope: "col", abbr: WEEKDAY_NAMES[i] }, w)))),
      el("tbody", {}, rows)));
  }
  return el("div", { class: "calendars" }, months);
}

export function renderPump(data) {
  const devices = need(data.devices).filter((d) => codings(d.type).some((c) => c.code === "intrathecal-pump"));
  const pump = devices[0];
  const refills = need(data.procedures).filter((p) => aitCodes(p).includes("pump-refill"))
    .sort((a, b) => String(dateOf(a)).localeCompare(String(dateOf(b))));
  const discharge = (data.encounters.ok || []).find((e) => aitCodes(e).includes("discharge"));
  const last = refills[refills.length - 1];
  const reservoir = pump ? reservoirOf(pump) : undefined;
  const volume = last ? quantity((ext(last, EXT.volumeInstilled) || {}).valueQuantity, ["mL"]) : undefined;
  let flow = last ? quantity((ext(last, EXT.flowRate) || {}).valueQuantity, ["mL/d"]) : undefined;
  let flowFrom = "programmé au dernier remplissage";
  if (flow === undefined) {
    flow = prescribedFlow(data.prescriptions.ok || []);
    flowFrom = "débit de la dernière prescription";
  }
  const next = (ext(last || discharge || {}, EXT.nextRefill) || {}).valueDateTime;
  const content = volume !== undefined ? volume : reservoir;
  let dry;
  if (last && content !== undefined && flow > 0) {
    const hours = Math.floor((content / flow) * 24);
    dry = new Date(new Date(dateOf(last)).getTime() + hours * 3600 * 1000).toISOString();
  }
  const runsDryFirst = dry && next && new Date(dry) < new Date(next);
  const item = (term, value, id) => [el("dt", {}, term), el("dd", { id }, value)];
  const facts = el("dl", { class: "facts" },
    item("Pompe", pump ? [pump.manufacturer, (pump.deviceName || [])[0] && pump.deviceName[0].name].filter(Boolean).join(" ") || `Device/${pump.id}` : "non renseignée", "pump-device"),
    item("Réservoir", reservoir !== undefined ? `${number(reservoir)} mL` : "non renseigné", "pump-reservoir"),
    item("Débit", flow !== undefined ? `${number(flow, 3)} mL/j (${flowFrom})` : "non renseigné", "pump-flow"),
    item("Dernier remplissage", last ? day(dateOf(last)) : "aucun", "pump-last"),
    item("Prochain remplissage", next ? day(next) : "non programmé", "pump-next"),
    item("Pompe vide le", dry ? day(dry) : "incalculable (volume ou débit non renseigné)", "pump-dry"));
  const marks = {};
  if (last) marks[isoDay(dateOf(last))] = { key: "last", label: "dernier remplissage" };
  if (next) marks[isoDay(next)] = { key: "next", label: "prochain remplissage" };
  if (dry) marks[isoDay(dry)] = { key: "dry", label: "pompe vide" };
  const rows = refills.map((r) => el("tr", { dataset: { ref: `Procedure/${r.id}` } },
    el("td", {}, day(dateOf(r))),
    el("td", {}, (() => { const v = quantity((ext(r, EXT.volumeInstilled) || {}).valueQuantity, ["mL"]); return v !== undefined ? `${number(v)} mL` : "—"; })()),
    el("td", {}, (() => { const f = quantity((ext(r, EXT.flowRate) || {}).valueQuantity, ["mL/d"]); return f !== undefined ? `${number(f, 3)} mL/j` : "—"; })()),
    el("td", {}, day((ext(r, EXT.nextRefill) || {}).valueDateTime))));
  fill("pompe", facts,
    runsDryFirst ? el("p", { class: "warn", role: "note" }, `Attention : la pompe sera vide le ${day(dry)}, avant le remplissage prévu le ${day(next)}.`) : null,
    Object.keys(marks).length ? calendar(marks) : null,
    rows.length ? table("Remplissages", ["Date", "Volume instillé", "Débit", "Prochain prévu"], rows, { id: "refill-table" })
      : el("p", { class: "muted" }, "Aucun remplissage enregistré."),
    el("p", { class: "muted" }, `Intervalle habituel de 3 semaines à 3 mois (${data.referential.refillSection}).`));
}
