package smart

import (
	"context"
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

// StoreDirectory lists the store's patients for the standalone-launch picker.
type StoreDirectory struct{ Store fhir.Store }

// maxPicker bounds the picker list.
const maxPicker = 500

// List returns up to 500 patients with a display name and birth date.
func (d StoreDirectory) List(ctx context.Context) ([]PatientSummary, error) {
	var out []PatientSummary
	err := d.Store.View(ctx, func(tx fhir.Tx) error {
		return tx.ScanType("Patient", func(r *fhir.Record) bool {
			out = append(out, patientSummary(r))
			return len(out) < maxPicker
		})
	})
	return out, err
}

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
