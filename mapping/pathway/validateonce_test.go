package pathway

import (
	"net/http"
	"os"
	"sync/atomic"
	"testing"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
)

// countingValidator counts whole-Bundle validations; refuse makes each one fail on
// Bundle.type, an error no withdrawn profile can cure.
type countingValidator struct {
	bundles atomic.Int32
	refuse  bool
}

func (c *countingValidator) ValidateWrite(string, []byte, bool) *fhir.OperationOutcome { return nil }

func (c *countingValidator) ValidateBundle([]byte) *fhir.OperationOutcome {
	c.bundles.Add(1)
	if c.refuse {
		return fhir.NewOutcome(fhir.Issue{Severity: fhir.SeverityError, Code: "invalid", Expression: []string{"Bundle.type"}, Diagnostics: "refused"})
	}
	return nil
}

// TestReferralBundleValidatedOnce: the intake validates the referral's transaction to
// withdraw the profiles it assigned that are not met; when that validation passes, the
// transaction does not validate the same bytes again (half the cost of a referral).
// When it fails on what the sender itself sent, the transaction validates and refuses.
func TestReferralBundleValidatedOnce(t *testing.T) {
	body, err := os.ReadFile("../testdata/referral-frcore.json")
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(t)
	ok := &countingValidator{}
	w.svc.Validate = ok
	if _, err := Referral(w.svc)(ctx, &rest.Request{Method: "POST", Body: body}); err != nil {
		t.Fatalf("$ait-referral: %s", fhir.AsError(err).Outcome.JSON())
	}
	if n := ok.bundles.Load(); n != 1 {
		t.Errorf("a valid referral Bundle was validated %d times, want 1", n)
	}

	w = newWorld(t)
	bad := &countingValidator{refuse: true}
	w.svc.Validate = bad
	_, err = Referral(w.svc)(ctx, &rest.Request{Method: "POST", Body: body})
	if e := fhir.AsError(err); err == nil || e.Status != http.StatusUnprocessableEntity {
		t.Fatalf("a Bundle the validator refuses: err %v, want 422", err)
	}
	if n := bad.bundles.Load(); n < 2 {
		t.Errorf("a refused Bundle was validated %d times: the transaction must validate it itself", n)
	}
	if pats := w.search(t, "Patient", ""); len(pats) != 0 {
		t.Errorf("a refused referral stored %d Patient", len(pats))
	}
}
