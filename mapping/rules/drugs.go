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

// Code systems of the route table.
const (
	SystemSNOMED = "http://snomed.info/sct"
	SystemEDQM   = "http://standardterms.edqm.eu"
)

// RouteCode is one coded route of administration and the route it stands for.
type RouteCode struct {
	System, Code, Display string
	Route                 Route
	// Source is where the code was checked.
	Source string
}

// RouteCodes are the route codes the gateway reads: SNOMED CT (R4 ValueSet
// route-codes, checked in hl7.fhir.r4.expansions 4.0.1) and EDQM Standard Terms. The
// intrathecal route is SNOMED CT 72607000 or EDQM 20042000 (372452007, which the
// guide once fixed, is "Endotracheopulmonary use": it is not read as intrathecal).
var RouteCodes = []RouteCode{
	{SystemSNOMED, "26643006", "Oral use", RouteOral, "R4 route-codes"},
	{SystemSNOMED, "47625008", "Intravenous use", RouteIV, "R4 route-codes"},
	{SystemSNOMED, "34206005", "Subcutaneous use", RouteSC, "R4 route-codes"},
	{SystemSNOMED, "404820008", "Epidural route", RouteEpidural, "R4 route-codes"},
	{SystemSNOMED, "72607000", "Intrathecal route", RouteIntrathecal, "R4 route-codes"},
	{SystemSNOMED, "45890007", "Transdermal use", RouteTransdermal, "R4 route-codes"},
	{SystemEDQM, "20053000", "Oral use", RouteOral, "EDQM Standard Terms"},
	{SystemEDQM, "20045000", "Intravenous use", RouteIV, "EDQM Standard Terms"},
	{SystemEDQM, "20066000", "Subcutaneous use", RouteSC, "EDQM Standard Terms"},
	{SystemEDQM, "20009000", "Epidural use", RouteEpidural, "EDQM Standard Terms"},
	{SystemEDQM, "20042000", "Intrathecal use", RouteIntrathecal, "EDQM Standard Terms"},
	{SystemEDQM, "20070000", "Transdermal use", RouteTransdermal, "EDQM Standard Terms"},
}

// RouteOf returns the route a coding stands for. A coding without a system is read
// as SNOMED CT (the R4 route-codes system).
func RouteOf(system, code string) (Route, bool) {
	if system == "" {
		system = SystemSNOMED
	}
	for _, r := range RouteCodes {
		if r.System == system && r.Code == code {
			return r.Route, true
		}
	}
	return "", false
}

// Conversion is one row of the opioid conversion table: a daily dose of Molecule by
// Route, in Unit, times Factor gives the oral morphine equivalent in mg/day. Source
// is the seed section, or the published reference for a molecule the seeds do not
// cover.
type Conversion struct {
	Molecule string
	Route    Route
	Unit     string // mass unit of the daily dose the factor applies to (mg or ug)
	Factor   float64
	Section  string
}

// Published references of the conversion rows the seeds do not cover.
const (
	refCDC2022   = "CDC Clinical Practice Guideline for Prescribing Opioids for Pain, 2022 (MMWR Recomm Rep 71(3)), MME conversion factors"
	refAFSOSSC   = "AFSOS/SFAP equianalgesia: subcutaneous morphine = oral / 2"
	refOxycodone = "ANSM SmPC OxyContin/OxyNorm: oral oxycodone 10 mg = oral morphine 20 mg; IV oxycodone = oral oxycodone / 2"
	refHydromorp = "ANSM SmPC Sophidone LP: oral hydromorphone 4 mg = oral morphine 30 mg"
	refFentanyl  = "ANSM SmPC Durogesic: 25 ug/h transdermal = 60 mg/d oral morphine (CDC 2022: 2.4 MME per ug/h)"
	refFentIV    = "IV fentanyl 100 ug = IV morphine 10 mg (x3 oral, 000 §IX.1.a)"
)

