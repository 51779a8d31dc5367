package notify

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
)

// auxConfinedTo records, per Subscription written by a confined client, the patients
// it was confined to: its notifications are checked against them at each milestone.
const auxConfinedTo = "subscription.confined-to"

// SubscriptionConfinement keeps a client's Subscriptions within its grant: their
// notifications carry Communications, so the client must be allowed to search them,
// and a client confined to patients (a patient-context token, a user/ token) must
// filter its Subscription on one of its patients (backport-filter-criteria
// "Communication?patient=Patient/<id>"): an unfiltered one would deliver every
// patient's letters. Wire it among the rest.Service hooks; the server's own writes are
// not checked.
type SubscriptionConfinement struct{}

var (
	_ rest.WriteHook  = SubscriptionConfinement{}
	_ rest.AccessHook = SubscriptionConfinement{}
)

// AfterWrite does nothing: the check needs the client's grant (CheckAccess).
func (SubscriptionConfinement) AfterWrite(context.Context, *rest.Writer, *fhir.Record) error {
	return nil
}

// CheckAccess refuses a Subscription outside the client's grant.
func (SubscriptionConfinement) CheckAccess(w *rest.Writer, a rest.Access, rec *fhir.Record) error {
	if rec.Type != "Subscription" || rec.Deleted || a == nil {
		return nil
	}
	if !a.Allows("search-type", "Communication") {
		return fhir.Errorf(http.StatusForbidden, "security", "Subscription",
			"a Subscription delivers Communications: the access token must allow searching them")
	}
	patients, confined, err := rest.ConfinedPatients(w.Tx(), a, "search-type", "Communication")
	if err != nil {
		return err
	}
	if !confined {
		return w.Tx().PutAux(auxConfinedTo, rec.ID, nil) // written by a system client now
	}
	raw, _ := json.Marshal(patients)
	if err := w.Tx().PutAux(auxConfinedTo, rec.ID, raw); err != nil {
		return err
	}
	s, err := parseSubscription(rec.ID, rec.Body)
	if err != nil {
		return nil // ValidateSubscription answers unreadable ones
	}
	mine := map[string]bool{}
	for _, p := range patients {
		mine[p] = true
	}
	for _, f := range s.Filters {
		if filtersOnPatient(f, mine) {
			return nil
		}
	}
	return fhir.Errorf(http.StatusUnprocessableEntity, "security",
		"Subscription.criteria.extension('"+extFilterCriteria+"')",
		"a token confined to patients must filter its Subscription on one of them, e.g. Communication?patient=Patient/%s", firstOr(patients, "<id>"))
}

// filtersOnPatient reports whether a filter criteria confines the Communications to
// exactly one patient among mine: patient= or subject= with a single Patient
// reference (filters are ANDed, so one such filter confines the Subscription).
func filtersOnPatient(f string, mine map[string]bool) bool {
	typ, query, _ := strings.Cut(f, "?")
	if typ != "Communication" {
		return false
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return false
	}
	for _, param := range []string{"patient", "subject", "subject:Patient"} {
		vs := q[param]
		if len(vs) != 1 || strings.Contains(vs[0], ",") {
			continue
		}
		if id, ok := strings.CutPrefix(vs[0], "Patient/"); ok && mine[id] {
			return true
		}
		if param != "subject" && mine[vs[0]] {
			return true // patient=<id>
		}
	}
	return false
}

func firstOr(list []string, def string) string {
	if len(list) > 0 {
		return list[0]
	}
	return def
}
