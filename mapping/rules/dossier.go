package rules

// ElementKind says how a dossier element is found and aged.
type ElementKind string

// Element kinds of the AIT dossier.
const (
	KindLab      ElementKind = "lab"      // Observation, aged by LabFreshness
	KindImaging  ElementKind = "imaging"  // DiagnosticReport or ImagingStudy, aged by ImagingFreshness
	KindClinical ElementKind = "clinical" // Observation, not aged
	KindDocument ElementKind = "document" // DocumentReference (or Observation), not aged
	KindReview   ElementKind = "review"   // MedicationStatement
)

// DossierElement is one element the complete AIT dossier needs (000 §V.2). Codes are
// "alias|code" strings the element is recognised by, the alias naming the code system
// ("loinc", "ait"; the URLs are resolved by the mapping's canonical.go); labs are recognised by the Labs
// table instead. AnyOf lists element keys of which one suffices (coagulation).
type DossierElement struct {
	Key, Display string
	Kind         ElementKind
	Codes        []string
	AnyOf        []string
	Section      string
}

// Code system aliases of DossierElement.Codes.
const (
	AliasLOINC = "loinc"
	AliasAIT   = "ait"
	loinc      = AliasLOINC + "|"
	ait        = AliasAIT + "|"
)

// DossierElements is the checklist of the complete dossier (000 §V.2).
var DossierElements = []DossierElement{
	{Key: "oncology-opinion", Display: "Oncology or palliative-care opinion (last RCP report or PPS)", Kind: KindDocument,
		Codes: []string{ait + "oncology-opinion", loinc + "11488-4"}, Section: "000 §V.2.a"},
	{Key: "performance-status", Display: "WHO performance status", Kind: KindClinical,
		Codes: []string{loinc + "89247-1", ait + "who-performance-status"}, Section: "000 §V.2.a"},
	{Key: "life-expectancy", Display: "Life-expectancy estimate", Kind: KindClinical,
		Codes: []string{ait + "life-expectancy"}, Section: "000 §V.2.a"},
	{Key: "pain-assessment", Display: "Pain assessment (locations, type, intensity, etiology, treatments)", Kind: KindClinical,
		Codes: []string{loinc + "72514-3", loinc + "38208-5", ait + "pain-assessment"}, Section: "000 §V.2.b"},
	{Key: "neutrophils", Display: "Neutrophils", Kind: KindLab, Section: "000 §V.2.c"},
	{Key: "platelets", Display: "Platelets", Kind: KindLab, Section: "000 §V.2.c"},
	{Key: "haemoglobin", Display: "Haemoglobin", Kind: KindLab, Section: "000 §V.2.c"},
	{Key: "coagulation-pt", Display: "Coagulation: prothrombin time (TP, seconds or INR)", Kind: KindLab, AnyOf: []string{"prothrombin", "prothrombin-time", "inr"}, Section: "000 §V.2.c"},
	{Key: "coagulation-aptt", Display: "Coagulation: aPTT", Kind: KindLab, AnyOf: []string{"aptt", "aptt-ratio"}, Section: "000 §V.2.c"},
	{Key: "creatinine", Display: "Creatinine", Kind: KindLab, Section: "000 §V.2.c"},
	{Key: "glucose", Display: "Glucose", Kind: KindLab, Section: "000 §V.2.c"},
	{Key: "sodium", Display: "Sodium", Kind: KindLab, Section: "000 §V.2.c"},
	{Key: "potassium", Display: "Potassium", Kind: KindLab, Section: "000 §V.2.c"},
	{Key: "chloride", Display: "Chloride", Kind: KindLab, Section: "000 §V.2.c"},
	{Key: "calcium", Display: "Calcium", Kind: KindLab, Section: "000 §V.2.c"},
	{Key: "phosphate", Display: "Phosphate", Kind: KindLab, Section: "000 §V.2.c"},
	{Key: "ct-thorax-abdomen-pelvis", Display: "CT thorax-abdomen-pelvis including the spine", Kind: KindImaging,
		Codes: []string{ait + "ct-tap-spine"}, Section: "000 §V.2.d"},
	{Key: "brain-imaging", Display: "Recent brain CT or MRI", Kind: KindImaging,
		Codes: []string{loinc + "24725-4", loinc + "24590-2", ait + "brain-ct-mri"}, Section: "000 §V.2.d"},
	{Key: "medication-review", Display: "Medication review (analgesics current and tried, anticoagulants)", Kind: KindReview,
		Section: "000 §V.2.e"},
}
