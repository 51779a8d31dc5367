package web

import (
	"encoding/json"
	"fmt"

	"github.com/aitgw/aitgw/mapping/rules"
)

// Limit is one molecule's row of the intrathecal prescription table
// (rules.IntrathecalLimits) as the dose chart draws it: the daily dose unit and the
// bounds, with the seed section they come from.
type Limit struct {
	Molecule string  `json:"molecule"`
	Label    string  `json:"label"`
	DoseUnit string  `json:"doseUnit"`
	DoseMin  float64 `json:"doseMin,omitempty"`
	DoseMax  float64 `json:"doseMax,omitempty"`
	// Hard: above DoseMax is an error, not a warning.
	Hard bool `json:"hard,omitempty"`
	// Start is the starting daily dose; Typical the usual maximum (ziconotide 9.6 ug/d).
	Start   float64 `json:"start,omitempty"`
	Typical float64 `json:"typical,omitempty"`
	// Section is the seed section ("000 §IX.1.c"); Citation names it by document title.
	Section  string `json:"section"`
	Citation string `json:"citation"`
}

// Step is one step of a pathway as the timeline shows it: its code (the CarePlan
// activity's code), its French label, and the facts whose resources stand behind it.
type Step struct {
	Number   int      `json:"number"`
	Code     string   `json:"code"`
	Label    string   `json:"label"`
	Section  string   `json:"section"`
	Citation string   `json:"citation"`
	Facts    []string `json:"facts"`
}

// Referential is the document served at /app/referential.json.
type Referential struct {
	Limits []Limit `json:"limits"`
	// Molecules maps ATC and SNOMED CT substance codes to molecule names.
	Molecules map[string]string `json:"molecules"`
	// Steps of each pathway, by CarePlan category code (ait-pathway, ir-pathway).
	Steps map[string][]Step `json:"steps"`
	// Reservoir bounds (mL) and the refill interval (days), for the pump screen.
	ReservoirMin  float64 `json:"reservoirMin"`
	ReservoirMax  float64 `json:"reservoirMax"`
	RefillSection string  `json:"refillSection"`
}

// stepLabels are the steps' names in French, as the referential names them
// (000 §III; 003 for interventional radiology).
var stepLabels = map[string]string{
	"indication":         "Indication",
	"dossier":            "Dossier AIT du patient",
	"rcp":                "Décision en RCP",
	"preop-consultation": "Consultations préopératoires (algologie, anesthésie)",
	"planning":           "Programmation de l'intervention",
	"prescription":       "Prescription et préparation",
	"hospitalisation":    "Hospitalisation et implantation",
	"discharge":          "Consultation de sortie",
	"follow-up":          "Suivi",
	"refill":             "Remplissages de la pompe",
	"ir-request":         "Demande de radiologie interventionnelle",
	"ir-rcp":             "RCP douleur complexe ou métastases osseuses",
	"ir-consultation":    "Consultation pré-interventionnelle",
	"ir-procedure":       "Geste de radiologie interventionnelle",
	"ir-follow-up":       "Suivi à 1 mois",
}

// moleculeLabels are the molecules' French names.
var moleculeLabels = map[string]string{
	"morphine": "Morphine", "ziconotide": "Ziconotide", "ropivacaine": "Ropivacaïne",
	"bupivacaine": "Bupivacaïne", "hydromorphone": "Hydromorphone", "fentanyl": "Fentanyl",
	"sufentanil": "Sufentanil", "clonidine": "Clonidine", "baclofen": "Baclofène",
}

// referentialJSON serializes the rules tables the screens need, so that no limit is
// written twice (once in Go, once in JavaScript).
func referentialJSON() ([]byte, error) {
	ref := Referential{Molecules: rules.Molecules, Steps: map[string][]Step{},
		ReservoirMin: rules.ReservoirMin.Value, ReservoirMax: rules.ReservoirMax.Value,
		RefillSection: rules.Cite(rules.RefillInterval.Section)}
	for _, l := range rules.IntrathecalLimits {
		label, ok := moleculeLabels[l.Molecule]
		if !ok {
			return nil, fmt.Errorf("web: no French name for the molecule %q", l.Molecule)
		}
		row := Limit{Molecule: l.Molecule, Label: label, DoseUnit: l.DoseUnit, DoseMin: l.DoseMin, DoseMax: l.DoseMax,
			Hard: l.DoseMaxIsHard, Start: l.Start, Section: l.Section, Citation: rules.Cite(l.Section)}
		if l.Molecule == "ziconotide" {
			row.Typical = rules.ZiconotideTypicalMax.Value
		}
		ref.Limits = append(ref.Limits, row)
	}
	for category, steps := range map[string][]rules.Step{"ait-pathway": rules.AITSteps, "ir-pathway": rules.IRSteps} {
		for _, s := range steps {
			label, ok := stepLabels[s.Code]
			if !ok {
				return nil, fmt.Errorf("web: no French label for the pathway step %q", s.Code)
			}
			facts := append(append([]string{}, s.StartedBy...), s.DoneBy...)
			ref.Steps[category] = append(ref.Steps[category], Step{Number: s.Number, Code: s.Code, Label: label,
				Section: s.Section, Citation: rules.Cite(s.Section), Facts: facts})
		}
	}
	return json.Marshal(ref)
}
