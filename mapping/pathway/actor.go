package pathway

import (
	"errors"
	"strings"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/mapping"
	"github.com/aitgw/aitgw/mapping/rules"
)

// actorRefs are the references that say who recorded a step, in order of trust: the
// performer (Procedure, Consent, MedicationRequest…), the owner (the RCP Task), the
// recorder, the requester, the participant of an Encounter.
func actorRefs(m object) []string {
	var out []string
	for _, p := range objs(m, "performer") {
		if a := ref(p, "actor"); a != "" { // Procedure.performer.actor
			out = append(out, a)
		}
		if a := str(p, "reference"); a != "" { // Consent / MedicationRequest performer
			out = append(out, a)
		}
	}
	for _, k := range []string{"owner", "recorder", "asserter", "requester", "author"} {
		if a := ref(m, k); a != "" {
			out = append(out, a)
		}
	}
	for _, p := range objs(m, "participant") {
		if a := ref(p, "individual"); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// ResolveActor reads, inside the write's transaction, who recorded a step and in what
// role: the first performer/owner/recorder… that is a PractitionerRole gives its
// code (and its practitioner); a Practitioner gives its qualification codes. Codes
// and texts are read through rules.RoleCodes. An actor whose role cannot be read has
// an empty role: a step restricted to some roles (a refill by a physician, 000 §XIII)
// is then refused, which is the safe side.
func ResolveActor(tx fhir.Tx, step object) (mapping.Actor, error) {
	var first string
	for _, r := range actorRefs(step) {
		typ, id, ok := split(r)
		if !ok || (typ != "Practitioner" && typ != "PractitionerRole") {
			continue
		}
		if first == "" {
			first = typ + "/" + id
		}
		body, err := current(tx, typ, id)
		if err != nil {
			return mapping.Actor{}, err
		}
		if body == nil {
			continue
		}
		m := decode(body)
		var ccs []object
		who := typ + "/" + id
		if typ == "PractitionerRole" {
			ccs = append(ccs, objs(m, "code")...)
			ccs = append(ccs, objs(m, "specialty")...)
			if p := ref(m, "practitioner"); p != "" {
				who = p
			}
		} else {
			for _, q := range objs(m, "qualification") {
				ccs = append(ccs, obj(q, "code"))
			}
		}
		if role := roleOf(ccs); role != "" {
			return mapping.Actor{Role: role, Reference: who}, nil
		}
	}
	return mapping.Actor{Reference: first}, nil
}

// roleOf matches CodeableConcepts against rules.RoleCodes, row by row.
func roleOf(ccs []object) rules.Role {
	for _, rc := range rules.RoleCodes {
		for _, cc := range ccs {
			if rc.System == "" && strings.EqualFold(strings.TrimSpace(str(cc, "text")), rc.Code) {
				return rc.Role
			}
			for _, c := range objs(cc, "coding") {
				if (rc.System == "" || rc.System == str(c, "system")) && strings.EqualFold(str(c, "code"), rc.Code) {
					return rc.Role
				}
			}
		}
	}
	return ""
}

// current returns the current body of typ/id in tx, nil when absent or deleted.
func current(tx fhir.Tx, typ, id string) ([]byte, error) {
	rec, err := tx.Current(typ, id)
	if errors.Is(err, fhir.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if rec.Deleted {
		return nil, nil
	}
	return rec.Body, nil
}
