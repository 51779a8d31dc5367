package mapping

import (
	"fmt"
	"math"

	"github.com/aitgw/aitgw/mapping/rules"
)

// Quantity is a value with its UCUM unit.
type Quantity struct {
	Value float64
	Unit  string
}

// Normalise converts a lab value to the lab's canonical UCUM unit with the lab table
// (000 §V.2.c). It is a small table-driven converter, not a UCUM engine: a unit the
// table does not list is an error, never a guess.
func Normalise(lab rules.Lab, q Quantity) (Quantity, error) {
	for _, u := range lab.Units {
		if u.Unit == q.Unit {
			v := q.Value * u.Factor
			// Round away the binary noise of the factor (e.g. 0.1*3 = 0.30000000000000004).
			v = math.Round(v*1e6) / 1e6
			return Quantity{Value: v, Unit: lab.Unit}, nil
		}
	}
	return Quantity{}, fmt.Errorf("%s: unit %q is not one the gateway converts to %s (%s)", lab.Display, q.Unit, lab.Unit, lab.Section)
}

// quantityOf reads a FHIR Quantity: its value and its UCUM code (unit text when the
// system is not UCUM but the text is a UCUM code).
func quantityOf(q object) (Quantity, bool) {
	if q == nil {
		return Quantity{}, false
	}
	v, ok := num(q["value"])
	if !ok {
		return Quantity{}, false
	}
	unit := str(q, "code")
	if unit == "" || (str(q, "system") != "" && str(q, "system") != SystemUCUM) {
		unit = str(q, "unit")
	}
	return Quantity{Value: v, Unit: unit}, true
}
