package pathway

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aitgw/aitgw/conformance/kit"
	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/mapping"
	"github.com/aitgw/aitgw/profiles"
)

// stored reads typ/id back and fails unless the store holds exactly one version of it.
func (w *world) stored(t *testing.T, ref string) object {
	t.Helper()
	typ, id, _ := strings.Cut(ref, "/")
	resp, err := w.svc.Read(ctx, &rest.Request{Type: typ, ID: id})
	if err != nil {
		t.Fatalf("read %s: %v", ref, err)
	}
	h, err := w.svc.History(ctx, &rest.Request{Type: typ, ID: id})
	if err != nil {
		t.Fatalf("history %s: %v", ref, err)
	}
	var b fhir.Bundle
	if err := json.Unmarshal(h.Body, &b); err != nil {
		t.Fatal(err)
	}
	m := decode(resp.Record.Body)
	if v := str(obj(m, "meta"), "versionId"); resp.Record.Version != 1 || v != "1" || len(b.Entry) != 1 {
		t.Errorf("%s: version %d (meta.versionId %q), %d versions in history: the computed date must be in the client's version", ref, resp.Record.Version, v, len(b.Entry))
	}
	return m
}

// TestRefillStoredWithComputedDate (000 §XIII, 001): a refill of 20 mL at 0.5 mL/d on
// 6 April runs dry on 16 May; the refill Procedure is stored, in its first and only
// version, with the computed 13 May beside the EHR's 25 May left as sent, and the
// differing dates are a DetectedIssue citing 000 §XIII. The stored refill still
// conforms to the guide's refill profile (the validator does refuse a malformed
// computed date, so the check can fail).
func TestRefillStoredWithComputedDate(t *testing.T) {
	w := newWorld(t)
	pat := w.create(t, `{"resourceType":"Patient"}`)
	c := newCast(t, w)
	resp, err := w.post(refillWith(c, pat, "2026-04-06T10:00:00+02:00", "2026-05-25T09:00:00+02:00", 20, 0.5))
	if err != nil {
		t.Fatal(fhir.AsError(err).Outcome.JSON())
	}
	ref := "Procedure/" + resp.Record.ID
	proc := w.stored(t, ref)
	if got := extDate(proc, mapping.ExtComputedNextRefill); got != "2026-05-13T08:00:00Z" {
		t.Errorf("computed date on the refill: %q", got)
	}
	if got := extDate(proc, mapping.ExtNextRefill); got != "2026-05-25T09:00:00+02:00" {
		t.Errorf("the EHR's date on the refill: %q, want it as sent", got)
	}
	if !strings.Contains(string(resp.Record.Body), mapping.ExtComputedNextRefill) {
		t.Errorf("the write's response does not carry the computed date: %s", resp.Record.Body)
	}
	dis := w.search(t, "DetectedIssue", "implicated="+ref)
	found := false
	for _, b := range dis {
		s := string(b)
		if strings.Contains(s, "differs from the date computed from the reservoir (2026-05-13)") && strings.Contains(s, "000 §XIII") {
			found = true
		}
	}
	if !found {
		t.Errorf("no DetectedIssue citing 000 §XIII on the differing dates among %d: %s", len(dis), dis)
	}

	// the stored refill, as a conformant EHR sends it, conforms to the refill profile
	pkg, err := profiles.Load()
	if err != nil {
		t.Fatal(err)
	}
	v, err := profiles.NewValidator(pkg)
	if err != nil {
		t.Fatal(err)
	}
	var ex object
	for _, r := range pkg.Examples() {
		if r.Type == "Procedure" && r.ID == "ait-refill-example" {
			ex = decode(r.Body)
		}
	}
	if ex == nil {
		t.Fatal("the guide has no example refill")
	}
	ex["subject"] = map[string]any{"reference": pat}
	delete(ex, "id")
	resp, err = w.post(kit.JSON(ex))
	if err != nil {
		t.Fatal(fhir.AsError(err).Outcome.JSON())
	}
	if !strings.Contains(string(resp.Record.Body), mapping.ExtComputedNextRefill) {
		t.Fatalf("the guide's example refill was stored without the computed date: %s", resp.Record.Body)
	}
	const refillProfile = mapping.Base + "/StructureDefinition/ait-refill"
	if oo := v.Validate(resp.Record.Body, refillProfile); oo != nil && oo.HasErrors() {
		t.Errorf("the stored refill no longer conforms: %s", oo.JSON())
	}
	bad := strings.Replace(string(resp.Record.Body), `"url":"`+mapping.ExtComputedNextRefill+`","valueDateTime"`, `"url":"`+mapping.ExtComputedNextRefill+`","valueString"`, 1)
	if bad == string(resp.Record.Body) {
		t.Fatal("the computed date is not where the test looks for it")
	}
	if oo := v.Validate([]byte(bad), refillProfile); oo == nil || !oo.HasErrors() {
		t.Errorf("a computed date as a string passed the refill profile: the check above proves nothing")
	}
}

