package mapping

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/mapping/rules"
)

// Imaging is what the imaging reader makes of an ImagingStudy or a DiagnosticReport
// (rules.ImagingCodes, rules.ImagingWords): modalities, body regions and date.
type Imaging struct {
	// Resource names it ("DiagnosticReport/12").
	Resource   string
	Modalities map[string]bool
	Regions    map[string]bool
	Date       time.Time
	Dated      bool
}

// vertebralLevelWord is a vertebral level in a text ("L2", "T11", "D5"): the spine.
var vertebralLevelWord = regexp.MustCompile(`\b[CTDLS][0-9]{1,2}\b`)

// imagingSystemByAlias resolves the aliases of rules.ImagingCodes.
var imagingSystemByAlias = map[string]string{"snomed": SystemSNOMED, "loinc": SystemLOINC, "ait": CodeSystemAIT}

// ReadImaging reads an ImagingStudy or a DiagnosticReport alike: modality from
// ImagingStudy.modality and series.modality (DICOM) or the codes; regions from
// procedureCode / code, bodySite (study, series, report), vertebral levels and the
// words of code texts, displays, description and conclusion; the date from started,
// effective[x] or issued. ok is false for another resource type.
func ReadImaging(body []byte) (Imaging, bool) {
	m, err := decodeObject(body)
	if err != nil {
		return Imaging{}, false
	}
	typ := str(m, "resourceType")
	if typ != "ImagingStudy" && typ != "DiagnosticReport" {
		return Imaging{}, false
	}
	im := Imaging{Resource: typ + "/" + str(m, "id"), Modalities: map[string]bool{}, Regions: map[string]bool{}}
	var ccs []object
	var texts []string
	switch typ {
	case "ImagingStudy":
		for _, c := range objs(m, "modality") {
			im.Modalities[str(c, "code")] = true
		}
		ccs = append(ccs, objs(m, "procedureCode")...)
		ccs = append(ccs, objs(m, "reasonCode")...)
		texts = append(texts, str(m, "description"))
		for _, se := range objs(m, "series") {
			im.Modalities[str(obj(se, "modality"), "code")] = true
			if bs := obj(se, "bodySite"); bs != nil { // a Coding in R4
				ccs = append(ccs, object{"coding": []any{bs}})
			}
			texts = append(texts, str(se, "description"))
		}
		im.Date, im.Dated = parseDate(str(m, "started"))
	case "DiagnosticReport":
		ccs = append(ccs, obj(m, "code"))
		ccs = append(ccs, objs(m, "category")...)
		texts = append(texts, str(m, "conclusion"))
		im.Date, _, im.Dated = clinicalDate(m)
		if p := obj(m, "effectivePeriod"); p != nil && !im.Dated {
			im.Date, im.Dated = parseDate(str(p, "start"))
		}
	}
	ccs = append(ccs, objs(m, "bodySite")...)
	for _, cc := range ccs {
		texts = append(texts, str(cc, "text"))
		for _, c := range codings(cc) {
			texts = append(texts, c.Display)
			for _, ic := range rules.ImagingCodes {
				if imagingSystemByAlias[ic.Alias] == c.System && ic.Code == c.Code {
					if ic.Modality != "" {
						im.Modalities[ic.Modality] = true
					}
					for _, r := range ic.Regions {
						im.Regions[r] = true
					}
				}
			}
		}
	}
	for _, t := range texts {
		if t == "" {
			continue
		}
		if vertebralLevelWord.MatchString(t) {
			im.Regions[rules.RegionSpine] = true
		}
		low := strings.ToLower(t) + " "
		for _, w := range rules.ImagingWords {
			if strings.Contains(low, w.Word) {
				if w.Modality != "" {
					im.Modalities[w.Modality] = true
				}
				if w.Region != "" {
					im.Regions[w.Region] = true
				}
			}
		}
	}
	delete(im.Modalities, "")
	for r, also := range rules.RegionAlso {
		if im.Regions[r] {
			for _, a := range also {
				im.Regions[a] = true
			}
		}
	}
	return im, true
}

// Meets reports whether the imaging satisfies a requirement: its modality (either,
// when the requirement names none) and its region.
func (im Imaging) Meets(r rules.ImagingRequirement) bool {
	for _, reg := range r.Regions {
		if !im.Regions[reg] {
			return false
		}
	}
	if r.Modality == "" {
		return im.Modalities[rules.ModalityCT] || im.Modalities[rules.ModalityMR]
	}
	return im.Modalities[r.Modality]
}

// describe renders what the reader saw, for messages ("MR of brain").
func (im Imaging) describe() string {
	var mods, regs []string
	for k := range im.Modalities {
		mods = append(mods, k)
	}
	for k := range im.Regions {
		regs = append(regs, k)
	}
	sort.Strings(mods)
	sort.Strings(regs)
	if len(mods) == 0 {
		mods = []string{"imaging of unknown modality"}
	}
	if len(regs) == 0 {
		regs = []string{"an unknown region"}
	}
	return strings.Join(mods, "/") + " of " + strings.Join(regs, ", ")
}

// CheckImaging checks requirements (rules.ImagingRequirements keys) against the
// imaging available, none dated after by (zero: no limit). One error per
// requirement no imaging meets, naming the imaging found that does not, and the
// seed section.
func CheckImaging(keys []string, available []Imaging, by time.Time, expr string) []fhir.Issue {
	var out []fhir.Issue
	for _, k := range keys {
		r, ok := rules.ImagingRequirementByKey(k)
		if !ok {
			continue
		}
		met := false
		var seen []string
		for _, im := range available {
			if !by.IsZero() && im.Dated && rules.DayOf(im.Date).After(rules.DayOf(by)) {
				continue // done after the act: not a prerequisite of it
			}
			if im.Meets(r) {
				met = true
				break
			}
			seen = append(seen, im.describe())
		}
		if met {
			continue
		}
		found := "no imaging of the patient"
		if len(seen) > 0 {
			found = "the patient's imaging is " + strings.Join(seen, "; ")
		}
		out = append(out, fhir.Issue{Severity: fhir.SeverityError, Code: "required", Expression: []string{expr},
			Diagnostics: fmt.Sprintf("%s needed: %s (%s)", r.Display, found, seedText(r.Section)), Details: seedDetails(r.Section)})
	}
	return out
}

// seedText names a seed section for a message by its number, as the rules cite it;
// the document's title is put beside it when the message is written out
// (fhir.CiteSources).
func seedText(section string) string { return section }
