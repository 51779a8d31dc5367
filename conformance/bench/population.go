package bench

import (
	"bytes"
	"fmt"
	"time"
)

// The scale mode's synthetic population: patients of a pain clinic with the
// observations, conditions and prescriptions such a record carries. Codes are drawn
// with skewed frequencies (vital signs and pain scores common, a few codes rare) and
// dates spread over five years, so that the index has the shape of real data rather
// than one value repeated.

// mrnSystem is the identifier system of the synthetic patients.
const mrnSystem = "urn:oid:1.2.250.1.999.1.1"

// rareCode is a LOINC code given to about 1 % of the patients (for _has).
const rareCode = "2857-1" // PSA

// groupSize is the number of resources of one patient's group.
const groupSize = 13

var commonFamilies = []string{"Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau", "Laurent",
	"Simon", "Michel", "Lefebvre", "Leroy", "Roux", "David", "Bertrand", "Morel", "Fournier", "Girard", "Bonnet", "Dupont",
	"Lambert", "Fontaine", "Rousseau", "Vincent", "Muller", "Lefevre", "Faure", "Andre", "Mercier", "Blanc", "Guerin", "Boyer"}

var givens = []string{"Marie", "Jean", "Pierre", "Michel", "Philippe", "Nathalie", "Isabelle", "Sylvie", "Catherine", "Alain",
	"Françoise", "Jacques", "Monique", "Bernard", "Christine", "Daniel", "Patrick", "Martine", "Nicole", "Claude"}

// observationCodes: LOINC code, display, unit, typical value and spread, weight.
var observationCodes = []struct {
	code, display, unit string
	base, spread        int
	weight              int
}{
	{"8480-6", "Systolic blood pressure", "mm[Hg]", 110, 60, 20},
	{"8462-4", "Diastolic blood pressure", "mm[Hg]", 60, 40, 20},
	{"8867-4", "Heart rate", "/min", 55, 60, 15},
	{"72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported", "{score}", 0, 11, 25},
	{"29463-7", "Body weight", "kg", 40, 60, 8},
	{"8310-5", "Body temperature", "Cel", 36, 3, 6},
	{"59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%", 88, 12, 6},
}

var conditionCodes = []struct{ system, code, display string }{
	{"http://hl7.org/fhir/sid/icd-10", "G89.3", "Neoplasm related pain (acute) (chronic)"},
	{"http://hl7.org/fhir/sid/icd-10", "C34.9", "Malignant neoplasm of bronchus or lung, unspecified"},
	{"http://hl7.org/fhir/sid/icd-10", "C25.9", "Malignant neoplasm of pancreas, unspecified"},
	{"http://hl7.org/fhir/sid/icd-10", "C50.9", "Malignant neoplasm of breast, unspecified"},
	{"http://hl7.org/fhir/sid/icd-10", "C18.9", "Malignant neoplasm of colon, unspecified"},
	{"http://hl7.org/fhir/sid/icd-10", "C79.5", "Secondary malignant neoplasm of bone and bone marrow"},
	{"http://hl7.org/fhir/sid/icd-10", "K59.0", "Constipation"},
}

var medications = []struct{ code, display, dose string }{
	{"N02AA01", "morphine", "10 mg every 4 hours"},
	{"N02AB03", "fentanyl", "25 micrograms/hour transdermal"},
	{"N02AA05", "oxycodone", "10 mg twice daily"},
	{"N02BE01", "paracetamol", "1 g every 6 hours"},
	{"N02BG08", "ziconotide", "2.4 micrograms/day intrathecal"},
	{"A06AD65", "macrogol", "one sachet daily"},
}

// mrn is the identifier value of patient n of a run.
func mrn(run string, n int) string { return fmt.Sprintf("%s-%07d", run, n) }

