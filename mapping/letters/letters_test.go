package letters

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aitgw/aitgw/mapping/letters/lettertest"
	"github.com/aitgw/aitgw/mapping/rules"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// sampleLetter is the letter of one milestone of the sample pathway and the facts it
// must state.
type sampleLetter struct {
	code, about, when, detail string
	want                      []string
}

// sampleLetters are the letters of the whole sample pathway (lettertest), one per
// milestone of the matrix, with the facts each must state.
var sampleLetters = []sampleLetter{
	{"referral-received", lettertest.Referral, "2026-03-03T10:00:00+01:00", "",
		[]string{"reçu le 03/03/2026", "adressée par Dr Anne DOCTEUR", "État du dossier : complet", "Éléments manquants ou périmés : aucun"}},
	{rules.MilestoneDossierIncomplete, lettertest.Referral, "2026-03-03T10:00:00+01:00", "",
		[]string{"reçu le 03/03/2026", "est incomplet"}},
	{"planned-ait-care", lettertest.Referral, "2026-03-03T10:00:00+01:00", "",
		[]string{"adressé(e) le 03/03/2026 par Dr Anne DOCTEUR", "État du dossier : complet"}},
	{"rcp-decision-sent", "Task/ait-rcp-decision-example", "2026-03-12T17:00:00+01:00", "",
		[]string{"pluridisciplinaire du 12/03/2026 à 17h00", "indication d'analgésie intrathécale retenue", "Technique retenue : pompe intrathécale implantée",
			"espérance de vie estimée à 6 mois (espérance de vie supérieure à 3 mois)", "Référentiel régional AIT §VI",
			"Participants : Dr Marc DOCTEUR (CHU Exemple), Dr Lina DOCTEUR (CHU Exemple), Dr Hugo DOCTEUR (CHU Exemple)",
			"consultation d'algologie (information, consentement) : au plus tard le 19/03/2026", "pose : entre 48 h et 15 jours après cette consultation (au plus tard le 03/04/2026)"}},
	{"intervention-planned", "ServiceRequest/planning", "2026-03-18T09:00:00+01:00", "",
		[]string{"(pompe intrathécale implantée)", "Consultation d'algologie : 16/03/2026 à 10h00", "Consultation d'anesthésie : 16/03/2026 à 11h30",
			"Admission : 01/04/2026 à 15h00", "Intervention : 02/04/2026 à 09h30",
			"- oxycodone : arrêt la veille de la pose, relais par PCA intraveineuse", "- apixaban : relais par HBPM, arrêt la veille de la pose (J-1)"}},
	{"implantation-done", "Procedure/ait-implantation-example", "2026-04-02T09:30:00+02:00", "",
		[]string{"réalisée le 02/04/2026 à 09h30 par Dr Lina DOCTEUR", "Medtronic SynchroMed II modèle 8637-40, réservoir de 40 mL",
			"Extrémité du cathéter : niveau vertébral D5", "- morphine 50 mg/mL : 3 mg/j", "- ziconotide 100 µg/mL : 2,4 µg/j",
			"Débit : débit non transmis", "Premier remplissage prévu le 05/05/2026 à 10h00 au centre de remplissage CH Proximité (tél. 03 21 11 11 11)"}},
	{"discharge-letter", "Encounter/discharge", "2026-04-09T11:00:00+02:00", "",
		[]string{"sorti(e) le 09/04/2026 à 11h00", "pose du dispositif intrathécal le 02/04/2026 à 09h30", "réservoir de 40 mL", "niveau vertébral D5",
			"- morphine 50 mg/mL : 3 mg/j", "- ziconotide 100 µg/mL : 2,4 µg/j", "Premier remplissage prévu le 05/05/2026 à 10h00",
			"CH Proximité (tél. 03 21 11 11 11)", "À surveiller : signes de surdosage", "appeler : CHU Exemple, tél. 03 20 00 00 00 (24 h/24)"}},
	{"refill-letter", "Procedure/ait-refill-example", "2026-05-05T10:00:00+02:00", "",
		[]string{"réalisé le 05/05/2026 à 10h00", "- morphine 50 mg/mL : 4 mg/j", "- ziconotide 100 µg/mL : 2,4 µg/j", "Volume instillé : 38 mL",
			"débit : 0,6 mL/j", "Évolution des doses : morphine 3 → 4 mg/j", "Prochain remplissage prévu le 30/06/2026"}},
	{"complication", "Encounter/complication", "2026-05-20T16:00:00+02:00", "",
		[]string{"constatée le 20/05/2026 à 16h00 : céphalées posturales évoquant une fuite de LCS", "- morphine 50 mg/mL : 4 mg/j",
			"appeler : CHU Exemple, tél. 03 20 00 00 00"}},
	{rules.MilestoneOverdue, "CarePlan/ait-careplan-example", "2026-03-20T08:00:00+01:00",
		"RCP within 15 days of the complete dossier: due 2026-03-18T09:00:00Z (000 §VI)",
		[]string{"RCP dans les 15 jours suivant le dossier complet (Référentiel régional AIT §VI)", "dépassée depuis le 18/03/2026 à 10h00",
			"À traiter par : l'algologue coordonnateur, Dr Marc DOCTEUR (CHU Exemple)"}},
	{rules.MilestoneOverdue, "CarePlan/ait-careplan-example", "2026-07-02T08:00:00+02:00",
		"refill by the scheduled date: due 2026-06-30T00:00:00+02:00 (000 §XIII)",
		[]string{"remplissage de la pompe à la date prévue (Référentiel régional AIT §XIII)", "dépassée depuis le 30/06/2026 à 00h00"}},
	{rules.MilestoneRefillOverdue, "CarePlan/ait-careplan-example", "2026-07-02T08:00:00+02:00",
		"refill by the scheduled date: due 2026-06-30T00:00:00+02:00 (000 §XIII)",
		[]string{"Le remplissage prévu n'a pas été réalisé : remplissage de la pompe à la date prévue (Référentiel régional AIT §XIII)",
			"dépassée depuis le 30/06/2026 à 00h00", "programmer le remplissage sans délai"}},
	{rules.MilestonePumpDry, "Procedure/ait-refill-example", "2026-05-05T10:00:00+02:00",
		"dry on 2026-06-25, refill scheduled 2026-06-30 (000 §XIII, 001)",
		[]string{"réservoir vide le 25/06/2026, remplissage prévu le 30/06/2026", "Depuis le remplissage du 05/05/2026 à 10h00", "Dr Marc DOCTEUR"}},
	{"trial-result", "Encounter/trial", "2026-03-01T10:00:00+01:00", "",
		[]string{"positif, le 01/03/2026 à 10h00 ; soulagement de 70 % à 4 semaines", "Chiffres : " + rules.MissingPhrase("trialFigures"),
			"Décision : pose de la pompe intrathécale définitive, après accord de l'assurance"}},
	{"ir-rcp-decision", "Task/ir-rcp", "2026-01-22T14:00:00+01:00", "",
		[]string{"RCP du 22/01/2026 à 14h00", "indication de cimentoplastie retenue", "Geste retenu : cimentoplastie de la vertèbre L2", "Référentiel régional RI"}},
	{"ir-procedure-done", "Procedure/ait-ir-procedure-example", "2026-02-10T14:00:00+01:00", "",
		[]string{"réalisé le 10/02/2026 à 14h00 : cimentoplastie (L2 vertebral body)", "Suivi à 1 mois prévu vers le 10/03/2026"}},
}

