package notify

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/aitgw/aitgw/mapping/letters"
)

// SystemLOINC is the system of the letters' document types.
const SystemLOINC = "http://loinc.org"

// documentIDs are the ids of a Communication's letter: its DocumentReference and
// the Binary holding the PDF.
func documentIDs(comm string) (doc, bin string) {
	base := strings.TrimPrefix(comm, "ntf-")
	return "ltr-" + base, "pdf-" + base
}

// storeLetter writes the letter's PDF as a Binary (its securityContext the patient, which
// puts it in the patient's compartment) and its DocumentReference (typed
// with the letter's LOINC document type, searchable by patient and type) in the
// milestone's transaction, and returns the DocumentReference's reference.
func storeLetter(w Writer, comm string, m Milestone, doc letters.Document) (string, error) {
	pdf, err := doc.PDF()
	if err != nil {
		return "", err
	}
	docID, binID := documentIDs(comm)
	type ref struct {
		Reference string `json:"reference"`
		Display   string `json:"display,omitempty"`
	}
	type coding struct {
		System  string `json:"system"`
		Code    string `json:"code"`
		Display string `json:"display,omitempty"`
	}
	type concept struct {
		Coding []coding `json:"coding"`
		Text   string   `json:"text,omitempty"`
	}
	bin, _ := json.Marshal(struct {
		ResourceType    string `json:"resourceType"`
		ID              string `json:"id"`
		ContentType     string `json:"contentType"`
		SecurityContext ref    `json:"securityContext"`
		Data            string `json:"data"`
	}{"Binary", binID, "application/pdf", ref{Reference: m.Patient}, base64.StdEncoding.EncodeToString(pdf)})
	if _, _, err := w.Put("Binary", binID, bin, http.MethodPut, 0); err != nil {
		return "", err
	}
	sum := sha1.Sum(pdf)
	created := doc.Date.UTC().Format(time.RFC3339)
	type attachment struct {
		ContentType string `json:"contentType"`
		Language    string `json:"language"`
		URL         string `json:"url"`
		Size        int    `json:"size"`
		Hash        string `json:"hash"`
		Title       string `json:"title"`
		Creation    string `json:"creation"`
	}
	type content struct {
		Attachment attachment `json:"attachment"`
	}
	type related struct {
		Related []ref `json:"related"`
	}
	dr := struct {
		ResourceType string    `json:"resourceType"`
		ID           string    `json:"id"`
		Status       string    `json:"status"`
		DocStatus    string    `json:"docStatus"`
		Type         concept   `json:"type"`
		Category     []concept `json:"category"`
		Subject      ref       `json:"subject"`
		Date         string    `json:"date"`
		Author       []ref     `json:"author,omitempty"`
		Custodian    *ref      `json:"custodian,omitempty"`
		Description  string    `json:"description"`
		Content      []content `json:"content"`
		Context      related   `json:"context"`
	}{
		ResourceType: "DocumentReference", ID: docID, Status: "current", DocStatus: "final",
		Type:     concept{Coding: []coding{{SystemLOINC, doc.Letter.DocType.Code, doc.Letter.DocType.Display}}, Text: doc.Letter.DocType.French},
		Category: []concept{{Coding: []coding{{CategorySystem, m.Code, m.Display}}}},
		Subject:  ref{Reference: m.Patient}, Date: created, Description: doc.Subject,
		Content: []content{{attachment{ContentType: "application/pdf", Language: "fr-FR", URL: "Binary/" + binID, Size: len(pdf),
			Hash: base64.StdEncoding.EncodeToString(sum[:]), Title: doc.Subject, Creation: created}}},
		Context: related{Related: []ref{{Reference: "Communication/" + comm}}},
	}
	if m.Coordinator != "" {
		dr.Author = []ref{{Reference: m.Coordinator, Display: doc.Author.Name}}
	}
	if doc.Custodian.Reference != "" {
		dr.Custodian = &ref{Reference: doc.Custodian.Reference, Display: doc.Custodian.Name}
	}
	body, _ := json.Marshal(dr)
	if _, _, err := w.Put("DocumentReference", docID, body, http.MethodPut, 0); err != nil {
		return "", err
	}
	return "DocumentReference/" + docID, nil
}
