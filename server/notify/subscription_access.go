package notify

import (
	"context"
	"encoding/json"
	"fmt"
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
// notifications carry Communications, so the client must be allowed to search them.
// For a client confined to patients (a patient-context token, a user/ token):
//
//   - a filter (backport-filter-criteria) naming a patient outside its reach is
//     refused;
//   - a full-resource Subscription must filter on its patients
//     ("Communication?patient=Patient/<id>"): an unfiltered one would carry every
//     patient's letters;
//   - whatever its filters, the Subscription is held at each milestone to the
//     patients the client was confined to when it wrote it (auxConfinedTo): the
//     filter on its patients is added, server-side, to an id-only or empty one.
//
// Wire it among the rest.Service hooks; the server's own writes are not checked.
type SubscriptionConfinement struct{}

var (
	_ rest.WriteHook  = SubscriptionConfinement{}
	_ rest.AccessHook = SubscriptionConfinement{}
)

// AfterWrite does nothing: the check needs the client's grant (CheckAccess).
func (SubscriptionConfinement) AfterWrite(context.Context, *rest.Writer, *fhir.Record) error {
	return nil
}

// CheckAccess refuses a Subscription outside the client's grant, and records the
// patients a confined client's Subscription is held to.
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
	s, err := parseSubscription(rec.ID, rec.Body)
	if err != nil {
		return nil // ValidateSubscription answers unreadable ones
	}
	mine := map[string]bool{}
	for _, p := range patients {
		mine[p] = true
	}
	filtered := false
	for i, f := range s.Filters {
		named := filterPatients(f)
		for _, p := range named {
			if !mine[p] {
				return fhir.Errorf(http.StatusUnprocessableEntity, "security",
					fmt.Sprintf("Subscription.criteria.extension('%s')[%d]", extFilterCriteria, i),
					"the filter names Patient/%s, a patient the access token does not reach", p)
			}
		}
		filtered = filtered || len(named) > 0
	}
	if !filtered && s.Content == PayloadFullResource {
		return fhir.Errorf(http.StatusUnprocessableEntity, "security",
			"Subscription.criteria.extension('"+extFilterCriteria+"')",
			"a full-resource Subscription of a token confined to patients must filter on them, e.g. Communication?patient=Patient/%s", firstOr(patients, "<id>"))
	}
	raw, _ := json.Marshal(patients)
	return w.Tx().PutAux(auxConfinedTo, rec.ID, raw)
}

// filterPatients returns the patient ids a Communication filter criteria names in its
// patient or subject parameters (Patient/<id>, or a bare id for patient).
func filterPatients(f string) []string {
	typ, query, _ := strings.Cut(f, "?")
	if typ != "Communication" {
		return nil
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return nil
	}
	var out []string
	for param, vs := range q {
		name, _, _ := strings.Cut(param, ":")
		if name != "patient" && name != "subject" {
			continue
		}
		for _, v := range vs {
			for _, ref := range strings.Split(v, ",") {
				if id, ok := strings.CutPrefix(ref, "Patient/"); ok {
					out = append(out, id)
				} else if name == "patient" && ref != "" && !strings.Contains(ref, "/") {
					out = append(out, ref)
				}
			}
		}
	}
	return out
}

func firstOr(list []string, def string) string {
	if len(list) > 0 {
		return list[0]
	}
	return def
}
