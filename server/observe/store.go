package observe

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
)

// Store wraps a fhir.Store to time its commits: a histogram, and a span when tracing
// is on. Reads pass through untouched.
type Store struct {
	fhir.Store
	m *Metrics
}

// WrapStore returns s with its commits observed by m (m nil: tracing only).
func WrapStore(s fhir.Store, m *Metrics) *Store { return &Store{Store: s, m: m} }

// Update times the write transaction and records its outcome.
func (s *Store) Update(ctx context.Context, fn func(fhir.Tx) error) error {
	ctx, span := tracer.Start(ctx, "store.commit")
	defer span.End()
	start := time.Now()
	err := s.Store.Update(ctx, fn)
	outcome := "committed"
	if err != nil {
		outcome = "rolled-back"
		span.SetStatus(codes.Error, "rolled back")
	}
	if s.m != nil {
		s.m.commits.WithLabelValues(outcome).Observe(time.Since(start).Seconds())
	}
	return err
}

// Validator wraps a rest.Validator to time validation.
type Validator struct {
	rest.Validator
	m *Metrics
}

// WrapValidator returns v with its checks observed by m.
func WrapValidator(v rest.Validator, m *Metrics) *Validator { return &Validator{Validator: v, m: m} }

// ValidateWrite times one resource's validation.
func (v *Validator) ValidateWrite(typ string, body []byte, generated bool) *fhir.OperationOutcome {
	_, span := tracer.Start(context.Background(), "validate.resource", spanType(typ))
	defer span.End()
	start := time.Now()
	oo := v.Validator.ValidateWrite(typ, body, generated)
	v.observe("resource", oo, start)
	return oo
}

// ValidateBundle times a transaction Bundle's validation.
func (v *Validator) ValidateBundle(body []byte) *fhir.OperationOutcome {
	_, span := tracer.Start(context.Background(), "validate.bundle")
	defer span.End()
	start := time.Now()
	oo := v.Validator.ValidateBundle(body)
	v.observe("bundle", oo, start)
	return oo
}

func (v *Validator) observe(kind string, oo *fhir.OperationOutcome, start time.Time) {
	if v.m == nil {
		return
	}
	verdict := "valid"
	if oo != nil && oo.HasErrors() {
		verdict = "invalid"
	}
	v.m.validation.WithLabelValues(kind, verdict).Observe(time.Since(start).Seconds())
}

func spanType(typ string) traceOpt {
	return withAttributes(attribute.String("fhir.type", safeType(typ)))
}

// safeType keeps a resource type as a label or attribute only when R4 defines it.
func safeType(typ string) string {
	if typ == "" || fhir.IsResourceType(typ) {
		return typ
	}
	return "other"
}
