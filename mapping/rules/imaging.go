package rules

// Imaging is read the same way from an ImagingStudy and a DiagnosticReport (000
// §V.2.d, 004): its modality (DICOM CT or MR; from ImagingStudy.modality or
// series.modality, or from the report's code), the body region it shows (from the
// procedure code, the body site, a vertebral level, or the words of its code and
// title) and its date.

// Imaging modalities (DICOM codes).
const (
	ModalityCT = "CT"
	ModalityMR = "MR"
)

// Body regions of the imaging prerequisites.
const (
	RegionSpine  = "spine"
	RegionBrain  = "brain"
	RegionThorax = "thorax"
	RegionAbdo   = "abdomen"
	RegionPelvis = "pelvis"
	RegionHip    = "hip"
)

// ImagingCode is a code that says what an imaging shows: its modality and regions
// (either may be empty). Alias is "snomed", "loinc" or "ait".
type ImagingCode struct {
	Alias, Code string
	Modality    string
	Regions     []string
	Display     string
}

// ImagingCodes are the procedure and body-site codes the imaging reader knows.
var ImagingCodes = []ImagingCode{
	{"loinc", "24590-2", ModalityMR, []string{RegionBrain}, "MR Brain"},
	{"loinc", "24725-4", ModalityCT, []string{RegionBrain}, "CT Head"},
	{"ait", "brain-ct-mri", "", []string{RegionBrain}, "Brain CT or MRI"},
	{"ait", "ct-tap-spine", ModalityCT, []string{RegionThorax, RegionAbdo, RegionPelvis, RegionSpine}, "CT thorax-abdomen-pelvis including the spine"},
	{"snomed", "421060004", "", []string{RegionSpine}, "Spine (vertebral column)"},
	{"snomed", "122494005", "", []string{RegionSpine}, "Cervical spine"},
	{"snomed", "122495006", "", []string{RegionSpine}, "Thoracic spine"},
	{"snomed", "122496007", "", []string{RegionSpine}, "Lumbar spine"},
	{"snomed", "12738006", "", []string{RegionBrain}, "Brain"},
	{"snomed", "69536005", "", []string{RegionBrain}, "Head"},
	{"snomed", "51185008", "", []string{RegionThorax}, "Thorax"},
	{"snomed", "818983003", "", []string{RegionAbdo}, "Abdomen"},
	{"snomed", "416949008", "", []string{RegionAbdo, RegionPelvis}, "Abdomen and pelvis"},
	{"snomed", "12921003", "", []string{RegionPelvis}, "Pelvis"},
	{"snomed", "29836001", "", []string{RegionHip}, "Hip"},
}

// ImagingWord is a word of an imaging's code text or title and what it says.
type ImagingWord struct {
	Word     string
	Modality string
	Region   string
}

// ImagingWords are read (case-insensitive, French and English) when no code says it.
var ImagingWords = []ImagingWord{
	{"irm", ModalityMR, ""}, {"mri", ModalityMR, ""}, {"magnetic resonance", ModalityMR, ""}, {"mr ", ModalityMR, ""},
	{"scanner", ModalityCT, ""}, {"tdm", ModalityCT, ""}, {"tomodensitom", ModalityCT, ""}, {"ct ", ModalityCT, ""}, {"computed tomography", ModalityCT, ""},
	{"rachis", "", RegionSpine}, {"spine", "", RegionSpine}, {"spinal", "", RegionSpine}, {"vertebr", "", RegionSpine}, {"lombaire", "", RegionSpine},
	{"lumbar", "", RegionSpine}, {"dorsal", "", RegionSpine}, {"thoracic spine", "", RegionSpine}, {"cervical", "", RegionSpine},
	{"brain", "", RegionBrain}, {"cérébral", "", RegionBrain}, {"cerebral", "", RegionBrain}, {"encéphal", "", RegionBrain}, {"crâne", "", RegionBrain}, {"head", "", RegionBrain},
	{"thora", "", RegionThorax}, {"chest", "", RegionThorax}, {"abdo", "", RegionAbdo}, {"pelvi", "", RegionPelvis}, {"bassin", "", RegionPelvis},
	{"hip", "", RegionHip}, {"hanche", "", RegionHip},
}

// ImagingRequirement is one imaging prerequisite: a modality (or either of two) of a
// body region.
type ImagingRequirement struct {
	Key, Display string
	// Modality is ModalityCT, ModalityMR, or "" for either.
	Modality string
	// Regions must all be shown (one imaging of thorax, abdomen and pelvis).
	Regions []string
	// Element is the dossier element it stands for ("" for none).
	Element string
	Section string
}

// ImagingRequirements are the imaging prerequisites of cimentoplasty (004: "CT and
// MRI of the spine" for a vertebra, CT for the pelvis and the hip) and of the AIT
// dossier (000 §V.2.d).
var ImagingRequirements = []ImagingRequirement{
	{"cimentoplasty-spine-ct", "Cimentoplasty of a vertebra: CT of the spine", ModalityCT, []string{RegionSpine}, "", "004"},
	{"cimentoplasty-spine-mr", "Cimentoplasty of a vertebra: MRI of the spine", ModalityMR, []string{RegionSpine}, "", "004"},
	{"cimentoplasty-pelvis-ct", "Cimentoplasty of the pelvis: CT of the pelvis", ModalityCT, []string{RegionPelvis}, "", "004"},
	{"cimentoplasty-hip-ct", "Cimentoplasty of the hip: CT of the hip or pelvis", ModalityCT, []string{RegionHip}, "", "004"},
	{"dossier-ct-tap", "AIT dossier: CT thorax-abdomen-pelvis including the spine", ModalityCT,
		[]string{RegionThorax, RegionAbdo, RegionPelvis}, "ct-thorax-abdomen-pelvis", "000 §V.2.d"},
	{"dossier-brain", "AIT dossier: brain CT or MRI", "", []string{RegionBrain}, "brain-imaging", "000 §V.2.d"},
}

// CimentoplastyImaging lists the imaging requirements of a cimentoplasty by site (004).
var CimentoplastyImaging = map[string][]string{
	"vertebra": {"cimentoplasty-spine-ct", "cimentoplasty-spine-mr"},
	"pelvis":   {"cimentoplasty-pelvis-ct"},
	"hip":      {"cimentoplasty-hip-ct"},
}

// RegionAlso: imaging of the pelvis shows the hip (a pelvic CT serves a hip
// cimentoplasty, 004: "CT for pelvis and hip").
var RegionAlso = map[string][]string{RegionPelvis: {RegionHip}}

// ImagingRequirementByKey returns a requirement row.
func ImagingRequirementByKey(key string) (ImagingRequirement, bool) {
	for _, r := range ImagingRequirements {
		if r.Key == key {
			return r, true
		}
	}
	return ImagingRequirement{}, false
}