// TestRefillInTransactionStoredWithComputedDate: the same refill posted inside a
// transaction Bundle, with its patient, is stored in one version with the computed
// date; an update of it with If-Match makes exactly the next version, whose computed
// date follows the new flow, and a computed date the client forges is replaced.
func TestRefillInTransactionStoredWithComputedDate(t *testing.T) {
	w := newWorld(t)
	c := newCast(t, w)
	refill := decode(refillWith(c, "urn:uuid:4b7c2d2e-0d2c-4a8e-9f55-0e1b2c3d4e5f", "2026-04-06T10:00:00+02:00", "2026-05-25T09:00:00+02:00", 20, 0.5))
	bundle := kit.JSON(map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": []any{
		map[string]any{"fullUrl": "urn:uuid:4b7c2d2e-0d2c-4a8e-9f55-0e1b2c3d4e5f", "resource": map[string]any{"resourceType": "Patient"},
			"request": map[string]any{"method": "POST", "url": "Patient"}},
		map[string]any{"resource": refill, "request": map[string]any{"method": "POST", "url": "Procedure"}}}})
	resp, err := w.svc.Bundle(ctx, &rest.Request{Method: http.MethodPost, Body: bundle}, "")
	if err != nil {
		t.Fatal(fhir.AsError(err).Outcome.JSON())
	}
	var b fhir.Bundle
	if err := json.Unmarshal(resp.Body, &b); err != nil || len(b.Entry) != 2 {
		t.Fatalf("transaction response: %v %s", err, resp.Body)
	}
	loc := b.Entry[1].Response.Location
	ref := strings.Join(strings.Split(loc, "/")[:2], "/")
	proc := w.stored(t, ref)
	if got := extDate(proc, mapping.ExtComputedNextRefill); got != "2026-05-13T08:00:00Z" {
		t.Errorf("computed date on the refill posted in a transaction: %q", got)
	}
	if got := extDate(proc, mapping.ExtNextRefill); got != "2026-05-25T09:00:00+02:00" {
		t.Errorf("the EHR's date: %q", got)
	}

	// the EHR corrects the flow to 0.4 mL/d (dry on 26 May, refill 23 May) and sends
	// a computed date of its own: the gateway's replaces it, in version 2 exactly
	id := strings.TrimPrefix(ref, "Procedure/")
	upd := decode(refillWith(c, str(obj(proc, "subject"), "reference"), "2026-04-06T10:00:00+02:00", "2026-05-25T09:00:00+02:00", 20, 0.4))
	upd["id"] = id
	upd["extension"] = append(upd["extension"].([]any), map[string]any{"url": mapping.ExtComputedNextRefill, "valueDateTime": "2026-09-01"})
	put, err := w.svc.Update(ctx, &rest.Request{Method: http.MethodPut, Type: "Procedure", ID: id, Body: kit.JSON(upd), IfMatch: `W/"1"`})
	if err != nil {
		t.Fatal(fhir.AsError(err).Outcome.JSON())
	}
	if put.Record.Version != 2 {
		t.Errorf("the update made version %d, want 2", put.Record.Version)
	}
	got := decode(put.Record.Body)
	if d := extDate(got, mapping.ExtComputedNextRefill); d != "2026-05-23T08:00:00Z" {
		t.Errorf("computed date after the update: %q", d)
	}
	if n := strings.Count(string(put.Record.Body), mapping.ExtComputedNextRefill); n != 1 {
		t.Errorf("%d computed dates on the refill, want the gateway's alone", n)
	}
	if _, err := w.svc.Update(ctx, &rest.Request{Method: http.MethodPut, Type: "Procedure", ID: id, Body: kit.JSON(upd), IfMatch: `W/"1"`}); fhir.AsError(err) == nil || fhir.AsError(err).Status != http.StatusPreconditionFailed {
		t.Errorf("a stale If-Match was not refused: %v", err)
	}
}

