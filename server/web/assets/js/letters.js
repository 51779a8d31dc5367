// Letters sent: the patient's Communications (one per letter and recipient) with
// their delivery status, newest first.
import { codings, need, practitionerName, refID } from "./fhir.js";
import { COMMUNICATION_STATUS, dayTime, el, fill, table } from "./format.js";

async function recipientNames(client, letters) {
  const refs = [...new Set(letters.flatMap((c) => (c.recipient || []).map(refID)).filter(Boolean))];
  const names = {};
  await Promise.all(refs.map(async (r) => {
    try {
      names[r] = await practitionerName(client, { reference: r });
    } catch {
      names[r] = r;
    }
  }));
  return names;
}

export async function renderLetters(data) {
  const when = (c) => String(c.sent || (c.meta && c.meta.lastUpdated) || "");
  const letters = need(data.letters).sort((a, b) => when(b).localeCompare(when(a)));
  if (!letters.length) {
    fill("courriers", el("p", {}, "Aucun courrier envoyé pour ce patient."));
    return;
  }
  const names = await recipientNames(data.client, letters);
  const rows = letters.map((c) => {
    const cat = codings(c.category)[0] || {};
    const subject = ((c.category || [])[0] || {}).text || (c.topic && c.topic.text) || cat.display || cat.code || "—";
    const status = c.status || "unknown";
    return el("tr", { dataset: { ref: `Communication/${c.id}`, status, milestone: cat.code || "" } },
      el("td", {}, c.sent ? dayTime(c.sent) : "pas encore envoyé"),
      el("td", {}, subject),
      el("td", {}, (c.recipient || []).map((r) => names[refID(r)] || r.display || refID(r)).join(", ") || "—"),
      el("td", {}, el("span", { class: `badge badge-comm-${status}` }, COMMUNICATION_STATUS[status] || status)));
  });
  fill("courriers", table("Courriers et notifications", ["Envoyé le", "Objet", "Destinataire(s)", "Remise"], rows, { id: "letters-table" }));
}
