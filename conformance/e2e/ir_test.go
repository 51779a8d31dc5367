package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aitgw/aitgw/conformance/kit"
)

// irReferral is an interventional-radiology request (003): the patient and the
// ServiceRequest coded ir-request, for a painful vertebral metastasis.
func irReferral() []byte {
	pat := map[string]any{"resourceType": "Patient", "identifier": []any{map[string]any{"system": insNIR, "value": "279035121577777"}},
		"birthDate": "1958-07-01", "name": []any{map[string]any{"family": "Radiologie"}}}
	sr := map[string]any{"resourceType": "ServiceRequest", "status": "active", "intent": "order",
		"identifier": []any{map[string]any{"system": refSys, "value": "IR-2026-0001"}},
		"code":       map[string]any{"coding": []any{map[string]any{"system": aitCS, "code": "ir-request"}}},
		"reasonCode": []any{map[string]any{"text": "painful L2 bone metastasis: cimentoplasty request"}},
		"subject":    map[string]any{"reference": "urn:uuid:" + fakeUUID("ir-patient")}, "authoredOn": "2026-05-04"}
	return kit.JSON(map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": []any{
		map[string]any{"fullUrl": "urn:uuid:" + fakeUUID("ir-patient"), "resource": pat, "request": map[string]any{"method": "POST", "url": "Patient"}},
		map[string]any{"fullUrl": "urn:uuid:" + fakeUUID("ir-sr"), "resource": sr, "request": map[string]any{"method": "POST", "url": "ServiceRequest"}},
	}})
}

// TestIRReferralOpensTheIRPathway (003, 004): an IR request posted as a transaction
// opens the IR pathway CarePlan (category ir-pathway), not the AIT one; its steps are
// checked by the IR rules: the RCP before the consultation, the act at least 48 h
// after the pre-interventional consultation (47 h is refused), the cimentoplasty's
// imaging prerequisites (warned for an act done without them), the follow-up.
func TestIRReferralOpensTheIRPathway(t *testing.T) {
	g := startGateway(t)
	c := g.Client()
	r, err := c.Do(http.MethodPost, "", irReferral(), nil)
	if err != nil || r.Status != http.StatusOK {
		t.Fatalf("IR request: %v %s", err, r)
	}
	var cps struct {
		Entry []struct{ Resource map[string]any }
	}
	cr, _ := c.Do(http.MethodGet, "CarePlan?category="+aitCS+"|ir-pathway", nil, nil)
	json.Unmarshal(cr.Body, &cps)
	if len(cps.Entry) != 1 {
		t.Fatalf("IR pathway CarePlans: %s", cr)
	}
	if n := total(t, c, "CarePlan"); n != 1 {
		t.Errorf("%d CarePlans, want the IR one only", n)
	}
	cp := cps.Entry[0].Resource
	patient := cp["subject"].(map[string]any)["reference"].(string)
	referral := cp["supportingInfo"].([]any)[0].(map[string]any)["reference"].(string) // R4: CarePlan.basedOn takes CarePlans only
	ref := func(r string) map[string]any { return map[string]any{"reference": r} }
	code := func(c string) map[string]any {
		return map[string]any{"coding": []any{map[string]any{"system": aitCS, "code": c}}}
	}
	radiologist, err := (httpPoster{c}).Create(kit.JSON(map[string]any{"resourceType": "Practitioner",
		"identifier": []any{map[string]any{"system": "https://rpps.esante.gouv.fr", "value": "10000000077"}}, "name": []any{map[string]any{"family": "Radiologue"}}}))
	if err != nil {
		t.Fatal(err)
	}
	encounter := func(fact, at string) []byte {
		return kit.JSON(map[string]any{"resourceType": "Encounter", "status": "finished",
			"class": map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
			"type":  []any{code(fact)}, "subject": ref(patient), "basedOn": []any{ref(referral)},
			"period": map[string]any{"start": at}, "participant": []any{map[string]any{"individual": ref(radiologist)}}})
	}
	consult := "2026-05-12T09:00:00Z"
	if r, err := c.Do(http.MethodPost, "Encounter", encounter("ir-consultation", consult), nil); err != nil || r.Status != 422 {
		t.Errorf("consultation before the RCP: %v %s, want 422", err, r)
	}
	if r, err := c.Do(http.MethodPost, "Encounter", encounter("ir-rcp", "2026-05-07T14:00:00Z"), nil); err != nil || r.Status != http.StatusCreated {
		t.Fatalf("IR RCP: %v %s", err, r)
	}
	if r, err := c.Do(http.MethodPost, "Encounter", encounter("ir-consultation", consult), nil); err != nil || r.Status != http.StatusCreated {
		t.Fatalf("pre-interventional consultation: %v %s", err, r)
	}
	at, _ := time.Parse(time.RFC3339, consult)
	act := func(when time.Time) []byte {
		return kit.JSON(map[string]any{"resourceType": "Procedure", "status": "completed",
			"code":    map[string]any{"coding": []any{map[string]any{"system": aitCS, "code": "ir-procedure"}, map[string]any{"system": aitCS, "code": "cimentoplasty"}}},
			"subject": ref(patient), "basedOn": []any{ref(referral)}, "performedDateTime": when.Format(time.RFC3339),
			"bodySite": []any{map[string]any{"text": "L2"}}, "performer": []any{map[string]any{"actor": ref(radiologist)}}})
	}
	r, err = c.Do(http.MethodPost, "Procedure", act(at.Add(47*time.Hour)), nil)
	if err != nil || r.Status != 422 || !strings.Contains(outcomeText(r.Body), "003") {
		t.Errorf("act 47 h after the consultation: %v %d %s, want 422 citing 003", err, r.Status, outcomeText(r.Body))
	}
	r, err = c.Do(http.MethodPost, "Procedure", act(at.Add(48*time.Hour)), map[string]string{"Prefer": "return=OperationOutcome"})
	if err != nil || r.Status != http.StatusCreated {
		t.Fatalf("act 48 h after the consultation: %v %s", err, r)
	}
	if msg := outcomeText(r.Body); !strings.Contains(msg, "004") {
		t.Errorf("a vertebral cimentoplasty without spine CT and MRI is not warned (004): %s", msg)
	}
	if r, err := c.Do(http.MethodPost, "Encounter", encounter("ir-follow-up", at.Add(48*time.Hour+30*24*time.Hour).Format(time.RFC3339)), nil); err != nil || r.Status != http.StatusCreated {
		t.Fatalf("1-month follow-up: %v %s", err, r)
	}
	cr, _ = c.Do(http.MethodGet, "CarePlan?category="+aitCS+"|ir-pathway", nil, nil)
	if got := strings.Count(string(cr.Body), `"status":"completed"`); got < 5 {
		t.Errorf("IR CarePlan after the follow-up: %d activities completed, want 5: %s", got, cr)
	}
}

