package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aitgw/aitgw/conformance/kit"
	"github.com/aitgw/aitgw/profiles"
)

// Identifier systems of the intake tests: the INS-NIR OID and a sender's IPP.
const (
	insNIR   = "urn:oid:1.2.250.1.213.1.4.8"
	ippSys   = "https://ehr.example-hospital.org/mrn"
	refSys   = "https://ehr.example-hospital.org/referrals"
	aitCS    = "https://fhir.aitgw.org/ig/ait/CodeSystem/ait"
	auditSub = aitCS + "|identity-conflict"
)

// who is the identity a test referral sends.
type who struct {
	INS, IPP, Birth, Family, Referral string
}

// referralFor is a small referral: the patient, the referral ServiceRequest and one
// lab Observation, as a transaction Bundle.
func referralFor(p who) []byte {
	var ids []any
	if p.INS != "" {
		ids = append(ids, map[string]any{"system": insNIR, "value": p.INS})
	}
	if p.IPP != "" {
		ids = append(ids, map[string]any{"system": ippSys, "value": p.IPP})
	}
	pat := map[string]any{"resourceType": "Patient", "identifier": ids, "birthDate": p.Birth,
		"name": []any{map[string]any{"family": p.Family, "given": []any{"Test"}}}}
	patURL := "urn:uuid:" + fakeUUID(p.INS+p.IPP+p.Birth+p.Family)
	sr := map[string]any{"resourceType": "ServiceRequest", "status": "active", "intent": "order",
		"identifier": []any{map[string]any{"system": refSys, "value": p.Referral}},
		"code":       map[string]any{"coding": []any{map[string]any{"system": aitCS, "code": "ait-referral"}}},
		"subject":    map[string]any{"reference": patURL}, "authoredOn": "2026-03-02"}
	obs := map[string]any{"resourceType": "Observation", "status": "final",
		"code":              map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": "777-3", "display": "Platelets"}}},
		"subject":           map[string]any{"reference": patURL},
		"effectiveDateTime": "2026-03-01",
		"valueQuantity":     map[string]any{"value": 210000, "unit": "/mm3", "system": "http://unitsofmeasure.org", "code": "/mm3"}}
	entry := func(url string, r map[string]any) map[string]any {
		return map[string]any{"fullUrl": url, "resource": r, "request": map[string]any{"method": "POST", "url": r["resourceType"]}}
	}
	b, _ := json.Marshal(map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": []any{
		entry(patURL, pat), entry("urn:uuid:"+fakeUUID("sr"+p.Referral+patURL), sr), entry("urn:uuid:"+fakeUUID("obs"+patURL), obs)}})
	return b
}

// fakeUUID is a stable UUID-shaped string from s.
func fakeUUID(s string) string {
	var h uint64 = 1469598103934665603
	for _, c := range []byte(s) {
		h = (h ^ uint64(c)) * 1099511628211
	}
	x := fmt.Sprintf("%016x%016x", h, h*31+7)
	return x[:8] + "-" + x[8:12] + "-4" + x[13:16] + "-8" + x[17:20] + "-" + x[20:32]
}

// total counts the current resources of typ.
func total(t *testing.T, c *Client, typ string) int {
	t.Helper()
	r, err := c.Do(http.MethodGet, typ+"?_summary=count", nil, nil)
	if err != nil || r.Status != http.StatusOK {
		t.Fatalf("count %s: %v %s", typ, err, r)
	}
	var b struct{ Total int }
	json.Unmarshal(r.Body, &b)
	return b.Total
}

// counts are the resources a referral writes.
func counts(t *testing.T, c *Client) string {
	return fmt.Sprintf("Patient=%d ServiceRequest=%d Observation=%d CarePlan=%d",
		total(t, c, "Patient"), total(t, c, "ServiceRequest"), total(t, c, "Observation"), total(t, c, "CarePlan"))
}

// outcomeText joins the diagnostics and expressions of an OperationOutcome.
func outcomeText(body []byte) string {
	var oo struct {
		Issue []struct {
			Severity, Code, Diagnostics string
			Expression                  []string
		}
	}
	json.Unmarshal(body, &oo)
	var parts []string
	for _, is := range oo.Issue {
		parts = append(parts, is.Severity+" "+is.Code+" "+is.Diagnostics+" ["+strings.Join(is.Expression, " ")+"]")
	}
	return strings.Join(parts, "; ")
}

