package summary

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/mapping/rules"
)

func searchIDs(t *testing.T, svc *rest.Service, typ string, q url.Values) []string {
	t.Helper()
	var ids []string
	err := svc.Store.View(ctx, func(tx fhir.Tx) error {
		var err error
		ids, err = svc.Engine.Match(tx, typ, q.Encode())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func readBody(t *testing.T, svc *rest.Service, typ, id string) map[string]any {
	t.Helper()
	resp, err := svc.Read(ctx, &rest.Request{Method: http.MethodGet, Type: typ, ID: id})
	if err != nil {
		t.Fatal(err)
	}
	return decode(resp.Body)
}

// TestArchiveSupersedes: at each milestone the current summary is stored as a
// DocumentReference with the IPS Bundle and a PDF as Binaries; the previous one is
// superseded and replaced; the hub finds the current one by the patient's INS and
// the document type (IHE ITI-67), and its Binary is a valid IPS document.
func TestArchiveSupersedes(t *testing.T) {
	v := ipsValidator(t)
	svc := pathwayPatient(t)
	a := &Archiver{Base: "http://gw.test/fhir"}
	for _, fact := range []string{rules.FactRCPDecision, "dossier", rules.FactRefill} {
		if err := svc.Write(ctx, func(w *rest.Writer) error { return a.OnFact(ctx, w, fact, "Patient/ait-patient-example") }); err != nil {
			t.Fatal(err)
		}
	}
	all := searchIDs(t, svc, "DocumentReference", url.Values{"type": {"http://loinc.org|60591-5"}})
	if len(all) != 2 {
		t.Fatalf("%d summary documents, want 2 (RCP decision, refill; the dossier is no archive milestone)", len(all))
	}
	current := searchIDs(t, svc, "DocumentReference", url.Values{
		"patient.identifier": {"urn:oid:1.2.250.1.213.1.4.8|255081416802538"},
		"type":               {"http://loinc.org|60591-5"}, "status": {"current"}})
	if len(current) != 1 {
		t.Fatalf("current documents: %v", current)
	}
	cur := readBody(t, svc, "DocumentReference", current[0])
	if !strings.Contains(str(cur, "description"), "remplissage") {
		t.Errorf("current is not the refill's: %v", cur["description"])
	}
	old := strings.TrimPrefix(str(cur, "relatesTo", "target", "reference"), "DocumentReference/")
	if str(cur, "relatesTo", "code") != "replaces" || old == "" || old == current[0] {
		t.Fatalf("relatesTo: %v", cur["relatesTo"])
	}
	if st := str(readBody(t, svc, "DocumentReference", old), "status"); st != "superseded" {
		t.Errorf("previous status %q, want superseded", st)
	}
	for _, c := range list(cur["content"]) {
		ct := str(c, "attachment", "contentType")
		_, id := split(str(c, "attachment", "url"))
		bin := readBody(t, svc, "Binary", id)
		if str(bin, "securityContext", "reference") != "Patient/ait-patient-example" {
			t.Errorf("Binary/%s securityContext %v", id, bin["securityContext"])
		}
		if str(bin, "contentType") != ct {
			t.Errorf("Binary/%s content type %q, attachment says %q", id, bin["contentType"], ct)
		}
		data, err := base64.StdEncoding.DecodeString(str(bin, "data"))
		if err != nil {
			t.Fatal(err)
		}
		switch ct {
		case "application/fhir+json":
			if errs := errorsOf(v.Validate(data, ProfileBundle)); len(errs) > 0 {
				t.Errorf("stored summary is not valid IPS: %v", errs)
			}
			var b struct{ Type string }
			json.Unmarshal(data, &b)
			if b.Type != "document" {
				t.Errorf("stored Binary is a %q", b.Type)
			}
		case "application/pdf":
			if !strings.HasPrefix(string(data), "%PDF-") || len(data) < 1000 {
				t.Errorf("PDF rendering: %.20q (%d bytes)", data, len(data))
			}
		default:
			t.Errorf("unexpected content %q", ct)
		}
	}
}
