package search

import (
	"errors"
	"net/http"

	"github.com/aitgw/aitgw/fhir"
)

// Confiner narrows what a search may reach beyond its own type to what the requester
// may see: the targets of a chain, the sources of a _has, and every resource an
// _include or _revinclude (:iterate included) walks through. fhir/rest implements
// it from the client's scopes and patient compartment, so that a chain is never an
// oracle on a type the client may not search.
type Confiner interface {
	// Visible returns the ids of typ the requester may see, nil for all of them, or an
	// error (a 403 *fhir.Error) when it may not search typ at all.
	Visible(typ string) (map[string]bool, error)
}

// visibleIDs asks see which ids of typ the requester may see; nil see or a nil
// answer means all of them.
func visibleIDs(see Confiner, typ string) (map[string]bool, error) {
	if see == nil {
		return nil, nil
	}
	return see.Visible(typ)
}

// keepSeen removes from ids those not in seen (nil seen: keep all).
func keepSeen(ids idSet, seen map[string]bool) {
	if seen == nil {
		return
	}
	for id := range ids {
		if !seen[id] {
			delete(ids, id)
		}
	}
}

// refused reports an error of see meaning "not allowed", as opposed to a failure.
func refused(err error) bool {
	var fe *fhir.Error
	return errors.As(err, &fe) && fe.Status == http.StatusForbidden
}

// atParam names the search parameter a refusal of see comes from, so that the 403
// says which chain or _has the token may not follow.
func atParam(err error, param string) error {
	var fe *fhir.Error
	if !errors.As(err, &fe) || fe.Status != http.StatusForbidden || len(fe.Outcome.Issue) == 0 {
		return err
	}
	return fhir.Errorf(http.StatusForbidden, "security", param, "%s: %s", param, fe.Outcome.Issue[0].Diagnostics)
}