// TestIdentityConflictMatrix posts a first referral, then a second one that differs
// in INS, IPP, birth date, family name or referral identifier, and checks the
// verdict: the same person is matched (idempotent, or a second pathway under a new
// referral identifier), another person who collides with the first's identifiers is
// refused with a 409 naming the element and both identities, nothing written.
func TestIdentityConflictMatrix(t *testing.T) {
	g := startGateway(t)
	c := g.Client()
	refusals := 0
	for i, tc := range []struct {
		name   string
		second func(first who) who
		status int
		// disagrees is the element the refusal names.
		disagrees string
		// newPatient, newReferral: what an accepted second referral creates.
		newPatient, newReferral bool
	}{
		{"same INS, IPP, birth date, referral: idempotent", func(f who) who { return f }, 200, "", false, false},
		{"same INS, other birth date: the INS decides", func(f who) who { f.Birth = "1950-01-01"; return f }, 200, "", false, false},
		{"same INS, other referral: second pathway of the same patient", func(f who) who { f.Referral += "-B"; return f }, 200, "", false, true},
		{"other INS, same IPP: refused", func(f who) who { f.INS = "1" + f.INS[1:]; return f }, 409, "Patient.identifier (INS)", false, false},
		{"other INS, other IPP, same referral: refused", func(f who) who { f.INS = "1" + f.INS[1:]; f.IPP += "-B"; return f }, 409, "ServiceRequest.identifier", false, false},
		{"other INS, other IPP, other referral: another patient", func(f who) who { f.INS = "1" + f.INS[1:]; f.IPP += "-B"; f.Referral += "-B"; return f }, 200, "", true, true},
		{"no INS, same IPP, birth date, name, referral: matched", func(f who) who { f.INS = ""; return f }, 200, "", false, false},
		{"no INS, same IPP, other birth date: refused", func(f who) who { f.INS = ""; f.Birth = "1950-01-01"; return f }, 409, "Patient.birthDate", false, false},
		{"no INS, same IPP, other birth date, other referral: refused", func(f who) who { f.INS = ""; f.Birth = "1950-01-01"; f.Referral += "-B"; return f }, 409, "Patient.birthDate", false, false},
		{"no INS, same IPP, other family name: refused", func(f who) who { f.INS = ""; f.Family = "Autre"; return f }, 409, "Patient.name.family", false, false},
		{"no INS, other IPP, same referral: refused", func(f who) who { f.INS = ""; f.IPP += "-B"; return f }, 409, "ServiceRequest.identifier", false, false},
		{"no INS, other IPP, other referral: another patient", func(f who) who { f.INS = ""; f.IPP += "-B"; f.Referral += "-B"; return f }, 200, "", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			first := who{INS: fmt.Sprintf("2790351215%05d", i), IPP: fmt.Sprintf("MRN-%03d", i), Birth: "1979-03-05", Family: "Synthetique", Referral: fmt.Sprintf("REF-M-%03d", i)}
			if r, err := c.Do(http.MethodPost, "$ait-referral", referralFor(first), nil); err != nil || r.Status != http.StatusOK {
				t.Fatalf("first referral: %v %s", err, r)
			}
			before := [2]int{total(t, c, "Patient"), total(t, c, "ServiceRequest")}
			obs := total(t, c, "Observation")
			second := tc.second(first)
			r, err := c.Do(http.MethodPost, "$ait-referral", referralFor(second), nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%-65s -> %d %s", tc.name, r.Status, outcomeText(r.Body))
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r)
			}
			after := [2]int{total(t, c, "Patient"), total(t, c, "ServiceRequest")}
			if tc.status != 200 {
				refusals++
				msg := outcomeText(r.Body)
				for _, want := range []string{tc.disagrees, "Patient/", "conflict", "Nothing was written"} {
					if !strings.Contains(msg, want) {
						t.Errorf("refusal does not name %q: %s", want, msg)
					}
				}
				sent := "INS " + insNIR + "|" + second.INS
				if second.INS == "" {
					sent = "IPP " + ippSys + "|" + second.IPP
				}
				if !strings.Contains(msg, sent) {
					t.Errorf("refusal does not name the identity sent (%s): %s", sent, msg)
				}
				if after != before || total(t, c, "Observation") != obs {
					t.Errorf("a refused referral wrote: Patients/ServiceRequests %v -> %v, Observations %d -> %d", before, after, obs, total(t, c, "Observation"))
				}
				return
			}
			wantP, wantS := before[0], before[1]
			if tc.newPatient {
				wantP++
			}
			if tc.newReferral {
				wantS++
			}
			if after != [2]int{wantP, wantS} {
				t.Errorf("Patients/ServiceRequests %v -> %v, want %v", before, after, [2]int{wantP, wantS})
			}
		})
	}
	waitForAudit(t, g, refusals)
	if n := auditCount(t, g); n != refusals {
		t.Errorf("%d identity-conflict AuditEvents for %d refusals", n, refusals)
	}
}