// TestReferralPostedAloneOpensItsPathway: a referral ServiceRequest posted on its
// own (its patient stored before) opens its pathway as the intake does; posting the
// same referral again through $ait-referral creates nothing twice.
func TestReferralPostedAloneOpensItsPathway(t *testing.T) {
	g := startGateway(t)
	c := g.Client()
	var b struct {
		Entry []struct {
			Resource map[string]any
		}
	}
	json.Unmarshal(irReferral(), &b)
	pat, err := (httpPoster{c}).Create(kit.JSON(b.Entry[0].Resource))
	if err != nil {
		t.Fatal(err)
	}
	sr := b.Entry[1].Resource
	sr["subject"] = map[string]any{"reference": pat}
	if _, err := (httpPoster{c}).Create(kit.JSON(sr)); err != nil {
		t.Fatalf("IR request alone: %v", err)
	}
	cr, _ := c.Do(http.MethodGet, "CarePlan?category="+aitCS+"|ir-pathway&subject="+pat, nil, nil)
	if !strings.Contains(string(cr.Body), `"total":1`) {
		t.Fatalf("the IR request posted alone opened no IR pathway: %s", cr)
	}
	if r, err := c.Do(http.MethodPost, "$ait-referral", irReferral(), nil); err != nil || r.Status != http.StatusOK {
		t.Fatalf("the same request by $ait-referral: %v %s", err, r)
	}
	if n, s := total(t, c, "CarePlan"), total(t, c, "ServiceRequest"); n != 1 || s != 1 {
		t.Errorf("after both doors: %d CarePlans, %d ServiceRequests, want 1 and 1", n, s)
	}
}