// population builds one transaction holding the groups of patients first,
// first+1, … (bundle/groupSize of them) and returns it with its resource count.
func population(run string, first, bundle int) ([]byte, int) {
	groups := max(bundle/groupSize, 1)
	var b bytes.Buffer
	b.WriteString(`{"resourceType":"Bundle","type":"transaction","entry":[`)
	start := time.Date(2021, 1, 1, 8, 0, 0, 0, time.UTC)
	for g := 0; g < groups; g++ {
		n := first + g
		h := mix(uint64(n) ^ 0x5eed)
		pu := fmt.Sprintf("urn:uuid:%08x-0000-4000-8000-%012x", h>>32, uint64(n))
		if g > 0 {
			b.WriteByte(',')
		}
		fam := commonFamilies[zipf(h, len(commonFamilies))]
		giv := givens[h>>8%uint64(len(givens))]
		gender := [...]string{"female", "male"}[h>>16&1]
		birth := time.Date(1935, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(h>>17%25000)).Format(time.DateOnly)
		fmt.Fprintf(&b, `{"fullUrl":"%s","resource":{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">%s %s</div>"},`+
			`"identifier":[{"use":"official","system":"%s","value":"%s"}],"active":true,`+
			`"name":[{"use":"official","family":"%s","given":["%s"]}],"telecom":[{"system":"phone","value":"+33 1 %02d %02d %02d %02d","use":"home"}],`+
			`"gender":"%s","birthDate":"%s","address":[{"use":"home","line":["%d rue de la République"],"city":"Lyon","postalCode":"690%02d","country":"FR"}]},`+
			`"request":{"method":"POST","url":"Patient"}}`,
			pu, giv, fam, mrnSystem, mrn(run, n), fam, giv, h%100, h>>7%100, h>>14%100, h>>21%100, gender, birth, h>>28%200, h>>36%10)
		for o := 0; o < 8; o++ {
			ho := mix(h + uint64(o))
			oc := observationCodes[weighted(ho)]
			code, display := oc.code, oc.display
			if o == 0 && h>>40%100 == 0 {
				code, display = rareCode, "Prostate specific Ag [Mass/volume] in Serum or Plasma"
			}
			when := start.Add(time.Duration(ho>>8%(5*365*24)) * time.Hour).Format(time.RFC3339)
			fmt.Fprintf(&b, `,{"fullUrl":"urn:uuid:%08x-%04x-4000-8000-%012x","resource":{"resourceType":"Observation","status":"final",`+
				`"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs","display":"Vital Signs"}]}],`+
				`"code":{"coding":[{"system":"http://loinc.org","code":"%s","display":"%s"}],"text":"%s"},"subject":{"reference":"%s"},`+
				`"effectiveDateTime":"%s","issued":"%s",`+
				`"valueQuantity":{"value":%d,"unit":"%s","system":"http://unitsofmeasure.org","code":"%s"}},`+
				`"request":{"method":"POST","url":"Observation"}}`,
				h>>32, 1+o, uint64(n), code, display, display, pu, when, when, oc.base+int(ho>>20%uint64(oc.spread)), oc.unit, oc.unit)
		}
		for c := 0; c < 2; c++ {
			hc := mix(h ^ uint64(100+c))
			cc := conditionCodes[zipf(hc, len(conditionCodes))]
			onset := start.AddDate(0, 0, int(hc>>8%1800)).Format(time.DateOnly)
			fmt.Fprintf(&b, `,{"fullUrl":"urn:uuid:%08x-%04x-4000-8000-%012x","resource":{"resourceType":"Condition",`+
				`"clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},`+
				`"verificationStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-ver-status","code":"confirmed"}]},`+
				`"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-category","code":"problem-list-item"}]}],`+
				`"code":{"coding":[{"system":"%s","code":"%s","display":"%s"}],"text":"%s"},"subject":{"reference":"%s"},"onsetDateTime":"%s","recordedDate":"%s"},`+
				`"request":{"method":"POST","url":"Condition"}}`,
				h>>32, 20+c, uint64(n), cc.system, cc.code, cc.display, cc.display, pu, onset, onset)
		}
		for m := 0; m < 2; m++ {
			hm := mix(h ^ uint64(200+m))
			md := medications[zipf(hm, len(medications))]
			authored := start.AddDate(0, 0, int(hm>>8%1800)).Format(time.DateOnly)
			fmt.Fprintf(&b, `,{"fullUrl":"urn:uuid:%08x-%04x-4000-8000-%012x","resource":{"resourceType":"MedicationRequest","status":"active","intent":"order",`+
				`"medicationCodeableConcept":{"coding":[{"system":"http://www.whocc.no/atc","code":"%s","display":"%s"}],"text":"%s"},`+
				`"subject":{"reference":"%s"},"authoredOn":"%s","dosageInstruction":[{"text":"%s"}]},`+
				`"request":{"method":"POST","url":"MedicationRequest"}}`,
				h>>32, 40+m, uint64(n), md.code, md.display, md.display, pu, authored, md.dose)
		}
	}
	b.WriteString(`]}`)
	return b.Bytes(), groups * groupSize
}

// zipf picks an index in [0, n) with a skew toward the first ones (about 1/(i+1)).
func zipf(h uint64, n int) int {
	total := 0.0
	for i := 1; i <= n; i++ {
		total += 1 / float64(i)
	}
	x := float64(h>>11) / float64(1<<53) * total
	for i := 1; i <= n; i++ {
		if x -= 1 / float64(i); x < 0 {
			return i - 1
		}
	}
	return n - 1
}

// weighted picks an observation code by its weight.
func weighted(h uint64) int {
	total := 0
	for _, c := range observationCodes {
		total += c.weight
	}
	x := int(h % uint64(total))
	for i, c := range observationCodes {
		if x -= c.weight; x < 0 {
			return i
		}
	}
	return 0
}