// TestComputedRefillWindowBoundaries (000 §XIII, 001): the next refill is 3 days
// before the reservoir runs dry, never later than 3 months after the refill (6 April
// to 6 July: 91 days) and, below 3 weeks, stays where the reservoir puts it (it is
// never moved past the day the pump runs dry) with a warning. At 0.25 mL/d, 23.25 mL
// last 93 days (next 5 July), 23.5 mL 94 days (6 July, the cap itself), 23.75 mL 95
// days (capped to 6 July); at 1 mL/d, 24 mL give exactly 3 weeks, 23 mL one day less.
func TestComputedRefillWindowBoundaries(t *testing.T) {
	w := newWorld(t)
	pat := w.create(t, `{"resourceType":"Patient"}`)
	c := newCast(t, w)
	for _, tc := range []struct {
		volume, flow float64
		want         string
		short        bool
	}{
		{23.25, 0.25, "2026-07-05T08:00:00Z", false},
		{23.5, 0.25, "2026-07-06T08:00:00Z", false},
		{23.75, 0.25, "2026-07-06T08:00:00Z", false},
		{40, 0.25, "2026-07-06T08:00:00Z", false},
		{24, 1, "2026-04-27T08:00:00Z", false},
		{23, 1, "2026-04-26T08:00:00Z", true},
	} {
		name := fmt.Sprintf("%g mL at %g mL/d", tc.volume, tc.flow)
		resp, err := w.post(refillWith(c, pat, "2026-04-06T10:00:00+02:00", "2026-04-27T10:00:00+02:00", tc.volume, tc.flow))
		if err != nil {
			t.Fatalf("%s: %s", name, fhir.AsError(err).Outcome.JSON())
		}
		proc := w.stored(t, "Procedure/"+resp.Record.ID)
		if got := extDate(proc, mapping.ExtComputedNextRefill); got != tc.want {
			t.Errorf("%s: computed %q, want %s", name, got, tc.want)
		}
		if got := warned(resp, "under the usual 3 weeks"); got != tc.short {
			t.Errorf("%s: warned of a refill under 3 weeks: %v, want %v", name, got, tc.short)
		}
	}
}

// TestComputedDateOnlyFromTheGateway: a computed next refill date sent by the client
// on a refill without volume and flow, or on a guide Procedure that is no refill, is
// not stored: only the gateway computes it. The EHR's own date stays.
func TestComputedDateOnlyFromTheGateway(t *testing.T) {
	w := newWorld(t)
	pat := w.create(t, `{"resourceType":"Patient"}`)
	c := newCast(t, w)
	forged := map[string]any{"url": mapping.ExtComputedNextRefill, "valueDateTime": "2026-09-01"}
	noFlow := decode(kit.Refill(kit.Dossier{Patient: pat}, c, c.Refiller, "2026-04-06T10:00:00+02:00", "2026-05-04T10:00:00+02:00"))
	noFlow["extension"] = append(noFlow["extension"].([]any), forged)
	other := map[string]any{"resourceType": "Procedure", "status": "completed", "subject": map[string]any{"reference": pat},
		"code": cc(ait, "pump-check"), "performedDateTime": "2026-04-06T10:00:00+02:00", "extension": []any{forged}}
	for name, body := range map[string]object{"refill without flow": noFlow, "not a refill": other} {
		resp, err := w.post(kit.JSON(body))
		if err != nil {
			t.Fatalf("%s: %s", name, fhir.AsError(err).Outcome.JSON())
		}
		proc := w.stored(t, "Procedure/"+resp.Record.ID)
		if got := extDate(proc, mapping.ExtComputedNextRefill); got != "" {
			t.Errorf("%s: the client's computed date was stored: %q", name, got)
		}
		if name == "refill without flow" && extDate(proc, mapping.ExtNextRefill) != "2026-05-04T10:00:00+02:00" {
			t.Errorf("%s: the EHR's date was not kept: %s", name, resp.Record.Body)
		}
	}
}
