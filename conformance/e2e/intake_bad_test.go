package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aitgw/aitgw/conformance/kit"
)

// everything counts the resources the intake and the steps write.
func everything(t *testing.T, c *Client) string {
	return counts(t, c) + " " + strings.Join([]string{
		"Task=" + itoa(total(t, c, "Task")), "Encounter=" + itoa(total(t, c, "Encounter")),
		"DetectedIssue=" + itoa(total(t, c, "DetectedIssue")), "Communication=" + itoa(total(t, c, "Communication"))}, " ")
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// refused checks a 4xx OperationOutcome naming an element (expression) and the
// rule, and that nothing was written.
func refused(t *testing.T, c *Client, name string, r *Response, err error, before string, status int, want ...string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	msg := outcomeText(r.Body)
	if r.Status != status || !strings.Contains(string(r.Body), `"expression"`) {
		t.Errorf("%s: %d %s, want %d naming an element", name, r.Status, msg, status)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("%s: the refusal does not name %q: %s", name, w, msg)
		}
	}
	if after := everything(t, c); after != before {
		t.Errorf("%s: wrote %s -> %s", name, before, after)
	}
}

// TestBadReferralsAndSteps: each is a 4xx OperationOutcome naming the element and
// the rule, and nothing is written: a referral with no patient, with two patients;
// a step for a patient with no pathway, for a closed pathway, a duplicate step, a
// step out of order; a client's write of the pathway state (403), alone, in a
// transaction or inside a referral.
func TestBadReferralsAndSteps(t *testing.T) {
	g := startGateway(t)
	c := g.Client()
	base := who{INS: "279035121599999", IPP: "MRN-BAD", Birth: "1979-03-05", Family: "Synthetique", Referral: "REF-BAD-1"}
	var bundle map[string]any
	json.Unmarshal(referralFor(base), &bundle)
	entries := bundle["entry"].([]any)
	sr := entries[1].(map[string]any)["resource"].(map[string]any)

	before := everything(t, c)
	delete(sr, "subject")
	r, err := c.Do(http.MethodPost, "$ait-referral", kit.JSON(bundle), nil)
	refused(t, c, "referral with no patient", r, err, before, 422, "ServiceRequest).subject", "000 §V.2")
	sr["subject"] = map[string]any{"reference": entries[0].(map[string]any)["fullUrl"]}

	two := map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": append(append([]any{}, entries...),
		map[string]any{"fullUrl": "urn:uuid:" + fakeUUID("other"), "resource": map[string]any{"resourceType": "Patient", "birthDate": "1980-01-01"},
			"request": map[string]any{"method": "POST", "url": "Patient"}})}
	r, err = c.Do(http.MethodPost, "", kit.JSON(two), nil)
	refused(t, c, "referral with two patients", r, err, before, 422, "one patient", "Bundle.entry[0]")

	forged := map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": append(append([]any{}, entries...),
		map[string]any{"resource": map[string]any{"resourceType": "CarePlan", "status": "active", "intent": "plan",
			"category": []any{map[string]any{"coding": []any{map[string]any{"system": aitCS, "code": "ait-pathway"}}}},
			"subject":  map[string]any{"reference": entries[0].(map[string]any)["fullUrl"]}},
			"request": map[string]any{"method": "POST", "url": "CarePlan"}})}
	r, err = c.Do(http.MethodPost, "$ait-referral", kit.JSON(forged), nil)
	refused(t, c, "referral carrying a pathway CarePlan", r, err, before, 422, "belongs to the gateway")

	// the sample referral, complete, opens the pathway the steps go to
	d, _ := postReferral(t, c)
	cast, err := kit.NewCast(httpPoster{c})
	if err != nil {
		t.Fatal(err)
	}
	// a patient without pathway: its RCP decision
	lonely, err := (httpPoster{c}).Create([]byte(`{"resourceType":"Patient","identifier":[{"system":"` + ippSys + `","value":"MRN-LONELY"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	var orphan map[string]any
	json.Unmarshal(kit.AITSteps(kit.Dossier{Patient: lonely, Referral: d.Referral}, cast)[0].Body, &orphan)
	before = everything(t, c)
	r, err = c.Do(http.MethodPost, "Task", kit.JSON(orphan), nil)
	refused(t, c, "step of one patient based on another's referral", r, err, before, 409, "identity conflict", "Task.basedOn[0]", d.Referral)
	delete(orphan, "basedOn")
	r, err = c.Do(http.MethodPost, "Task", kit.JSON(orphan), nil)
	refused(t, c, "step for a pathway that does not exist", r, err, before, 422, "no open pathway", "000 §III")

	steps := kit.AITSteps(d, cast)
	before = everything(t, c)
	r, err = c.Do(http.MethodPost, "ServiceRequest", steps[3].Body, nil) // planning before the RCP
	refused(t, c, "step out of order", r, err, before, 422, "000 §")
	unknown := strings.Replace(string(steps[0].Body), d.Referral, "ServiceRequest/no-such-referral", 1)
	r, err = c.Do(http.MethodPost, "Task", []byte(unknown), nil)
	refused(t, c, "step naming a referral that opened no pathway", r, err, before, 422, "no referral with an open pathway", "000 §III")
	if _, err := (httpPoster{c}).Create(steps[0].Body); err != nil {
		t.Fatalf("RCP decision: %v", err)
	}
	before = everything(t, c)
	r, err = c.Do(http.MethodPost, "Task", steps[0].Body, nil)
	refused(t, c, "duplicate step", r, err, before, 422, "duplicate step", "000 §III")

	// a referral moved to another patient
	var moved map[string]any
	mr, _ := c.Do(http.MethodGet, d.Referral, nil, nil)
	json.Unmarshal(mr.Body, &moved)
	moved["subject"] = map[string]any{"reference": lonely}
	delete(moved, "meta")
	before = everything(t, c)
	r, err = c.Do(http.MethodPut, d.Referral, kit.JSON(moved), nil)
	refused(t, c, "referral moved to another patient", r, err, before, 409, "identity conflict", "ServiceRequest.subject", d.Patient)

	// the pathway CarePlan is the gateway's
	var cps struct {
		Entry []struct{ Resource map[string]any }
	}
	cr, _ := c.Do(http.MethodGet, "CarePlan?subject="+d.Patient+"&category="+aitCS+"|ait-pathway", nil, nil)
	json.Unmarshal(cr.Body, &cps)
	if len(cps.Entry) != 1 {
		t.Fatalf("pathway CarePlan: %s", cr)
	}
	cp := cps.Entry[0].Resource
	id := cp["id"].(string)
	cp["status"] = "completed"
	r, err = c.Do(http.MethodPut, "CarePlan/"+id, kit.JSON(cp), nil)
	refused(t, c, "update of the pathway CarePlan", r, err, before, 403, "belongs to the gateway")
	r, err = c.Do(http.MethodPatch, "CarePlan/"+id, []byte(`[{"op":"replace","path":"/status","value":"completed"}]`), map[string]string{"Content-Type": "application/json-patch+json"})
	refused(t, c, "patch of the pathway CarePlan", r, err, before, 403, "belongs to the gateway")
	r, err = c.Do(http.MethodDelete, "CarePlan/"+id, nil, nil)
	refused(t, c, "delete of the pathway CarePlan", r, err, before, 403, "belongs to the gateway")
	delete(cp, "id")
	delete(cp, "meta")
	r, err = c.Do(http.MethodPost, "CarePlan", kit.JSON(cp), nil)
	refused(t, c, "a client's pathway CarePlan", r, err, before, 403, "belongs to the gateway")
	tx := kit.JSON(map[string]any{"resourceType": "Bundle", "type": "batch", "entry": []any{
		map[string]any{"request": map[string]any{"method": "DELETE", "url": "CarePlan/" + id}}}})
	r, err = c.Do(http.MethodPost, "", tx, nil)
	refused(t, c, "delete of the pathway CarePlan in a batch", r, err, before, 403, "belongs to the gateway")

	// closed: a refusal at the RCP ends the pathway; the next step is refused
	refusal := strings.Replace(string(steps[0].Body), `"code":"accepted"`, `"code":"refused"`, 1)
	var task map[string]any
	json.Unmarshal([]byte(refusal), &task)
	tasks, _ := c.Do(http.MethodGet, "Task?subject="+d.Patient, nil, nil)
	var ts struct {
		Entry []struct{ Resource struct{ ID string } }
	}
	json.Unmarshal(tasks.Body, &ts)
	if len(ts.Entry) != 1 {
		t.Fatalf("RCP Task: %s", tasks)
	}
	task["id"] = ts.Entry[0].Resource.ID
	if r, err := c.Do(http.MethodPut, "Task/"+ts.Entry[0].Resource.ID, kit.JSON(task), nil); err != nil || r.Status != http.StatusOK {
		t.Fatalf("RCP decision corrected to a refusal: %v %s", err, r)
	}
	before = everything(t, c)
	r, err = c.Do(http.MethodPost, "Encounter", steps[1].Body, nil)
	refused(t, c, "step for a closed pathway", r, err, before, 422, "ended", "000 §VI")
}

// TestReferralOddShapesNever5xx: odd referral shapes, and referrals of no stored
// patient, by either door, are a 4xx OperationOutcome, never a 5xx, and write nothing.
func TestReferralOddShapesNever5xx(t *testing.T) {
	g := startGateway(t)
	c := g.Client()
	sr := `{"resourceType":"ServiceRequest","status":"active","intent":"order","code":{"coding":[{"system":"` + aitCS + `","code":"ait-referral"}]}`
	for _, body := range []string{
		`{"resourceType":"Bundle","type":"transaction","entry":[{"resource":` + sr + `,"subject":5},"request":{"method":"POST","url":"ServiceRequest"}}]}`,
		`{"resourceType":"Bundle","type":"transaction","entry":[{"resource":` + sr + `,"subject":{"reference":"Patient?identifier=x|y"}},"request":{"method":"POST","url":"ServiceRequest"}}]}`,
		`{"resourceType":"Bundle","type":"transaction","entry":[{"resource":` + sr + `,"subject":{"reference":"Patient/nobody"},"identifier":"bad"},"request":{"method":"POST","url":"ServiceRequest"}}]}`,
		`{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:0b6f5f0e-0000-4000-8000-000000000001","resource":{"resourceType":"Patient","identifier":[{"system":"` + insNIR + `"}],"name":"x"}},{"resource":` + sr + `,"subject":{"reference":"urn:uuid:0b6f5f0e-0000-4000-8000-000000000001"}},"request":{"method":"POST","url":"ServiceRequest"}}]}`,
		`{"resourceType":"Bundle","type":"transaction","entry":[{"resource":` + sr + `,"subject":{"reference":"Patient/nobody"},"supportingInfo":[{"reference":"Observation/none"},5]},"request":{"method":"POST","url":"ServiceRequest"}},{"resource":{"resourceType":"CarePlan","status":"active","intent":"plan","subject":{"reference":"Patient/nobody"},"extension":[{"url":"https://fhir.aitgw.org/ig/ait/StructureDefinition/ait-pathway-state","valueString":"{}"}]},"request":{"method":"PUT","url":"CarePlan/x"}}]}`,
		`{"resourceType":"Bundle","type":"batch","entry":[{"resource":` + sr + `,"subject":{"reference":"Patient/nobody"}},"request":{"method":"POST","url":"ServiceRequest"}},{"request":{"method":"PATCH","url":"CarePlan/x"},"resource":{"resourceType":"Binary"}}]}`,
	} {
		for _, door := range []string{"$ait-referral", ""} {
			before := everything(t, c)
			r, err := c.Do(http.MethodPost, door, []byte(body), nil)
			if err != nil {
				t.Fatal(err)
			}
			if r.Status >= 500 {
				t.Errorf("door %q: %d for %s: %s", door, r.Status, body, r)
			}
			refusedEntry := r.Status == http.StatusOK && strings.Contains(string(r.Body), `"batch-response"`) && strings.Contains(string(r.Body), `"status":"422`)
			if r.Status < 400 && !refusedEntry {
				t.Errorf("door %q: a referral of no stored patient was taken in: %s", door, body)
			}
			if (r.Status >= 400 || refusedEntry) && everything(t, c) != before {
				t.Errorf("door %q: a refusal wrote: %s", door, body)
			}
		}
	}
}
