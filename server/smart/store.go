package smart

import (
	"context"
	"errors"
	"strings"

	models "github.com/samply/golang-fhir-models/fhir-models/fhir"

	"github.com/aitgw/aitgw/fhir"
)

// StoreKV keeps the authorization server's records (clients, codes, refresh tokens,
// jti replay cache) in the gateway's store, as Aux records: they commit durably and
// are shared by every instance of a multi-instance deployment.
type StoreKV struct{ Store fhir.Store }

const auxPrefix = "smart."

// Get returns a value, nil when absent.
func (k StoreKV) Get(ctx context.Context, ns, key string) ([]byte, error) {
	var v []byte
	err := k.Store.View(ctx, func(tx fhir.Tx) error {
		var err error
		v, err = tx.GetAux(auxPrefix+ns, key)
		return err
	})
	return v, err
}

// Put sets a value; nil deletes.
func (k StoreKV) Put(ctx context.Context, ns, key string, val []byte) error {
	return k.Store.Update(ctx, func(tx fhir.Tx) error { return tx.PutAux(auxPrefix+ns, key, val) })
}

// PutNew sets a value only when the key is absent, atomically: the one-time use of
// codes and assertion jti rests on it.
func (k StoreKV) PutNew(ctx context.Context, ns, key string, val []byte) (bool, error) {
	var created bool
	err := k.Store.Update(ctx, func(tx fhir.Tx) error {
		created = false // the function may run again
		old, err := tx.GetAux(auxPrefix+ns, key)
		if err != nil || old != nil {
			return err
		}
		created = true
		return tx.PutAux(auxPrefix+ns, key, val)
	})
	return created && err == nil, err
}

// StoreDirectory finds the store's patients for the standalone-launch picker.
type StoreDirectory struct{ Store fhir.Store }

// maxPickerScan bounds the patients one search reads when the user may see everyone
// (a coordinator): a query that matches nobody in that many asks to be refined.
const maxPickerScan = 100000

// Find implements PatientDirectory: the patients of care (read one by one) or, for a
// user who may see all, a scan of the patients, stopping at limit+1 matches.
func (d StoreDirectory) Find(ctx context.Context, care Care, query string, limit int) ([]PatientSummary, bool, error) {
	var out []PatientSummary
	more := false
	err := d.Store.View(ctx, func(tx fhir.Tx) error {
		add := func(r *fhir.Record) bool {
			if s := patientSummary(r); s.Matches(query) {
				if len(out) == limit {
					more = true
					return false
				}
				out = append(out, s)
			}
			return true
		}
		if care.All {
			scanned := 0
			return tx.ScanType("Patient", func(r *fhir.Record) bool {
				scanned++
				return add(r) && scanned < maxPickerScan
			})
		}
		for _, id := range care.IDs() {
			r, err := tx.Current("Patient", id)
			if errors.Is(err, fhir.ErrNotFound) || err == nil && r.Deleted {
				continue
			}
			if err != nil {
				return err
			}
			if !add(r) {
				break
			}
		}
		return nil
	})
	return out, more, err
}

// Summary implements PatientDirectory.
func (d StoreDirectory) Summary(ctx context.Context, id string) (*PatientSummary, error) {
	var out *PatientSummary
	err := d.Store.View(ctx, func(tx fhir.Tx) error {
		r, err := tx.Current("Patient", id)
		if errors.Is(err, fhir.ErrNotFound) || err == nil && r.Deleted {
			return nil
		}
		if err != nil {
			return err
		}
		s := patientSummary(r)
		out = &s
		return nil
	})
	return out, err
}

// insSystems are the identifier systems of the INS (NIR and NIA OIDs).
var insSystems = map[string]bool{"urn:oid:1.2.250.1.213.1.4.8": true, "urn:oid:1.2.250.1.213.1.4.9": true,
	"urn:oid:1.2.250.1.213.1.4.10": true, "urn:oid:1.2.250.1.213.1.4.11": true}

// patientSummary is what the picker shows of a Patient, read through the typed model:
// its official name (else its usual one, else its first), as text or given names and
// family, and its birth date. A patient the model cannot read is listed by id.
func patientSummary(r *fhir.Record) PatientSummary {
	s := PatientSummary{ID: r.ID}
	p, err := fhir.ReadView(r, "Patient", models.UnmarshalPatient)
	if err != nil {
		return s
	}
	if p.BirthDate != nil {
		s.BirthDate = *p.BirthDate
	}
	for _, id := range p.Identifier {
		if id.Value == nil {
			continue
		}
		s.Identifiers = append(s.Identifiers, *id.Value)
		if id.System != nil && insSystems[*id.System] && s.INS == "" {
			s.INS = *id.Value
		}
	}
	var name *models.HumanName
	for _, use := range []models.NameUse{models.NameUseOfficial, models.NameUseUsual} {
		for i := range p.Name {
			if name == nil && p.Name[i].Use != nil && *p.Name[i].Use == use {
				name = &p.Name[i]
			}
		}
	}
	if name == nil && len(p.Name) > 0 {
		name = &p.Name[0]
	}
	if name != nil {
		if name.Text != nil {
			s.Name = *name.Text
		} else {
			family := ""
			if name.Family != nil {
				family = *name.Family
			}
			s.Name = strings.TrimSpace(strings.Join(name.Given, " ") + " " + family)
		}
	}
	return s
}
