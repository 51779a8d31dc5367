package pathway

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/mapping"
)

// The pathway state is the gateway's own record, kept in the store's auxiliary
// records (namespace stateNS, key: the CarePlan's id), written in the same
// transaction as the step that changed it. The CarePlan (its activities and its
// state extension) is a rendering of it for clients; it is never read back as state,
// so that nothing a client writes can become the pathway's state.
const stateNS = "pathway-state"

// loadPathway reads the state of the pathway CarePlan id; a pathway without a record
// (written before the state was kept apart) has it rebuilt from its referral and
// steps (rebuildPathway) and recorded; writing, the resource being written (Type/id,
// or "") is left out of that rebuild: the caller applies it.
func loadPathway(w *rest.Writer, id, writing string) (mapping.Pathway, error) {
	raw, err := w.Tx().GetAux(stateNS, id)
	if err != nil {
		return mapping.Pathway{}, err
	}
	if raw == nil {
		body, err := current(w.Tx(), "CarePlan", id)
		if err != nil || body == nil {
			return mapping.Pathway{}, fhir.Errorf(http.StatusUnprocessableEntity, "business-rule", "CarePlan",
				"CarePlan/%s is no pathway the gateway keeps (000 §III)", id)
		}
		p, err := rebuildPathway(w, body, w.Now(), writing)
		if err != nil {
			return mapping.Pathway{}, err
		}
		return p, recordState(w.Tx(), id, p)
	}
	var p mapping.Pathway
	if err := json.Unmarshal(raw, &p); err != nil {
		return mapping.Pathway{}, err
	}
	if p.Facts == nil {
		p.Facts = map[string]mapping.Fact{}
	}
	if p.Overdue == nil {
		p.Overdue = map[string]bool{}
	}
	return p, nil
}

// savePathway writes the CarePlan rendering the state, and the state itself.
func savePathway(w *rest.Writer, id string, p mapping.Pathway) error {
	if _, _, err := w.Put("CarePlan", id, mapping.CarePlanJSON(p), http.MethodPut, 0); err != nil {
		return err
	}
	return recordState(w.Tx(), id, p)
}

// recordState keeps the state of pathway CarePlan id.
func recordState(tx fhir.Tx, id string, p mapping.Pathway) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return tx.PutAux(stateNS, id, b)
}

// RecordLegacyStates gives the pathways written before the state was kept apart
// their record, once, rebuilt from their referral and step resources
// (rebuildPathway), not read from the CarePlan; it returns how many it recorded.
// The gateway runs it at start.
func RecordLegacyStates(ctx context.Context, svc *rest.Service) (int, error) {
	var ids []string
	if err := svc.Store.View(ctx, func(tx fhir.Tx) error {
		return tx.ScanType("CarePlan", func(rec *fhir.Record) bool {
			if mapping.IsPathwayState("CarePlan", rec.Body) {
				ids = append(ids, rec.ID)
			}
			return true
		})
	}); err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		err := svc.Write(ctx, func(w *rest.Writer) error {
			if raw, err := w.Tx().GetAux(stateNS, id); err != nil || raw != nil {
				return err
			}
			body, err := current(w.Tx(), "CarePlan", id)
			if err != nil || body == nil {
				return err
			}
			p, err := rebuildPathway(w, body, w.Now(), "")
			if err != nil {
				return nil // not a pathway that can be rebuilt: left without a record (its steps are refused)
			}
			n++
			return savePathway(w, id, p)
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
