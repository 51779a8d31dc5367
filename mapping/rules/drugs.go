package rules

// Route is an administration route of an opioid.
type Route string

// Routes of the equivalence table (000 §IX.1.a) and of the conversion table.
const (
	RouteOral        Route = "oral"
	RouteIV          Route = "intravenous"
	RouteSC          Route = "subcutaneous"
	RouteEpidural    Route = "epidural"
	RouteIntrathecal Route = "intrathecal"
	RouteTransdermal Route = "transdermal"
)

// RouteCodes maps SNOMED CT route codes (R4 value set route-codes) to routes.
var RouteCodes = map[string]Route{
	"26643006":  RouteOral,
	"47625008":  RouteIV,
	"34206005":  RouteSC,
	"404820008": RouteEpidural,
	"72607000":  RouteIntrathecal,
	"372452007": RouteIntrathecal, // the guide's prescription example codes it so
	"45890007":  RouteTransdermal,
}

// Conversion is one row of the opioid conversion table: a daily dose of Molecule by
// Route, in Unit, times Factor gives the oral morphine equivalent in mg/day.
type Conversion struct {
	Molecule string
	Route    Route
	Unit     string // UCUM unit of the daily dose the factor applies to
	Factor   float64
	Section  string
}

// Morphine equivalence of the referential: oral 300 mg = IV 100 mg = epidural 10 mg =
// intrathecal 1 mg (000 §IX.1.a). Other molecules: the usual French equianalgesic
// ratios (AFSOS/SFAP conversion tables); the seeds give none, so each row says so.
var Conversions = []Conversion{
	{"morphine", RouteOral, "mg", 1, "000 §IX.1.a"},
	{"morphine", RouteIV, "mg", 3, "000 §IX.1.a"},
	{"morphine", RouteSC, "mg", 2, "conversion table (AFSOS), not in seeds"},
	{"morphine", RouteEpidural, "mg", 30, "000 §IX.1.a"},
	{"morphine", RouteIntrathecal, "mg", 300, "000 §IX.1.a"},
	{"oxycodone", RouteOral, "mg", 2, "conversion table (AFSOS), not in seeds"},
	{"oxycodone", RouteIV, "mg", 4, "conversion table (AFSOS), not in seeds"},
	{"oxycodone", RouteSC, "mg", 4, "conversion table (AFSOS), not in seeds"},
	{"hydromorphone", RouteOral, "mg", 7.5, "conversion table (AFSOS), not in seeds"},
	// Transdermal fentanyl is prescribed in ug/h: 25 ug/h ≈ 60 mg/day oral morphine,
	// i.e. 600 ug/day -> 60 mg, factor 0.1 per ug/day.
	{"fentanyl", RouteTransdermal, "ug", 0.1, "conversion table (AFSOS), not in seeds"},
	{"fentanyl", RouteIV, "ug", 0.3, "conversion table (AFSOS), not in seeds"},
	{"tramadol", RouteOral, "mg", 0.2, "conversion table (AFSOS), not in seeds"},
	{"codeine", RouteOral, "mg", 1.0 / 6, "conversion table (AFSOS), not in seeds"},
	{"tapentadol", RouteOral, "mg", 0.4, "conversion table (AFSOS), not in seeds"},
}

// NoLinearConversion lists opioids whose equivalence is not linear (methadone) or not
// reliable (buprenorphine): their statements are reported, never converted.
var NoLinearConversion = map[string]string{
	"methadone":     "methadone has no linear morphine equivalence (specialist conversion)",
	"buprenorphine": "buprenorphine has no reliable morphine equivalence at these doses",
}

// Molecules maps the codes a medication review uses (ATC, SNOMED CT substance) to
// molecule names of the conversion and prescription tables.
var Molecules = map[string]string{
	// ATC
	"N02AA01": "morphine", "N02AA05": "oxycodone", "N02AA03": "hydromorphone",
	"N02AB03": "fentanyl", "N02AX02": "tramadol", "R05DA04": "codeine", "N02AX06": "tapentadol",
	"N07BC02": "methadone", "N02AE01": "buprenorphine", "N02BG08": "ziconotide",
	"N01BB09": "ropivacaine", "N01BB01": "bupivacaine", "N02CX02": "clonidine", "M03BX01": "baclofen",
	"N01AH03": "sufentanil",
	// SNOMED CT substances
	"373529000": "morphine", "55452001": "oxycodone", "44508008": "hydromorphone",
	"373492002": "fentanyl", "386858008": "tramadol", "387494007": "codeine",
	"387286002": "methadone", "387173000": "buprenorphine", "385545008": "ziconotide",
	"386969006": "ropivacaine", "387150008": "bupivacaine", "387214006": "clonidine",
	"387342009": "baclofen", "49998007": "sufentanil",
}

