package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/aitgw/aitgw/conformance/kit"
)

// rcpWithBasis is the kit's RCP decision with a technique and the life-expectancy
// estimate it rests on.
func rcpWithBasis(t *testing.T, step []byte, technique, basis string) map[string]any {
	t.Helper()
	var task map[string]any
	if err := json.Unmarshal(step, &task); err != nil {
		t.Fatal(err)
	}
	out := task["output"].([]any)
	out[1].(map[string]any)["valueCodeableConcept"] = map[string]any{"coding": []any{map[string]any{"system": aitCS, "code": technique}}}
	task["output"] = append(out, map[string]any{"type": map[string]any{"coding": []any{map[string]any{"system": aitCS, "code": "rcp-life-expectancy-basis"}}},
		"valueReference": map[string]any{"reference": basis}})
	return task
}

// issuesOf returns the DetectedIssues implicating ref: status and severity by id.
func issuesOf(t *testing.T, c *Client, query string) map[string]string {
	t.Helper()
	r, err := c.Do(http.MethodGet, "DetectedIssue?"+query, nil, nil)
	if err != nil || r.Status != http.StatusOK {
		t.Fatalf("DetectedIssue?%s: %v %s", query, err, r)
	}
	var b struct {
		Entry []struct {
			Resource struct {
				ID, Status, Severity, Detail string
				Code                         struct {
					Coding []struct{ System, Code string }
				}
				Patient struct{ Reference string }
			}
		}
	}
	json.Unmarshal(r.Body, &b)
	out := map[string]string{}
	for _, e := range b.Entry {
		res := e.Resource
		seed := ""
		for _, c := range res.Code.Coding {
			if strings.HasSuffix(c.System, "ait-seed-section") {
				seed = c.Code
			}
		}
		out[res.ID] = res.Status + " " + res.Severity + " " + seed + " " + res.Patient.Reference + " " + res.Detail
	}
	return out
}

// TestClinicalWarningsAreDetectedIssues (000 §VI): an RCP deciding an implanted pump
// for a 2-month life expectancy is stored with a warning; the warning is recorded as
// a DetectedIssue (severity, seed section, patient, implicated Task), linked from the
// pathway CarePlan, returned in the Prefer: return=OperationOutcome body and, without
// Prefer, pointed at by a Link header; in a transaction, in the entry's
// response.outcome. Correcting the decision resolves it (status cancelled, mitigation).
func TestClinicalWarningsAreDetectedIssues(t *testing.T) {
	g := startGateway(t)
	c := g.Client()
	d, careplan := postReferral(t, c)
	cast, err := kit.NewCast(httpPoster{c})
	if err != nil {
		t.Fatal(err)
	}
	le, err := (httpPoster{c}).Create([]byte(`{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"` + aitCS + `","code":"life-expectancy"}]},"subject":{"reference":"` + d.Patient + `"},"effectiveDateTime":"2026-03-09","valueQuantity":{"value":2,"unit":"months","system":"http://unitsofmeasure.org","code":"mo"}}`))
	if err != nil {
		t.Fatal(err)
	}
	rcp := kit.AITSteps(d, cast)[0].Body
	task := rcpWithBasis(t, rcp, "implanted-pump", le)
	r, err := c.Do(http.MethodPost, "Task", kit.JSON(task), map[string]string{"Prefer": "return=OperationOutcome"})
	if err != nil || r.Status != http.StatusCreated {
		t.Fatalf("RCP decision: %v %s", err, r)
	}
	if msg := outcomeText(r.Body); !strings.Contains(msg, "warning business-rule technique implanted-pump") || !strings.Contains(msg, "DetectedIssue/") {
		t.Errorf("Prefer: return=OperationOutcome does not carry the warning and its DetectedIssue: %s", msg)
	}
	taskRef := "Task/" + IDFromLocation(r.Header.Get("Location"))
	open := issuesOf(t, c, "implicated="+taskRef)
	if len(open) != 1 {
		t.Fatalf("DetectedIssues implicating %s: %v, want 1", taskRef, open)
	}
	var issueID string
	for id, v := range open {
		issueID = id
		if !strings.HasPrefix(v, "final moderate 000 §VI "+d.Patient) {
			t.Errorf("DetectedIssue %s: %s", id, v)
		}
	}
	if n := len(issuesOf(t, c, "patient="+d.Patient)); n < 1 {
		t.Errorf("DetectedIssue not found by patient")
	}
	cp, _ := c.Do(http.MethodGet, "CarePlan/"+careplan, nil, nil)
	if !strings.Contains(string(cp.Body), "DetectedIssue/"+issueID) {
		t.Errorf("the pathway CarePlan does not link DetectedIssue/%s: %s", issueID, cp)
	}
	// the same write again, without Prefer: the body is the resource, the Link points at the issues
	task["id"] = strings.TrimPrefix(taskRef, "Task/")
	r, err = c.Do(http.MethodPut, taskRef, kit.JSON(task), nil)
	if err != nil || r.Status != http.StatusOK || !strings.Contains(r.Header.Get("Link"), "DetectedIssue?implicated="+taskRef) {
		t.Errorf("update still warned: %v %d Link %q", err, r.Status, r.Header.Get("Link"))
	}
	if again := issuesOf(t, c, "implicated="+taskRef); len(again) != 1 {
		t.Errorf("the same warning raised again made a twin: %v", again)
	}
	// corrected: catheter with port for 2 months
	task = rcpWithBasis(t, rcp, "catheter-port-external-pump", le)
	task["id"] = strings.TrimPrefix(taskRef, "Task/")
	if r, err := c.Do(http.MethodPut, taskRef, kit.JSON(task), nil); err != nil || r.Status != http.StatusOK {
		t.Fatalf("corrected RCP decision: %v %s", err, r)
	}
	if v := issuesOf(t, c, "implicated="+taskRef)[issueID]; !strings.HasPrefix(v, "cancelled") {
		t.Errorf("the corrected decision did not resolve DetectedIssue/%s: %q", issueID, v)
	}
	di, _ := c.Do(http.MethodGet, "DetectedIssue/"+issueID, nil, nil)
	if !strings.Contains(string(di.Body), "mitigation") {
		t.Errorf("resolved DetectedIssue without mitigation: %s", di)
	}
	// in a transaction: the entry's response.outcome carries the warning, which opens
	// the issue again
	task = rcpWithBasis(t, rcp, "implanted-pump", le)
	task["id"] = strings.TrimPrefix(taskRef, "Task/")
	tx := kit.JSON(map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": []any{
		map[string]any{"resource": task, "request": map[string]any{"method": "PUT", "url": taskRef}}}})
	r, err = c.Do(http.MethodPost, "", tx, nil)
	if err != nil || r.Status != http.StatusOK {
		t.Fatalf("transaction: %v %s", err, r)
	}
	var resp struct {
		Entry []struct {
			Response struct{ Outcome json.RawMessage }
		}
	}
	json.Unmarshal(r.Body, &resp)
	if len(resp.Entry) != 1 || !strings.Contains(outcomeText(resp.Entry[0].Response.Outcome), "technique implanted-pump") {
		t.Errorf("the transaction entry's outcome does not carry the warning: %s", r)
	}
	if v := issuesOf(t, c, "implicated="+taskRef)[issueID]; !strings.HasPrefix(v, "final") {
		t.Errorf("the warning raised again did not open DetectedIssue/%s again: %q", issueID, v)
	}
}
