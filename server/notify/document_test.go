package notify

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"
)

// The letter is stored as a PDF Binary and a DocumentReference typed with its LOINC
// document type, in the milestone's commit, linked from the Communication and found
// by patient and type.
func TestLetterStoredAsDocumentReference(t *testing.T) {
	e := newEnv(t)
	e.pathway()
	if err := e.milestone(rcpMilestone()); err != nil {
		t.Fatal(err)
	}
	comms := e.match("Communication", "recipient=Practitioner/gp")
	if len(comms) != 1 {
		t.Fatalf("Communications to the GP: %v", comms)
	}
	c := e.read("Communication", comms[0])
	payload := c["payload"].([]any)
	if len(payload) != 2 {
		t.Fatalf("payload %v", payload)
	}
	docRef, _ := payload[1].(map[string]any)["contentReference"].(map[string]any)["reference"].(string)
	docs := e.match("DocumentReference", "patient=Patient/p1&type="+SystemLOINC+"|11488-4")
	if len(docs) != 2 || !strings.HasPrefix(docRef, "DocumentReference/") {
		t.Fatalf("DocumentReferences of the patient typed consult note: %v; the Communication links %q", docs, docRef)
	}
	found := false
	for _, d := range docs {
		found = found || "DocumentReference/"+d == docRef
	}
	if !found {
		t.Fatalf("the Communication links %s, not among %v", docRef, docs)
	}
	dr := e.read("DocumentReference", strings.TrimPrefix(docRef, "DocumentReference/"))
	att := dr["content"].([]any)[0].(map[string]any)["attachment"].(map[string]any)
	if att["contentType"] != "application/pdf" || dr["subject"].(map[string]any)["reference"] != "Patient/p1" ||
		dr["author"].([]any)[0].(map[string]any)["reference"] != "Practitioner/algo" {
		t.Errorf("DocumentReference %v", dr)
	}
	bin := e.read("Binary", strings.TrimPrefix(att["url"].(string), "Binary/"))
	pdf, err := base64.StdEncoding.DecodeString(bin["data"].(string))
	if err != nil || !bytes.HasPrefix(pdf, []byte("%PDF-")) || int(att["size"].(float64)) != len(pdf) {
		t.Errorf("Binary is not the PDF: %v, %d bytes, size %v", err, len(pdf), att["size"])
	}
}