// waitForAudit waits until at least n identity-conflict AuditEvents are recorded.
func waitForAudit(t *testing.T, g *Gateway, n int) {
	t.Helper()
	c := NewClient(g.BaseURL)
	c.Token = tokenFor(t, g, "system/AuditEvent.rs", "")
	deadline := time.Now().Add(10 * time.Second)
	got := 0
	for time.Now().Before(deadline) {
		r, err := c.Do(http.MethodGet, "AuditEvent?subtype="+auditSub+"&_summary=count", nil, nil)
		if err == nil && r.Status == http.StatusOK {
			var b struct{ Total int }
			json.Unmarshal(r.Body, &b)
			if got = b.Total; got >= n {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Errorf("%d identity-conflict AuditEvents recorded, want at least %d", got, n)
}

// fixture reads a referral of mapping/testdata.
func fixture(t *testing.T, name string) []byte {
	t.Helper()
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "mapping", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSampleReferralsOfTwoPatients: referral-frcore.json and referral-plain-r4.json
// share the referral identifier REF-2026-0001 but describe two patients: the second
// is refused (409 naming the referral identifier and the dossier it points at),
// nothing of it is written, and the conflict is audited.
func TestSampleReferralsOfTwoPatients(t *testing.T) {
	g := startGateway(t)
	c := g.Client()
	if r, err := c.Do(http.MethodPost, "$ait-referral", fixture(t, "referral-frcore.json"), nil); err != nil || r.Status != http.StatusOK {
		t.Fatalf("frcore referral: %v %s", err, r)
	}
	before := counts(t, c)
	for _, door := range []string{"$ait-referral", ""} {
		r, err := c.Do(http.MethodPost, door, fixture(t, "referral-plain-r4.json"), nil)
		if err != nil {
			t.Fatal(err)
		}
		msg := outcomeText(r.Body)
		if r.Status != http.StatusConflict || !strings.Contains(msg, "REF-2026-0001") || !strings.Contains(msg, "Patient/") ||
			!strings.Contains(msg, "MRN-000417") {
			t.Errorf("door %q: plain-r4 referral of another patient: %d %s", door, r.Status, msg)
		}
		if after := counts(t, c); after != before {
			t.Errorf("door %q: the refused referral wrote: %s -> %s", door, before, after)
		}
	}
	waitForAudit(t, g, 2)
	if n := auditCount(t, g); n != 2 {
		t.Errorf("%d identity-conflict AuditEvents for 2 refusals", n)
	}
}

// auditCount counts the identity-conflict AuditEvents.
func auditCount(t *testing.T, g *Gateway) int {
	t.Helper()
	c := NewClient(g.BaseURL)
	c.Token = tokenFor(t, g, "system/AuditEvent.rs", "")
	r, err := c.Do(http.MethodGet, "AuditEvent?subtype="+auditSub+"&_summary=count", nil, nil)
	if err != nil || r.Status != http.StatusOK {
		t.Fatalf("AuditEvent count: %v %s", err, r)
	}
	var b struct{ Total int }
	json.Unmarshal(r.Body, &b)
	return b.Total
}

// TestReferralByEitherDoor: a referral posted as a plain transaction to the base gets
// the intake of $ait-referral (pathway CarePlan, profiles; each entry's outcome says
// so), and posting it again by the other door creates nothing.
func TestReferralByEitherDoor(t *testing.T) {
	g := startGateway(t)
	c := g.Client()
	body := fixture(t, "referral-frcore.json")
	r, err := c.Do(http.MethodPost, "", body, nil)
	if err != nil || r.Status != http.StatusOK {
		t.Fatalf("transaction: %v %s", err, r)
	}
	var resp struct {
		Type  string
		Entry []struct {
			Response struct {
				Status  string
				Outcome json.RawMessage
			}
		}
	}
	json.Unmarshal(r.Body, &resp)
	var sent struct{ Entry []any }
	json.Unmarshal(body, &sent)
	if resp.Type != "transaction-response" || len(resp.Entry) != len(sent.Entry) {
		t.Fatalf("transaction-response of %d entries for %d sent: %s", len(resp.Entry), len(sent.Entry), r)
	}
	for i, e := range resp.Entry {
		if !strings.Contains(outcomeText(e.Response.Outcome), "referral intake") {
			t.Errorf("entry %d: outcome does not say the referral intake processed it: %s", i, e.Response.Outcome)
		}
	}
	once := counts(t, c)
	if !strings.Contains(once, "CarePlan=1") || !strings.Contains(once, "ServiceRequest=1") {
		t.Errorf("after the transaction: %s, want one referral and its pathway CarePlan", once)
	}
	if r, err := c.Do(http.MethodPost, "$ait-referral", body, nil); err != nil || r.Status != http.StatusOK {
		t.Fatalf("$ait-referral after the transaction: %v %s", err, r)
	}
	if r, err := c.Do(http.MethodPost, "", body, nil); err != nil || r.Status != http.StatusOK {
		t.Fatalf("transaction again: %v %s", err, r)
	}
	if again := counts(t, c); again != once {
		t.Errorf("retrying by the other door wrote: %s -> %s", once, again)
	}
	cp, _ := c.Do(http.MethodGet, "CarePlan", nil, nil)
	if !strings.Contains(string(cp.Body), "ait-pathway") {
		t.Errorf("the transaction opened no AIT pathway CarePlan: %s", cp)
	}
}

// guideReferral is the guide's example referral with its patient, practitioners,
// centres and dossier, as the transaction an EHR would post (PUT by id, so that the
// examples' references hold).
func guideReferral(t *testing.T) []byte {
	t.Helper()
	pkg, err := profiles.Load()
	if err != nil {
		t.Fatal(err)
	}
	keep := map[string]bool{"Patient": true, "Practitioner": true, "PractitionerRole": true, "Organization": true,
		"DocumentReference": true, "DiagnosticReport": true, "MedicationStatement": true, "ServiceRequest": true, "Observation": true}
	var entries []any
	for _, r := range pkg.Examples() {
		if !keep[r.Type] {
			continue
		}
		entries = append(entries, map[string]any{"fullUrl": "https://fhir.aitgw.org/ig/ait/" + r.Type + "/" + r.ID,
			"resource": json.RawMessage(r.Body), "request": map[string]any{"method": "PUT", "url": r.Type + "/" + r.ID}})
	}
	b, _ := json.Marshal(map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": entries})
	return b
}

// TestGuideReferralIsAStepTarget: the guide's example referral, posted as a
// transaction, is taken in as a referral (its pathway CarePlan opened), keeps its
// AITReferral profile, reads complete in $ait-dossier-status, and is a valid target of
// the guide's step profiles: the guide's RCP decision example, which claims
// AITRCPDecision and is based on it, is accepted. The FR Core sample referral, whose
// dossier $ait-dossier-status calls complete, keeps its AITReferral profile too.
func TestGuideReferralIsAStepTarget(t *testing.T) {
	g := startGateway(t)
	c := g.Client()
	r, err := c.Do(http.MethodPost, "", guideReferral(t), nil)
	if err != nil || r.Status != http.StatusOK {
		t.Fatalf("guide referral: %v %s", err, r)
	}
	sr, _ := c.Do(http.MethodGet, "ServiceRequest/ait-referral-example", nil, nil)
	if !strings.Contains(string(sr.Body), "StructureDefinition/ait-referral") {
		t.Errorf("the guide's referral lost its AITReferral profile: %s", sr)
	}
	st, _ := c.Do(http.MethodGet, "ServiceRequest/ait-referral-example/$ait-dossier-status", nil, nil)
	if !strings.Contains(string(st.Body), `"valueBoolean":true`) {
		t.Errorf("$ait-dossier-status of the guide's referral: %s", st)
	}
	pkg, _ := profiles.Load()
	for _, ex := range pkg.Examples() {
		if ex.Type == "Task" && ex.ID == "ait-rcp-decision-example" {
			r, err := c.Do(http.MethodPut, "Task/"+ex.ID, ex.Body, nil)
			if err != nil || r.Status >= 300 {
				t.Errorf("the guide's RCP decision on the guide's referral: %v %s", err, r)
			}
		}
	}
	if r, err := c.Do(http.MethodPost, "$ait-referral", fixture(t, "referral-frcore.json"), nil); err != nil || r.Status != http.StatusOK {
		t.Fatalf("frcore referral: %v %s", err, r)
	}
	srs, _ := c.Do(http.MethodGet, "ServiceRequest?identifier=https://ehr.example-hospital.org/referrals|REF-2026-0001", nil, nil)
	if !strings.Contains(string(srs.Body), "StructureDefinition/ait-referral") {
		t.Errorf("the FR Core referral, complete by $ait-dossier-status, lost its AITReferral profile: %s", srs)
	}
}

// TestOneDefinitionOfComplete: a referral whose dossier passes the checklist but not
// the rest of the referral profile (no requester) is incomplete for everyone: the
// intake keeps it without the AITReferral profile and does not complete the dossier
// step, and $ait-dossier-status says incomplete, naming the profile's rule.
func TestOneDefinitionOfComplete(t *testing.T) {
	g := startGateway(t)
	c := g.Client()
	var b map[string]any
	json.Unmarshal(fixture(t, "referral-frcore.json"), &b)
	for _, e := range b["entry"].([]any) {
		if r := e.(map[string]any)["resource"].(map[string]any); r["resourceType"] == "ServiceRequest" {
			delete(r, "requester")
		}
	}
	body, _ := json.Marshal(b)
	if r, err := c.Do(http.MethodPost, "$ait-referral", body, nil); err != nil || r.Status != http.StatusOK {
		t.Fatalf("referral: %v %s", err, r)
	}
	var srs struct {
		Entry []struct {
			Resource struct {
				ID   string
				Meta struct{ Profile []string }
			}
		}
	}
	r, _ := c.Do(http.MethodGet, "ServiceRequest", nil, nil)
	json.Unmarshal(r.Body, &srs)
	if len(srs.Entry) != 1 {
		t.Fatalf("referral: %s", r)
	}
	for _, p := range srs.Entry[0].Resource.Meta.Profile {
		if strings.HasSuffix(p, "/ait-referral") {
			t.Errorf("a referral without requester claims AITReferral")
		}
	}
	st, _ := c.Do(http.MethodGet, "ServiceRequest/"+srs.Entry[0].Resource.ID+"/$ait-dossier-status", nil, nil)
	if !strings.Contains(string(st.Body), `"valueBoolean":false`) || !strings.Contains(string(st.Body), "AITReferral") || !strings.Contains(string(st.Body), "requester") {
		t.Errorf("$ait-dossier-status of a referral the profile refuses: %s", st)
	}
	cp, _ := c.Do(http.MethodGet, "CarePlan", nil, nil)
	var cps struct {
		Entry []struct{ Resource json.RawMessage }
	}
	json.Unmarshal(cp.Body, &cps)
	if len(cps.Entry) != 1 || strings.HasPrefix(kit.Statuses(cps.Entry[0].Resource), "C C") {
		t.Errorf("the intake completed the dossier step of a referral the profile refuses: %s", cp)
	}
}
