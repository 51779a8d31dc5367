package summary

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/mapping/rules"
)

// archiveMilestones are the pathway facts after which the stored summary document is
// refreshed for document-based hubs (DMP): they change the treatment, the devices or
// the plan. Each row names its seed section.
var archiveMilestones = map[string]struct{ label, seed string }{
	rules.FactRCPDecision:  {"décision de RCP", "000 §VI"},
	rules.FactImplantation: {"implantation", "000 §X"},
	rules.FactDischarge:    {"sortie d'hospitalisation", "000 §XI"},
	rules.FactRefill:       {"remplissage", "000 §XIII"},
}

// Document codes of the stored summary (IHE MHD / DMP search keys).
const (
	loincSystem  = "http://loinc.org"
	loincSummary = "60591-5"
	// formatIPS is the IHE format code of an IPS FHIR document.
	formatSystem = "http://ihe.net/fhir/ihe.formatcode.fhir/CodeSystem/formatcode"
	formatIPS    = "urn:ihe:pcc:ips:2020"
)

// Archiver keeps, for each patient of a pathway, the current summary document as a
// DocumentReference with its Binary (the IPS Bundle, and a PDF rendering), and marks
// the previous one superseded (relatesTo replaces). It runs inside the step's write
// transaction: the document commits with the step or not at all.
type Archiver struct {
	// Base is the server's FHIR base (entries' fullUrl in the document).
	Base string
}

// OnFact refreshes the document when fact is one of the archive milestones; patient
// is "Patient/{id}".
func (a *Archiver) OnFact(ctx context.Context, w *rest.Writer, fact, patient string) error {
	m, ok := archiveMilestones[fact]
	if !ok {
		return nil
	}
	typ, id := split(patient)
	if typ != "Patient" || id == "" {
		return nil
	}
	now := w.Now()
	doc, err := Build(Snapshot{Tx: w.Tx(), Match: func(_ fhir.Tx, t, q string) ([]string, error) { return w.Match(t, q) }},
		Input{Patient: id, Base: a.Base, Now: now})
	if err != nil {
		return err
	}
	docID, pdfID, refID := rest.NewID(), rest.NewID(), rest.NewID()
	if _, _, err := w.Put("Binary", docID, binary("application/fhir+json", doc, patient), http.MethodPost, 0); err != nil {
		return err
	}
	pdf, err := RenderPDF(doc)
	if err != nil {
		return err
	}
	if _, _, err := w.Put("Binary", pdfID, binary("application/pdf", pdf, patient), http.MethodPost, 0); err != nil {
		return err
	}
	previous, err := w.Match("DocumentReference", url.Values{"subject": {patient}, "type": {loincSystem + "|" + loincSummary},
		"status": {"current"}}.Encode())
	if err != nil {
		return err
	}
	var ident struct{ Identifier struct{ Value string } }
	json.Unmarshal(doc, &ident)
	title := "Synthèse médicale (IPS) après " + m.label
	ref := map[string]any{
		"resourceType":     "DocumentReference",
		"masterIdentifier": map[string]any{"system": "urn:ietf:rfc:3986", "value": ident.Identifier.Value},
		"status":           "current",
		"docStatus":        "final",
		"type":             map[string]any{"coding": []any{map[string]any{"system": loincSystem, "code": loincSummary, "display": "Patient summary Document"}}},
		"subject":          map[string]any{"reference": patient},
		"date":             now.UTC().Format(time.RFC3339),
		"description":      title + " (" + rules.Cite(m.seed) + ")",
		"content": []any{
			map[string]any{"attachment": map[string]any{"contentType": "application/fhir+json", "language": "fr-FR",
				"url": "Binary/" + docID, "title": title, "creation": now.UTC().Format(time.RFC3339)},
				"format": map[string]any{"system": formatSystem, "code": formatIPS}},
			map[string]any{"attachment": map[string]any{"contentType": "application/pdf", "language": "fr-FR",
				"url": "Binary/" + pdfID, "title": title + " (PDF)", "creation": now.UTC().Format(time.RFC3339)}},
		},
	}
	var replaces []any
	for _, old := range previous {
		replaces = append(replaces, map[string]any{"code": "replaces", "target": map[string]any{"reference": "DocumentReference/" + old}})
		if err := supersede(w, old); err != nil {
			return err
		}
	}
	if len(replaces) > 0 {
		ref["relatesTo"] = replaces
	}
	_, _, err = w.Put("DocumentReference", refID, fhir.MarshalNoEscape(ref), http.MethodPost, 0)
	return err
}

// supersede marks a previous summary's DocumentReference superseded.
func supersede(w *rest.Writer, id string) error {
	rec, err := w.Tx().Current("DocumentReference", id)
	if err != nil || rec.Deleted {
		return err
	}
	m := decode(rec.Body)
	m["status"] = "superseded"
	_, _, err = w.Put("DocumentReference", id, fhir.MarshalNoEscape(m), http.MethodPut, rec.Version)
	return err
}

// binary wraps a document; securityContext names the patient whose data it holds, so
// that access to it follows access to that patient (Binary is outside the R4 patient
// compartment).
func binary(contentType string, data []byte, patient string) []byte {
	return fhir.MarshalNoEscape(map[string]any{"resourceType": "Binary", "contentType": contentType,
		"securityContext": map[string]any{"reference": patient}, "data": base64.StdEncoding.EncodeToString(data)})
}