// ConversionFor returns the conversion row for a molecule and route.
func ConversionFor(molecule string, route Route) (Conversion, bool) {
	for _, c := range Conversions {
		if c.Molecule == molecule && c.Route == route {
			return c, true
		}
	}
	return Conversion{}, false
}

// IntrathecalLimit is one molecule's row of the prescription rules (000 §IX).
type IntrathecalLimit struct {
	Molecule string
	// Concentration expected in the preparation (UCUM ConcUnit); 0: none set.
	Concentration float64
	ConcUnit      string
	// DoseUnit is the daily dose unit of DoseMin..DoseMax (0: unbounded).
	DoseUnit         string
	DoseMin, DoseMax float64
	// DoseMaxIsHard: above DoseMax is an error (a hard limit); otherwise a warning.
	DoseMaxIsHard bool
	// Start is the starting daily dose (0: none set); StepMax and StepMinDelay bound
	// each increase.
	Start        float64
	StepMax      float64 // increases must be strictly below this
	StepMinDelay Span
	// OffLabel marks a use outside the marketing authorisation (warning).
	OffLabel bool
	// ContraindicatedWith names a condition that forbids the molecule.
	ContraindicatedWith string
	Section             string
}

// MaxMolecules: at most 3 molecules in the mixture (000 §IX.1).
var MaxMolecules = Threshold{"molecules in the intrathecal mixture", 3, "1", "000 §IX.1"}

// IntrathecalLimits is the prescription table (000 §IX.1, 001).
var IntrathecalLimits = []IntrathecalLimit{
	{Molecule: "morphine", Concentration: 50, ConcUnit: "mg/mL", DoseUnit: "mg/d", Section: "000 §IX.1.a"},
	{Molecule: "ziconotide", DoseUnit: "ug/d", DoseMax: 21.6, DoseMaxIsHard: true, Start: 2.4,
		StepMax: 2.4, StepMinDelay: Span{Hours: 48}, ContraindicatedWith: "psychosis", Section: "000 §IX.1.c"},
	{Molecule: "ropivacaine", Concentration: 10, ConcUnit: "mg/mL", DoseUnit: "mg/d", DoseMin: 6, DoseMax: 8,
		OffLabel: true, Section: "000 §IX.1.b"},
	{Molecule: "bupivacaine", DoseUnit: "mg/d", Section: "000 §IX.1.b"},
	{Molecule: "hydromorphone", DoseUnit: "mg/d", Section: "001"},
	{Molecule: "fentanyl", DoseUnit: "ug/d", Section: "001"},
	{Molecule: "sufentanil", DoseUnit: "ug/d", Section: "001"},
	{Molecule: "clonidine", DoseUnit: "ug/d", Section: "001"},
	{Molecule: "baclofen", DoseUnit: "ug/d", Section: "001 (spasticity)"},
}

// ZiconotideTypicalMax: 75 % of satisfied patients receive at most 9.6 ug/day; above
// it is unusual (warning) (000 §IX.1.c).
var ZiconotideTypicalMax = Threshold{"ziconotide usual maximum", 9.6, "ug/d", "000 §IX.1.c"}

// LimitFor returns the prescription row of a molecule.
func LimitFor(molecule string) (IntrathecalLimit, bool) {
	for _, l := range IntrathecalLimits {
		if l.Molecule == molecule {
			return l, true
		}
	}
	return IntrathecalLimit{}, false
}

// IntrathecalMorphineFromOME proposes the intrathecal morphine starting dose (mg/day)
// from the daily oral morphine equivalent: oral 300 = intrathecal 1 (000 §IX.1.a).
func IntrathecalMorphineFromOME(ome float64) float64 {
	c, _ := ConversionFor("morphine", RouteIntrathecal)
	return ome / c.Factor
}
