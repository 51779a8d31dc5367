package pathway

import (
	"context"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/aitgw/aitgw/conformance/kit"
	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/mapping"
	"github.com/aitgw/aitgw/profiles"
)

const ait = mapping.CodeSystemAIT

// dossier is what the referral created: the ids the steps refer to.
type dossier struct {
	patient, referral, gp, requester, careplan string
}

// postReferral posts the FR Core referral fixture to $ait-referral.
func postReferral(t *testing.T, w *world) (*rest.Response, dossier) {
	t.Helper()
	body, err := os.ReadFile("../testdata/referral-frcore.json")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := Referral(w.svc)(ctx, &rest.Request{Method: "POST", Body: body})
	if err != nil {
		t.Fatalf("$ait-referral: %s", fhir.AsError(err).Outcome.JSON())
	}
	var d dossier
	pats := w.search(t, "Patient", "")
	srs := w.search(t, "ServiceRequest", "")
	cps := w.search(t, "CarePlan", "")
	if len(pats) != 1 || len(srs) != 1 || len(cps) != 1 {
		t.Fatalf("after the referral: %d Patient, %d ServiceRequest, %d CarePlan", len(pats), len(srs), len(cps))
	}
	p, sr, cp := decode(pats[0]), decode(srs[0]), decode(cps[0])
	d.patient, d.referral, d.careplan = "Patient/"+str(p, "id"), "ServiceRequest/"+str(sr, "id"), str(cp, "id")
	d.gp, d.requester = refs(p, "generalPractitioner")[0], ref(sr, "requester")
	return resp, d
}

// careplan reads the stored pathway CarePlan.
func (w *world) careplan(t *testing.T, id string) *fhir.Record {
	t.Helper()
	resp, err := w.svc.Read(ctx, &rest.Request{Type: "CarePlan", ID: id})
	if err != nil {
		t.Fatal(err)
	}
	return resp.Record
}

// poster posts the kit's resources through the service, as an EHR would.
type poster struct {
	t *testing.T
	w *world
}

func (p poster) Create(body []byte) (string, error) { return p.w.create(p.t, string(body)), nil }

