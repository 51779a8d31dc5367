package pathway

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/mapping"
)

// GatewayState refuses a client's write to the gateway's own pathway state: a
// pathway CarePlan (its state extension, identifier or category) or a DetectedIssue
// the rules recorded. Clients create, update, patch and delete neither, alone or in
// a batch or transaction: the gateway derives them from the step resources, and
// what it derives is never read back from client data. The answer is a 403
// OperationOutcome naming the element; nil lets the request go on.
func GatewayState(svc *rest.Service) func(ctx context.Context, req *rest.Request) error {
	return func(ctx context.Context, req *rest.Request) error {
		switch req.Op {
		case "create", "update", "conditional-update", "patch", "conditional-patch", "delete", "conditional-delete":
			return checkState(ctx, svc, req.Type, req.ID, req.Query.Encode(), req.Body, req.Op, "")
		case "batch":
			return checkBundleState(ctx, svc, req.Body)
		}
		return nil
	}
}

// checkBundleState applies checkState to each write entry of a Bundle.
func checkBundleState(ctx context.Context, svc *rest.Service, body []byte) error {
	var b struct {
		Entry []struct {
			Resource json.RawMessage `json:"resource"`
			Request  struct{ Method, URL string }
		} `json:"entry"`
	}
	if json.Unmarshal(body, &b) != nil {
		return nil // the Bundle's own processing says what is wrong with it
	}
	for i, e := range b.Entry {
		method := strings.ToUpper(e.Request.Method)
		if method == "" || method == http.MethodGet || method == http.MethodHead {
			continue
		}
		p, err := svc.ParseEntryURL(method, e.Request.URL)
		if err != nil {
			continue
		}
		query := ""
		if p.Query != nil {
			query = p.Query.Encode()
		}
		if err := checkState(ctx, svc, p.Type, p.ID, query, e.Resource, p.Op, "Bundle.entry["+itoa(i)+"]."); err != nil {
			return err
		}
	}
	return nil
}

// checkState refuses one write on the gateway's state.
func checkState(ctx context.Context, svc *rest.Service, typ, id, query string, body []byte, op, where string) error {
	if typ != "CarePlan" && typ != "DetectedIssue" {
		return nil
	}
	if len(body) > 0 && isGatewayState(typ, body) {
		return stateRefusal(typ, where+"resource")
	}
	var ids []string
	switch {
	case id != "":
		ids = []string{id}
	case strings.HasPrefix(op, "conditional-") && query != "":
		if err := svc.Store.View(ctx, func(tx fhir.Tx) error {
			var err error
			ids, err = svc.Engine.Match(tx, typ, query)
			return err
		}); err != nil {
			return nil // the interaction reports its own criteria errors
		}
	}
	for _, x := range ids {
		var cur []byte
		_ = svc.Store.View(ctx, func(tx fhir.Tx) error {
			var err error
			cur, err = current(tx, typ, x)
			return err
		})
		if cur != nil && isGatewayState(typ, cur) {
			return stateRefusal(typ, where+"request.url")
		}
	}
	return nil
}

// isGatewayState reports whether a body is pathway state the gateway owns.
func isGatewayState(typ string, body []byte) bool {
	if typ == "CarePlan" {
		return mapping.IsPathwayState(typ, body)
	}
	m := decode(body)
	return m != nil && gatewayIssue(m)
}

func stateRefusal(typ, expr string) error {
	what := "the pathway CarePlan"
	if typ == "DetectedIssue" {
		what = "a DetectedIssue the pathway rules recorded"
	}
	return fhir.Issues(http.StatusForbidden, fhir.Issue{Severity: fhir.SeverityError, Code: "forbidden",
		Expression: []string{expr}, Details: seedCoding("000 §III"),
		Diagnostics: what + " belongs to the gateway: it is derived from the step resources (Task, Encounter, Procedure, MedicationRequest…) and cannot be " +
			"created, updated, patched or deleted by a client; post the step resource instead (000 §III)"})
}

func itoa(i int) string {
	b, _ := json.Marshal(i)
	return string(b)
}
