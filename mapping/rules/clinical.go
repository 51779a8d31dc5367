package rules

// Contraindication is one row of the AIT contraindications (000 §IV): an absolute one
// blocks the indication, a relative one requires a recorded benefit/risk assessment.
type Contraindication struct {
	Code     string // code in the AIT CodeSystem
	Display  string
	Absolute bool
	// SNOMED lists SNOMED CT codes of Conditions recognised as this contraindication.
	SNOMED  []string
	Section string
	// UnlessControlled: the rule applies to the uncontrolled condition only (000 §IV:
	// "uncontrolled brain metastases"). A Condition counts as controlled when its
	// stage.summary holds the AIT code QualifierControlled; without a qualifier it is
	// taken as uncontrolled (when in doubt, the contraindication stands).
	UnlessControlled bool
}

// Qualifiers of a Condition's control (Condition.stage.summary, AIT CodeSystem).
const (
	QualifierControlled   = "controlled"
	QualifierUncontrolled = "uncontrolled"
)

// NotCounting are the Condition statuses that take a condition out of the
// contraindications: clinicalStatus inactive, remission, resolved; verificationStatus
// refuted, entered-in-error. Unconfirmed or provisional conditions still count.
var NotCounting = map[string]bool{"inactive": true, "remission": true, "resolved": true, "refuted": true, "entered-in-error": true}

// Contraindications is the table of 000 §IV (and 000 §IX.1.c for ziconotide).
var Contraindications = []Contraindication{
	{"intracranial-hypertension", "Intracranial hypertension", true, []string{"271719001"}, "000 §IV", false},
	{"uncontrolled-brain-metastases", "Uncontrolled brain metastases", true, []string{"94225005"}, "000 §IV", true},
	{"csf-flow-obstacle", "Obstacle to CSF flow (invasion or compressive fracture)", true, nil, "000 §IV", false},
	{"aplasia-neutropenia-thrombopenia", "Aplasia, neutropenia or thrombopenia", false, []string{"165517008", "302215000"}, "000 §IV", false},
	{"epiduritis-meningitis", "Epiduritis or carcinomatous meningitis", false, []string{"230156002"}, "000 §IV", false},
	{"infection", "Infection", false, []string{"40733004"}, "000 §IV", false},
	{"anti-angiogenic-15d", "Anti-angiogenic drug within 15 days (oncology opinion)", false, nil, "000 §IV", false},
	{"haemostasis-anomaly", "Haemostasis anomaly", false, []string{"64779008"}, "000 §IV", false},
	{"ascites-stomy-fistula", "Ascites, stomies, fistulas", false, []string{"389026000"}, "000 §IV", false},
	{"severe-malnutrition", "Severe malnutrition", false, []string{"248325000"}, "000 §IV", false},
}

// ContraindicationByCode returns the row for an AIT code or a SNOMED CT code.
func ContraindicationByCode(code string) (Contraindication, bool) {
	for _, c := range Contraindications {
		if c.Code == code {
			return c, true
		}
		for _, s := range c.SNOMED {
			if s == code {
				return c, true
			}
		}
	}
	return Contraindication{}, false
}

// ScoreItem is one answer of a scoring grid and its points.
type ScoreItem struct {
	Question, Answer, Display string
	Points                    int
}

// ScoreBand is one interpretation band of a score (inclusive bounds).
type ScoreBand struct {
	Min, Max      int
	Code, Display string
	// Advice is the referential's recommendation for the band.
	Advice string
}

// Score is a scoring grid (003, annex 4).
type Score struct {
	Name      string
	Questions []string
	Items     []ScoreItem
	Bands     []ScoreBand
	Section   string
}

// Mirels scores the fracture risk of a long-bone metastasis, 4 to 12 (003 annex 4).
var Mirels = Score{
	Name:      "Mirels",
	Questions: []string{"site", "pain", "size", "lesion"},
	Items: []ScoreItem{
		{"site", "upper-limb", "Upper limb", 1}, {"site", "lower-limb", "Lower limb", 2},
		{"site", "proximal-femur", "Proximal femur (trochanteric)", 3},
		{"pain", "mild", "Mild", 1}, {"pain", "moderate", "Moderate", 2}, {"pain", "functional", "Functional", 3},
		{"size", "lt-1/3", "< 1/3 of the cortex", 1}, {"size", "1/3-2/3", "1/3 to 2/3 of the cortex", 2},
		{"size", "gt-2/3", "> 2/3 of the cortex", 3},
		{"lesion", "blastic", "Blastic", 1}, {"lesion", "mixed", "Mixed", 2}, {"lesion", "lytic", "Lytic", 3},
	},
	Bands: []ScoreBand{
		{4, 7, "low", "Fracture risk 4 %", "observation or radiotherapy"},
		{8, 8, "intermediate", "Fracture risk 15 %", "case by case"},
		{9, 12, "high", "Fracture risk > 33 %", "prophylactic fixation"},
	},
	Section: "003 annex 4",
}