// compose writes the sample letter of s to the GP.
func compose(t *testing.T, r *lettertest.Store, s sampleLetter) Document {
	t.Helper()
	ev := Event{Code: s.code, Patient: lettertest.Patient, About: []string{s.about, "CarePlan/ait-careplan-example"},
		At: at(s.when), Detail: s.detail, Coordinator: lettertest.Algologist}
	d, err := Compose(r, ev, lettertest.GP, string(rules.RoleGP))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestEveryLetterOfTheSamplePathway renders the letter of every milestone of the
// matrix for the sample pathway and checks the facts it states, the patient's
// identity with the INS, the signature and the source by title.
func TestEveryLetterOfTheSamplePathway(t *testing.T) {
	r, err := lettertest.New()
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, s := range sampleLetters {
		covered[s.code] = true
		d := compose(t, r, s)
		text := d.Text()
		for _, w := range append(s.want, "Jeanne EXEMPLE, né(e) le 14/08/1955, INS (NIR) 255081416802538", "Dr Marc DOCTEUR", "RPPS 10000000003") {
			if !strings.Contains(text, w) {
				t.Errorf("%s: letter lacks %q:\n%s", s.code, w, text)
			}
		}
		if strings.Contains(text, "non renseigné") || strings.Contains(text, "{{") || strings.Contains(text, "000 §") {
			t.Errorf("%s: placeholder or raw citation left:\n%s", s.code, text)
		}
	}
	for _, m := range rules.Milestones {
		if !covered[m.Code] {
			t.Errorf("milestone %s has no sample letter", m.Code)
		}
	}
}

// TestMissingFactsAreNamed: a pathway whose resources say nothing gives a letter
// that names each missing fact, never an empty phrase.
func TestMissingFactsAreNamed(t *testing.T) {
	r := &lettertest.Store{}
	r.Put([]byte(`{"resourceType":"Patient","id":"p"}`))
	r.Put([]byte(`{"resourceType":"Procedure","id":"r","status":"completed","subject":{"reference":"Patient/p"},"code":{"coding":[{"system":"https://fhir.aitgw.org/ig/ait/CodeSystem/ait","code":"pump-refill"}]},"performedDateTime":"2026-05-05"}`))
	d, err := Compose(r, Event{Code: "refill-letter", Patient: "Patient/p", About: []string{"Procedure/r"}, At: at("2026-05-05T10:00:00Z")}, "Practitioner/x", "general-practitioner")
	if err != nil {
		t.Fatal(err)
	}
	text := d.Text()
	for _, w := range []string{"réalisé le 05/05/2026", "molécules, concentrations et doses non transmises", "volume instillé non transmis",
		"date du prochain remplissage non transmise", "INS non transmis", "date de naissance non transmise"} {
		if !strings.Contains(text, w) {
			t.Errorf("letter lacks %q:\n%s", w, text)
		}
	}
	if strings.Contains(text, ":  ") || strings.Contains(text, " : .") || strings.Contains(text, "le .") {
		t.Errorf("an empty phrase:\n%s", text)
	}
}

// TestIncompleteDossierNamesWhatIsMissingAndStale: the referral letter lists a lab
// that is missing and imaging that is stale (000 §V.2).
func TestIncompleteDossierNamesWhatIsMissingAndStale(t *testing.T) {
	r, err := lettertest.New()
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := r.Read("ServiceRequest", "ait-referral-example")
	var sr map[string]any
	if err := json.Unmarshal(raw, &sr); err != nil {
		t.Fatal(err)
	}
	// drop the platelets from the dossier and refer two months later: labs and imaging are stale
	var kept []any
	for _, s := range sr["supportingInfo"].([]any) {
		if s.(map[string]any)["reference"] != "Observation/ait-lab-777-3-example" {
			kept = append(kept, s)
		}
	}
	sr["supportingInfo"], sr["authoredOn"] = kept, "2026-05-10"
	raw, _ = json.Marshal(sr)
	r.Put(raw)
	d := compose(t, r, sampleLetter{code: rules.MilestoneDossierIncomplete, about: lettertest.Referral, when: "2026-05-10T10:00:00+02:00"})
	text := d.Text()
	for _, w := range []string{"reçu le 10/05/2026", "- plaquettes : manquant", "- hémoglobine : périmé (daté du", "scanner thoraco-abdomino-pelvien avec le rachis : périmé"} {
		if !strings.Contains(text, w) {
			t.Errorf("letter lacks %q:\n%s", w, text)
		}
	}
}

var png = flag.String("letter-png", "", "write the discharge letter of the sample pathway as a PNG to this file (README image)")

// pdfText extracts a PDF's text with pdftotext (poppler-utils), installed when
// missing; the test fails when it cannot be.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	needTool(t, "pdftotext")
	dir := t.TempDir()
	in := filepath.Join(dir, "letter.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", in, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return string(out)
}

// needTool installs poppler-utils when tool is missing, or fails.
func needTool(t *testing.T, tool string) {
	t.Helper()
	if _, err := exec.LookPath(tool); err == nil {
		return
	}
	if out, err := exec.Command("sh", "-c", "apt-get install -y poppler-utils || (apt-get update && apt-get install -y poppler-utils)").CombinedOutput(); err != nil {
		t.Fatalf("%s is missing and poppler-utils could not be installed: %v\n%s", tool, err, out)
	}
	if _, err := exec.LookPath(tool); err != nil {
		t.Fatalf("%s still missing after installing poppler-utils", tool)
	}
}

// squash folds the PDF text's line breaks and spacing so that facts wrapped over
// two lines still match.
func squash(s string) string { return strings.Join(strings.Fields(s), " ") }

// TestLetterPDFsStateTheFacts renders every sample letter as a PDF and reads it back
// with pdftotext: the facts, the patient's INS, the author and his RPPS are in it.
func TestLetterPDFsStateTheFacts(t *testing.T) {
	r, err := lettertest.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sampleLetters {
		d := compose(t, r, s)
		pdf, err := d.PDF()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
			t.Fatalf("%s: not a PDF", s.code)
		}
		text := squash(pdfText(t, pdf))
		for _, w := range append(s.want, "INS (NIR) 255081416802538", "Dr Marc DOCTEUR", "RPPS 10000000003", "LOINC "+d.Letter.DocType.Code, d.Subject) {
			w = squash(strings.ReplaceAll(strings.ReplaceAll(w, "→", "->"), "- ", "• "))
			if !strings.Contains(text, w) {
				t.Errorf("%s: PDF lacks %q:\n%s", s.code, w, text)
			}
		}
		if s.code == "discharge-letter" && *png != "" {
			needTool(t, "pdftoppm")
			dir := t.TempDir()
			in := filepath.Join(dir, "l.pdf")
			_ = os.WriteFile(in, pdf, 0o600)
			if out, err := exec.Command("pdftoppm", "-png", "-r", "60", "-singlefile", in, strings.TrimSuffix(*png, ".png")).CombinedOutput(); err != nil {
				t.Fatalf("pdftoppm: %v %s", err, out)
			}
		}
	}
}
