package rules

// UnitFactor converts a submitted UCUM unit to the lab's canonical unit:
// canonical = value × Factor.
type UnitFactor struct {
	Unit   string  // UCUM code as submitted
	Factor float64 // multiply by this to get the canonical unit
}

// Lab is one laboratory result the AIT dossier needs (000 §V.2.c): the LOINC codes it
// is recognised by, its canonical UCUM unit, the units accepted with their factors,
// and the range that makes it acceptable when the referential sets one.
type Lab struct {
	Key     string
	Display string
	LOINC   []string
	Unit    string // canonical UCUM unit
	Units   []UnitFactor
	// Low and High bound the acceptable value (exclusive); nil means no bound in the
	// referential.
	Low, High *float64
	// UsualRange marks bounds taken from the usual laboratory reference (the seed says
	// "normal" without numbers); the Observation's own referenceRange wins over them.
	UsualRange bool
	Section    string
}

func f(v float64) *float64 { return &v }

// Count units: 1 uL = 1 mm3, so /uL and /mm3 are the same and 10*3/uL is 1000/mm3.
var cellCount = []UnitFactor{
	{"/mm3", 1}, {"/uL", 1}, {"10*3/uL", 1000}, {"10*3/mm3", 1000}, {"10*9/L", 1000},
	{"/L", 1e-6}, {"10*6/L", 1e-3}, {"G/L", 1000},
}

// Labs is the table of the dossier's laboratory results (000 §V.2.c).
var Labs = []Lab{
	{Key: "neutrophils", Display: "Neutrophils", LOINC: []string{"751-8", "753-4", "26499-4"},
		Unit: "/mm3", Units: cellCount, Low: f(500), Section: "000 §V.2.c"},
	{Key: "platelets", Display: "Platelets", LOINC: []string{"777-3", "26515-7", "778-1"},
		Unit: "/mm3", Units: cellCount, Low: f(80000), Section: "000 §V.2.c"},
	{Key: "haemoglobin", Display: "Haemoglobin", LOINC: []string{"718-7", "30313-1"},
		Unit: "g/dL", Units: []UnitFactor{{"g/dL", 1}, {"g/L", 0.1}, {"mmol/L", 1.6114}}, Section: "000 §V.2.c"},
	{Key: "prothrombin", Display: "Prothrombin time (TP, %)", LOINC: []string{"5894-1"},
		Unit: "%", Units: []UnitFactor{{"%", 1}}, Low: f(70), UsualRange: true, Section: "000 §V.2.c"},
	// PT in seconds (LOINC 5902-2, the guide's primary PT code): "normal" is the
	// laboratory's own range for its reagent, so no bound of ours.
	{Key: "prothrombin-time", Display: "Prothrombin time (s)", LOINC: []string{"5902-2"},
		Unit: "s", Units: []UnitFactor{{"s", 1}}, UsualRange: true, Section: "000 §V.2.c"},
	{Key: "inr", Display: "INR", LOINC: []string{"6301-6", "34714-6"},
		Unit: "{INR}", Units: []UnitFactor{{"{INR}", 1}, {"1", 1}, {"{ratio}", 1}}, High: f(1.3), UsualRange: true, Section: "000 §V.2.c"},
	{Key: "aptt", Display: "aPTT", LOINC: []string{"3173-2", "14979-9"},
		Unit: "s", Units: []UnitFactor{{"s", 1}, {"min", 60}}, Section: "000 §V.2.c"},
	// 63561-5 is "aPTT actual/normal" (a ratio); 34571-0, once listed here, is the
	// lupus-sensitive aPTT in seconds ("Coagulation aPTT.lupus sensitive (PPP) [Time]")
	{Key: "aptt-ratio", Display: "aPTT ratio", LOINC: []string{"63561-5"},
		Unit: "{ratio}", Units: []UnitFactor{{"{ratio}", 1}, {"1", 1}}, High: f(1.2), UsualRange: true, Section: "000 §V.2.c"},
	{Key: "creatinine", Display: "Creatinine", LOINC: []string{"14682-9", "2160-0", "38483-4"},
		Unit: "umol/L", Units: []UnitFactor{{"umol/L", 1}, {"mg/dL", 88.42}, {"mg/L", 8.842}, {"mmol/L", 1000}}, Section: "000 §V.2.c"},
	{Key: "glucose", Display: "Glucose", LOINC: []string{"14749-6", "2345-7", "15074-8", "2339-0"},
		Unit: "mmol/L", Units: []UnitFactor{{"mmol/L", 1}, {"mg/dL", 0.05551}, {"g/L", 5.551}}, Section: "000 §V.2.c"},
	{Key: "sodium", Display: "Sodium", LOINC: []string{"2951-2", "2947-0"},
		Unit: "mmol/L", Units: []UnitFactor{{"mmol/L", 1}, {"meq/L", 1}, {"[meq]/L", 1}}, Section: "000 §V.2.c"},
	{Key: "potassium", Display: "Potassium", LOINC: []string{"2823-3", "6298-4"},
		Unit: "mmol/L", Units: []UnitFactor{{"mmol/L", 1}, {"meq/L", 1}, {"[meq]/L", 1}}, Section: "000 §V.2.c"},
	{Key: "chloride", Display: "Chloride", LOINC: []string{"2075-0", "2069-3"},
		Unit: "mmol/L", Units: []UnitFactor{{"mmol/L", 1}, {"meq/L", 1}, {"[meq]/L", 1}}, Section: "000 §V.2.c"},
	{Key: "calcium", Display: "Calcium", LOINC: []string{"2000-8", "17861-6"},
		Unit: "mmol/L", Units: []UnitFactor{{"mmol/L", 1}, {"mg/dL", 0.2495}, {"mg/L", 0.02495}}, Section: "000 §V.2.c"},
	{Key: "phosphate", Display: "Phosphate", LOINC: []string{"14879-1", "2777-1"},
		Unit: "mmol/L", Units: []UnitFactor{{"mmol/L", 1}, {"mg/dL", 0.3229}, {"mg/L", 0.03229}}, Section: "000 §V.2.c"},
}

// Coagulation lists the lab keys of which one must be present for "normal coagulation
// (PT, aPTT)": a PT (as %, seconds or INR) and an aPTT (seconds or ratio).
var Coagulation = [][]string{{"prothrombin", "prothrombin-time", "inr"}, {"aptt", "aptt-ratio"}}

// LabByLOINC returns the lab recognised by a LOINC code.
func LabByLOINC(code string) (Lab, bool) {
	for _, l := range Labs {
		for _, c := range l.LOINC {
			if c == code {
				return l, true
			}
		}
	}
	return Lab{}, false
}

// LabByKey returns the lab with that key.
func LabByKey(key string) (Lab, bool) {
	for _, l := range Labs {
		if l.Key == key {
			return l, true
		}
	}
	return Lab{}, false
}
