package fhir

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
)

// Issue is one OperationOutcome.issue. Expression holds FHIRPath locations of the
// element at fault, so that a client can point its user at the field.
type Issue struct {
	Severity    string   `json:"severity"`
	Code        string   `json:"code"`
	Diagnostics string   `json:"diagnostics,omitempty"`
	Expression  []string `json:"expression,omitempty"`
	// Details carries a coded reason (for clinical rules: the seed section).
	Details *CodeableText `json:"details,omitempty"`
}

// CodeableText is the small CodeableConcept used in issue details.
type CodeableText struct {
	Coding []Coding `json:"coding,omitempty"`
	Text   string   `json:"text,omitempty"`
}

// Coding is a FHIR Coding.
type Coding struct {
	System  string `json:"system,omitempty"`
	Code    string `json:"code,omitempty"`
	Display string `json:"display,omitempty"`
}

// Issue severities (FHIR value set issue-severity).
const (
	SeverityFatal       = "fatal"
	SeverityError       = "error"
	SeverityWarning     = "warning"
	SeverityInformation = "information"
)

// OperationOutcome is the FHIR resource every error and warning is reported in.
type OperationOutcome struct {
	ResourceType string  `json:"resourceType"`
	Issue        []Issue `json:"issue"`
}

// NewOutcome returns an OperationOutcome holding issues.
func NewOutcome(issues ...Issue) *OperationOutcome {
	if issues == nil {
		issues = []Issue{}
	}
	return &OperationOutcome{ResourceType: "OperationOutcome", Issue: issues}
}

// JSON renders the outcome.
func (o *OperationOutcome) JSON() []byte {
	b, _ := json.Marshal(o) // cannot fail: plain strings and slices
	return b
}

// HasErrors reports whether any issue is an error or fatal.
func (o *OperationOutcome) HasErrors() bool {
	for _, is := range o.Issue {
		if is.Severity == SeverityError || is.Severity == SeverityFatal {
			return true
		}
	}
	return false
}

// Error is a failure with its HTTP status and the OperationOutcome that explains it.
// Every error that reaches a client is one of these.
type Error struct {
	Status  int
	Outcome *OperationOutcome
}

// Error renders the status and the first issue.
func (e *Error) Error() string {
	if e.Outcome != nil && len(e.Outcome.Issue) > 0 {
		is := e.Outcome.Issue[0]
		return fmt.Sprintf("%d %s: %s %v", e.Status, is.Code, is.Diagnostics, is.Expression)
	}
	return http.StatusText(e.Status)
}

// Errorf builds an Error with one issue of severity error.
func Errorf(status int, code, expression, format string, args ...any) *Error {
	is := Issue{Severity: SeverityError, Code: code, Diagnostics: fmt.Sprintf(format, args...)}
	if expression != "" {
		is.Expression = []string{expression}
	}
	return &Error{Status: status, Outcome: NewOutcome(is)}
}

// Issues builds an Error from several issues.
func Issues(status int, issues ...Issue) *Error {
	return &Error{Status: status, Outcome: NewOutcome(issues...)}
}

// Common failures, named after the FHIR behaviour they stand for.
var (
	// ErrNotFound: no resource of that type and id (404).
	ErrNotFound = errors.New("not found")
	// ErrGone: the resource was deleted (410).
	ErrGone = errors.New("gone")
	// ErrConflict: a concurrent write changed what the operation depended on.
	ErrConflict = errors.New("conflict")
	// ErrUnavailable: the store cannot be reached for now (503, with Retry-After); the
	// gateway recovers by itself once it can.
	ErrUnavailable = errors.New("store unavailable")
)

// RetryAfterSeconds is the Retry-After sent with a 503 when the store is unavailable.
const RetryAfterSeconds = 5

// AsError converts any error to an *Error, mapping the sentinel errors to their FHIR
// statuses and anything else to a 500 that names no internal detail.
func AsError(err error) *Error {
	var fe *Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &fe):
		return fe
	case errors.Is(err, ErrNotFound):
		return Errorf(http.StatusNotFound, "not-found", "", "resource not found")
	case errors.Is(err, ErrGone):
		return Errorf(http.StatusGone, "deleted", "", "resource was deleted")
	case errors.Is(err, ErrConflict):
		return Errorf(http.StatusConflict, "conflict", "", "concurrent modification, retry")
	case errors.Is(err, ErrUnavailable):
		return Errorf(http.StatusServiceUnavailable, "transient", "", "the data store is unavailable for now: retry in a few seconds")
	case errors.Is(err, context.DeadlineExceeded):
		return Errorf(http.StatusUnprocessableEntity, "too-costly", "", "the request ran past its deadline and was cancelled; nothing was written")
	case errors.Is(err, context.Canceled):
		return Errorf(499, "transient", "", "the request was cancelled; nothing was written")
	default:
		return Errorf(http.StatusInternalServerError, "exception", "", "internal error")
	}
}
