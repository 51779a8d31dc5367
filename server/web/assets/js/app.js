// The pathway view: finishes the SMART launch (fhirclient.js exchanges the code for
// a token with PKCE), reads the patient's pathway with that token, and fills each
// screen. A screen whose data cannot be read says so; the others still show.
import { samePatient, searchAll } from "./fhir.js";
import { el, unavailable } from "./format.js";
import { renderPatient } from "./patient.js";
import { renderTimeline } from "./timeline.js";
import { renderDossier } from "./dossier.js";
import { renderPump } from "./pump.js";
import { renderDoses } from "./doses.js";
import { renderIssues } from "./issues.js";
import { renderLetters } from "./letters.js";

const main = document.getElementById("contenu");
const status = document.getElementById("app-status");

async function loadReferential() {
  const res = await fetch("referential.json", { headers: { Accept: "application/json" } });
  if (!res.ok) throw new Error(`référentiel indisponible (HTTP ${res.status})`);
  return res.json();
}

/** data reads, once, what several screens share. */
async function loadData(client) {
  const pid = client.patient.id;
  let dropped = 0;
  const q = async (type) => {
    const res = samePatient(await searchAll(client, `${type}?patient=${encodeURIComponent(pid)}&_count=100`), pid);
    dropped += res.dropped;
    return res.kept;
  };
  const read = async () => {
    const p = await client.request(`Patient/${encodeURIComponent(pid)}`);
    if (p.resourceType !== "Patient" || p.id !== pid) throw new Error("le serveur a renvoyé un autre patient que celui du jeton");
    return p;
  };
  const settle = async (p) => p.then((v) => ({ ok: v }), (err) => ({ err }));
  const [patient, carePlans, encounters, procedures, tasks, serviceRequests, prescriptions, devices, issues, letters] =
    await Promise.all([
      settle(read()),
      settle(q("CarePlan")), settle(q("Encounter")), settle(q("Procedure")), settle(q("Task")),
      settle(q("ServiceRequest")), settle(q("MedicationRequest")), settle(q("Device")),
      settle(q("DetectedIssue")), settle(q("Communication")),
    ]);
  return { client, patient, carePlans, encounters, procedures, tasks, serviceRequests, prescriptions, devices, issues, letters, dropped };
}

/** screen runs one screen's renderer, and shows its failure in its own section. */
async function screen(id, render, ...args) {
  try {
    await render(...args);
  } catch (err) {
    unavailable(id, err);
  }
}

async function start() {
  let client;
  try {
    client = await FHIR.oauth2.ready();
  } catch (err) {
    main.dataset.state = "error";
    status.textContent = "";
    const box = document.getElementById("app-error");
    box.hidden = false;
    const returning = new URLSearchParams(window.location.search).has("code");
    box.replaceChildren(
      el("p", {}, returning
        ? "La connexion n'a pas abouti : le code d'autorisation n'a pas pu être échangé contre un jeton."
        : "Aucune session SMART active : lancez l'application depuis le dossier patient ou connectez-vous."),
      el("p", {}, el("a", { href: "launch.html" }, "Se connecter")),
      el("p", { class: "detail" }, err && err.message ? err.message : String(err)));
    return;
  }
  if (!client.patient.id) {
    main.dataset.state = "error";
    status.textContent = "Le jeton ne porte aucun patient : relancez l'application et choisissez un patient.";
    return;
  }
  const [ref, data] = await Promise.all([loadReferential(), loadData(client)]);
  data.referential = ref;
  await Promise.all([
    screen("patient", renderPatient, data),
    screen("parcours", renderTimeline, data),
    screen("dossier", renderDossier, data),
    screen("pompe", renderPump, data),
    screen("doses", renderDoses, data),
    screen("alertes", renderIssues, data),
    screen("courriers", renderLetters, data),
  ]);
  if (data.dropped) {
    const box = document.getElementById("app-error");
    box.hidden = false;
    box.textContent = `${data.dropped} ressource(s) renvoyée(s) par le serveur ne concernai(en)t pas ce patient : elles ne sont pas affichées.`;
  }
  status.textContent = "Dossier chargé.";
  main.dataset.state = "ready";
}

start().catch((err) => {
  main.dataset.state = "error";
  const box = document.getElementById("app-error");
  box.hidden = false;
  box.textContent = `Erreur : ${err && err.message ? err.message : err}`;
});