func newCast(t *testing.T, w *world) kit.Cast {
	c, err := kit.NewCast(poster{t, w})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// pathwaySteps are the kit's AIT steps for this dossier.
func pathwaySteps(d dossier, c kit.Cast) []kit.Step {
	return kit.AITSteps(kit.Dossier{Patient: d.patient, Referral: d.referral, GP: d.gp, Requester: d.requester}, c)
}

func refill(d dossier, c kit.Cast, by, at, next string) string {
	return string(kit.Refill(kit.Dossier{Patient: d.patient, Referral: d.referral, GP: d.gp, Requester: d.requester}, c, by, at, next))
}

// told renders notices as code>role=reference|… ; several notices joined by ";".
func told(ns []Notice) string {
	var out []string
	for _, n := range ns {
		var to []string
		for _, r := range n.Recipients {
			to = append(to, r.Role+"="+r.Reference)
		}
		out = append(out, n.Code+">"+strings.Join(to, "|"))
	}
	return strings.Join(out, ";")
}

// TestAITPathwayOnTheWire posts a referral to $ait-referral, then every step of the
// AIT pathway (000 §III) to the third refill and a complication through
// Service.Create, and checks the stored CarePlan and the notices after every post.
func TestAITPathwayOnTheWire(t *testing.T) {
	w := newWorld(t)
	_, d := postReferral(t, w)
	if got := kit.Statuses(w.careplan(t, d.careplan).Body); got != "C C S N N N N N N N" {
		t.Fatalf("after the referral: %s", got)
	}
	if got, want := told(w.notes.take()), "referral-received>referring-physician="+d.requester+";planned-ait-care>general-practitioner="+d.gp; got != want {
		t.Errorf("referral notices (000 §V-VI):\n got %s\nwant %s", got, want)
	}
	c := newCast(t, w)
	v := guide(t, w)
	checkGuide(t, v, "referral", w.careplan(t, d.careplan).Body)
	for _, s := range pathwaySteps(d, c) {
		w.create(t, string(s.Body))
		cp := w.careplan(t, d.careplan)
		if got := kit.Statuses(cp.Body); got != s.Want {
			t.Errorf("%s: CarePlan %s, want %s", s.Name, got, s.Want)
		}
		checkGuide(t, v, s.Name, cp.Body)
		if got := told(w.notes.take()); got != s.Told {
			t.Errorf("%s: notices\n got %s\nwant %s", s.Name, got, s.Told)
		}
	}
	p, err := mapping.PathwayFromCarePlan(w.careplan(t, d.careplan).Body)
	if err != nil {
		t.Fatal(err)
	}
	if p.Refills != 3 || p.Author != c.Algologist || p.Subject != d.patient {
		t.Errorf("final pathway: %d refills, author %q, subject %q", p.Refills, p.Author, p.Subject)
	}
}

// TestSameReferralTwiceCreatesNothingTwice: the second post matches every entry by
// identifier (000 §V.2) and raises no notice.
func TestSameReferralTwiceCreatesNothingTwice(t *testing.T) {
	w := newWorld(t)
	postReferral(t, w)
	types := []string{"Patient", "Practitioner", "ServiceRequest", "Observation", "DocumentReference", "DiagnosticReport", "MedicationStatement", "Immunization", "CarePlan"}
	before := map[string]int{}
	for _, typ := range types {
		before[typ] = w.count(t, typ)
	}
	w.notes.take()
	resp, _ := postReferral(t, w)
	for _, typ := range types {
		if n := w.count(t, typ); n != before[typ] {
			t.Errorf("%s: %d after the second post, %d before", typ, n, before[typ])
		}
	}
	if ns := w.notes.take(); len(ns) != 0 {
		t.Errorf("second post raised %s", told(ns))
	}
	if !strings.Contains(string(resp.Body), `"transaction-response"`) || !strings.Contains(string(resp.Body), `"200 OK"`) {
		t.Errorf("answer: %.300s", resp.Body)
	}
}

// want422 checks a refused write: 422 naming the seed section, nothing of it stored.
func want422(t *testing.T, err error, section string) {
	t.Helper()
	fe := fhir.AsError(err)
	if err == nil || fe.Status != http.StatusUnprocessableEntity || !strings.Contains(fe.Outcome.Issue[0].Diagnostics, section) {
		t.Fatalf("want 422 citing %s, got %v", section, err)
	}
}

// TestImplantationBeforeRCPAndConsentIsRefused: an implantation posted right after
// the referral is refused with 422 (000 §VI) and the write rolls back whole.
func TestImplantationBeforeRCPAndConsentIsRefused(t *testing.T) {
	w := newWorld(t)
	_, d := postReferral(t, w)
	c := newCast(t, w)
	w.notes.take()
	var implantation string
	for _, s := range pathwaySteps(d, c) {
		if s.Name == "implantation" {
			implantation = string(s.Body)
		}
	}
	_, err := w.svc.Create(ctx, &rest.Request{Method: "POST", Type: "Procedure", Body: []byte(implantation)})
	want422(t, err, "000 §VI")
	if n := w.count(t, "Procedure"); n != 0 {
		t.Errorf("%d Procedure stored after the refusal", n)
	}
	if v := w.careplan(t, d.careplan).Version; v != 1 {
		t.Errorf("CarePlan at version %d after the refusal", v)
	}
	if ns := w.notes.take(); len(ns) != 0 {
		t.Errorf("refused write raised %s", told(ns))
	}
}

// TestRefillByNonPhysicianIsRefused: after discharge, a refill recorded by a nurse
// is refused (000 §XIII: a trained physician), one by the refill-centre physician
// accepted.
func TestRefillByNonPhysicianIsRefused(t *testing.T) {
	w := newWorld(t)
	_, d := postReferral(t, w)
	c := newCast(t, w)
	for _, s := range pathwaySteps(d, c) {
		if strings.HasPrefix(s.Name, "refill") {
			break
		}
		w.create(t, string(s.Body))
	}
	version := w.careplan(t, d.careplan).Version
	_, err := w.svc.Create(ctx, &rest.Request{Method: "POST", Type: "Procedure",
		Body: []byte(refill(d, c, c.Nurse, "2026-04-27T10:00:00Z", "2026-05-25T09:00:00Z"))})
	want422(t, err, "000 §XIII")
	if fe := fhir.AsError(err); !strings.Contains(fe.Outcome.Issue[0].Diagnostics, "physician") {
		t.Errorf("refusal does not say why: %s", fe.Outcome.JSON())
	}
	if v := w.careplan(t, d.careplan).Version; v != version {
		t.Errorf("CarePlan moved to version %d on a refused refill", v)
	}
	w.create(t, refill(d, c, c.Refiller, "2026-04-27T10:00:00Z", "2026-05-25T09:00:00Z"))
	if got := kit.Statuses(w.careplan(t, d.careplan).Body); got != "C C C C C C C C I I" {
		t.Errorf("after the physician's refill: %s", got)
	}
}

// validator is the guide's validator resolving references in the store.
type validator struct {
	v       *profiles.Validator
	resolve profiles.Resolver
}

func guide(t *testing.T, w *world) validator {
	pkg, err := profiles.Load()
	if err != nil {
		t.Fatal(err)
	}
	v, err := profiles.NewValidator(pkg)
	if err != nil {
		t.Fatal(err)
	}
	return validator{v, profiles.ResolverFunc(func(ctx context.Context, r string) ([]byte, error) {
		typ, id, ok := split(r)
		if !ok {
			return nil, nil
		}
		resp, err := w.svc.Read(ctx, &rest.Request{Type: typ, ID: id})
		if err != nil {
			return nil, nil
		}
		return resp.Body, nil
	})}
}

var activityIndex = regexp.MustCompile(`activity\[(\d+)\]`)

// checkGuide validates the stored CarePlan against the guide (AITCarePlan). Two
// errors remain, because the guide cannot express them yet (reported to the lead):
// CarePlan.author before the RCP designates the coordinating algologist (000 §VI),
// and activity.detail.scheduled[x] on a step not started that has no deadline row.
func checkGuide(t *testing.T, v validator, when string, careplan []byte) {
	t.Helper()
	oo := v.v.ValidateWith(ctx, v.resolve, careplan)
	acts := objs(decode(careplan), "activity")
	for _, is := range oo.Issue {
		if is.Severity != fhir.SeverityError && is.Severity != fhir.SeverityFatal {
			continue
		}
		expr := strings.Join(is.Expression, " ")
		switch {
		case strings.HasSuffix(expr, "CarePlan.author") && ref(decode(careplan), "author") == "" && (when == "referral"):
			continue // nobody coordinates before the RCP (000 §VI)
		case strings.HasSuffix(expr, ".detail.scheduled"):
			if m := activityIndex.FindStringSubmatch(expr); m != nil {
				i, _ := strconv.Atoi(m[1])
				if i < len(acts) && str(obj(acts[i], "detail"), "status") == "not-started" {
					continue // not started, no deadline row (000 §III)
				}
			}
		}
		t.Errorf("%s: CarePlan against the guide: %s %s %s", when, is.Code, expr, is.Diagnostics)
	}
}