// Morphine equivalence of the referential: oral 300 mg = IV 100 mg = epidural 10 mg =
// intrathecal 1 mg (000 §IX.1.a). Other molecules: the published reference in the row.
var Conversions = []Conversion{
	{"morphine", RouteOral, "mg", 1, "000 §IX.1.a"},
	{"morphine", RouteIV, "mg", 3, "000 §IX.1.a"},
	{"morphine", RouteSC, "mg", 2, refAFSOSSC},
	{"morphine", RouteEpidural, "mg", 30, "000 §IX.1.a"},
	{"morphine", RouteIntrathecal, "mg", 300, "000 §IX.1.a"},
	{"oxycodone", RouteOral, "mg", 2, refOxycodone},
	{"oxycodone", RouteIV, "mg", 4, refOxycodone},
	{"oxycodone", RouteSC, "mg", 4, refOxycodone},
	{"hydromorphone", RouteOral, "mg", 7.5, refHydromorp},
	// Transdermal fentanyl is prescribed in ug/h: 25 ug/h = 600 ug/day -> 60 mg, factor
	// 0.1 per ug/day.
	{"fentanyl", RouteTransdermal, "ug", 0.1, refFentanyl},
	{"fentanyl", RouteIV, "ug", 0.3, refFentIV},
	{"tramadol", RouteOral, "mg", 0.2, refCDC2022},
	{"codeine", RouteOral, "mg", 0.15, refCDC2022},
	{"tapentadol", RouteOral, "mg", 0.4, refCDC2022},
}

// NoLinearConversion lists opioids whose equivalence is not linear (methadone) or not
// reliable (buprenorphine): their statements are reported, never converted, and the
// total is then a lower bound.
var NoLinearConversion = map[string]string{
	"methadone":     "methadone has no linear morphine equivalence (specialist conversion)",
	"buprenorphine": "buprenorphine has no reliable morphine equivalence at these doses",
}

// Molecules maps the codes a medication review uses (ATC, SNOMED CT substance) to
// molecule names of the conversion and prescription tables. Only codes checked
// against a published list are here (see CATALOGUE.md); a molecule sent with another
// code is listed as not converted, never guessed.
var Molecules = map[string]string{
	// ATC (WHO ATC/DDD index)
	"N02AA01": "morphine", "N02AA05": "oxycodone", "N02AA03": "hydromorphone",
	"N02AB03": "fentanyl", "N02AX02": "tramadol", "R05DA04": "codeine", "N02AX06": "tapentadol",
	"N07BC02": "methadone", "N02AE01": "buprenorphine", "N07BC01": "buprenorphine", "N02BG08": "ziconotide",
	"N01BB09": "ropivacaine", "N01BB01": "bupivacaine", "N02CX02": "clonidine", "M03BX01": "baclofen",
	"N01AH03": "sufentanil",
	// SNOMED CT substances
	"373529000": "morphine", "55452001": "oxycodone", "44508008": "hydromorphone",
	"373492002": "fentanyl", "386858008": "tramadol", "387494007": "codeine",
	"387173000": "buprenorphine", "387150008": "bupivacaine", "372805007": "clonidine",
	"387342009": "baclofen",
}

// OpioidATCPrefixes are the ATC groups of opioids: a medication coded in ATC outside
// them (paracetamol, antithrombotics…) is no part of the morphine equivalent; one the
// table cannot convert inside them (or not coded in ATC) makes the total a lower bound.
var OpioidATCPrefixes = []string{"N02A", "N07BC", "R05DA", "N01AH"}

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

// LimitFor returns the prescription row of a molecule, with the site's stricter
// ziconotide maximum when it set one (SettingZiconotideMax).
func LimitFor(molecule string) (IntrathecalLimit, bool) {
	for _, l := range IntrathecalLimits {
		if l.Molecule == molecule {
			if molecule == "ziconotide" {
				l.DoseMax = InEffect().Value(SettingZiconotideMax)
			}
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