// SINS scores spinal instability of a neoplastic lesion, 0 to 18 (003 annex 4).
var SINS = Score{
	Name:      "SINS",
	Questions: []string{"location", "pain", "lesion", "alignment", "collapse", "posterior"},
	Items: []ScoreItem{
		{"location", "junctional", "Junctional (C0-C2, C7-T2, T11-L1, L5-S1)", 3},
		{"location", "mobile", "Mobile spine (C3-C6, L2-L4)", 2},
		{"location", "semi-rigid", "Semi-rigid (T3-T10)", 1}, {"location", "rigid", "Rigid (S2-S5)", 0},
		{"pain", "mechanical", "Mechanical pain", 3}, {"pain", "non-mechanical", "Occasional non-mechanical pain", 1},
		{"pain", "none", "Pain-free", 0},
		{"lesion", "lytic", "Lytic", 2}, {"lesion", "mixed", "Mixed", 1}, {"lesion", "blastic", "Blastic", 0},
		{"alignment", "subluxation", "Subluxation or translation", 4}, {"alignment", "deformity", "De novo deformity", 2},
		{"alignment", "normal", "Normal", 0},
		{"collapse", "gt-50", "Collapse > 50 %", 3}, {"collapse", "lt-50", "Collapse < 50 %", 2},
		{"collapse", "none-gt-50-involved", "No collapse, > 50 % of the body involved", 1}, {"collapse", "none", "None", 0},
		{"posterior", "bilateral", "Bilateral", 3}, {"posterior", "unilateral", "Unilateral", 1}, {"posterior", "none", "None", 0},
	},
	Bands: []ScoreBand{
		{0, 6, "stable", "Stable", "no surgical opinion needed for stability"},
		{7, 12, "potentially-unstable", "Potentially unstable", "surgical opinion"},
		{13, 18, "unstable", "Unstable", "surgical opinion"},
	},
	Section: "003 annex 4",
}

// CimentoplastySection is the seed of the cimentoplasty prerequisites.
const CimentoplastySection = "004"

// PosteriorArchInvolved are the answers of the SINS posterolateral item (003 annex 4)
// that mean an involvement of the posterior arch: a spine at mechanical risk, which
// contraindicates cimentoplasty in favour of surgical stabilisation (004).
var PosteriorArchInvolved = map[string]bool{"unilateral": true, "bilateral": true}

// AnticoagulantRule says what to do with an antithrombotic before a procedure.
type AnticoagulantRule struct {
	Molecule string
	Action   string
	StopDays int // days before the act; 0 with Action "keep"
	Section  string
}

// AnticoagulantRules before cimentoplasty (004) and before implantation (000 §VII).
var AnticoagulantRules = []AnticoagulantRule{
	{"vitamin-k-antagonist", "stop", 0, "004"},
	{"clopidogrel", "stop when possible", 5, "004, 000 §VII"},
	{"aspirin-low-dose", "keep", 0, "004"},
	{"aspirin-over-100mg", "stop", 5, "000 §VII"},
	{"anticoagulant", "relay by LMWH, stop D-1", 1, "000 §VII"},
}

// ConditionCode recognises a condition a rule names (IntrathecalLimit.
// ContraindicatedWith) by its SNOMED CT code.
type ConditionCode struct {
	Condition, SNOMED string
	Section           string
}

// ConditionCodes are the conditions of the prescription rules.
var ConditionCodes = []ConditionCode{
	{"psychosis", "69322001", "000 §IX.1.c"},  // psychotic disorder
	{"psychosis", "191526005", "000 §IX.1.c"}, // schizophrenia
}

// Antithrombotic maps an ATC code prefix to the molecule key of AnticoagulantRules.
type Antithrombotic struct {
	ATCPrefix, Molecule string
}

// Antithrombotics recognises the antithrombotics of a medication review (004, 000
// §VII); the first matching prefix wins. Aspirin is taken as low dose unless the
// dose says otherwise (the antiplatelet ATC code B01AC06 is the low-dose form).
var Antithrombotics = []Antithrombotic{
	{"B01AA", "vitamin-k-antagonist"},
	{"B01AC04", "clopidogrel"},
	{"B01AC06", "aspirin-low-dose"},
	{"B01AB", "anticoagulant"},
	{"B01AE", "anticoagulant"},
	{"B01AF", "anticoagulant"},
}

// CimentoplastySite recognises the site of a cimentoplasty from a body-site word.
type CimentoplastySite struct {
	Word, Site string
}

// CimentoplastySites are the words of Procedure.bodySite read as a site of 004 (a
// vertebral level such as "L2" or "T11" is read as vertebra too).
var CimentoplastySites = []CimentoplastySite{
	{"vertebra", "vertebra"}, {"vertèbre", "vertebra"}, {"vertebral", "vertebra"},
	{"pelvis", "pelvis"}, {"pelvic", "pelvis"}, {"bassin", "pelvis"}, {"iliac", "pelvis"}, {"sacrum", "pelvis"},
	{"hip", "hip"}, {"hanche", "hip"}, {"acetabul", "hip"}, {"cotyle", "hip"},
}

// CimentoplastyCodes are the procedure codes (the guide's CodeSystem) the
// cimentoplasty prerequisites apply to (004).
var CimentoplastyCodes = []string{"cimentoplasty", "vertebral-augmentation"}
