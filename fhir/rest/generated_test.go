package rest_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
)

// refuseStatus is a validator that refuses any resource with status "bad".
type refuseStatus struct{ generated []bool }

func (r *refuseStatus) ValidateWrite(typ string, body []byte, generated bool) *fhir.OperationOutcome {
	r.generated = append(r.generated, generated)
	if strings.Contains(string(body), `"status":"bad"`) {
		return fhir.NewOutcome(fhir.Issue{Severity: fhir.SeverityError, Code: "code-invalid", Expression: []string{typ + ".status"}, Diagnostics: "bad status"})
	}
	return nil
}

func (r *refuseStatus) ValidateBundle([]byte) *fhir.OperationOutcome { return nil }

// TestGeneratedResourcesValidated: what the server derives itself (Writer.Put, used by
// the pathway and the notifications) is validated in full before it is stored; an
// invalid one is a 422 and nothing of the write is stored.
func TestGeneratedResourcesValidated(t *testing.T) {
	s := newService(t)
	v := &refuseStatus{}
	s.Validate = v
	err := s.Write(ctx, func(w *rest.Writer) error {
		if _, _, err := w.Put("Communication", "ok1", []byte(`{"resourceType":"Communication","id":"ok1","status":"completed"}`), http.MethodPost, 0); err != nil {
			return err
		}
		_, _, err := w.Put("Communication", "bad1", []byte(`{"resourceType":"Communication","id":"bad1","status":"bad"}`), http.MethodPost, 0)
		return err
	})
	fe := mustFail(t, err, http.StatusUnprocessableEntity, "code-invalid")
	if !strings.Contains(fe.Outcome.Issue[0].Diagnostics, "the Communication the gateway derives") {
		t.Errorf("diagnostics %q", fe.Outcome.Issue[0].Diagnostics)
	}
	if len(v.generated) == 0 || !v.generated[0] {
		t.Errorf("validated as a client's submission, not as generated: %v", v.generated)
	}
	_ = s.Store.View(ctx, func(tx fhir.Tx) error {
		if _, err := tx.Current("Communication", "ok1"); !errors.Is(err, fhir.ErrNotFound) {
			t.Errorf("partial write: ok1 stored (%v)", err)
		}
		return nil
	})
}
