package mapping

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/mapping/rules"
)

// ReferralKind returns the referral code row a ServiceRequest carries
// (rules.ReferralCodes), if any: such a ServiceRequest opens a pathway, whatever door
// it comes in by.
func ReferralKind(sr []byte) (rules.ReferralCode, bool) {
	m, err := decodeObject(sr)
	if err != nil || str(m, "resourceType") != "ServiceRequest" {
		return rules.ReferralCode{}, false
	}
	return referralKind(m)
}

func referralKind(m object) (rules.ReferralCode, bool) {
	for _, rc := range rules.ReferralCodes {
		if hasCoding(obj(m, "code"), resolveCodes([]string{rc.Code})) {
			return rc, true
		}
	}
	return rules.ReferralCode{}, false
}

// IsReferralBundle reports whether a transaction Bundle carries a referral
// ServiceRequest (rules.ReferralCodes): posted to the base, it then gets the intake
// of $ait-referral.
func IsReferralBundle(body []byte) bool {
	// Every transaction passes here, bulk loads of hundreds of entries too: one
	// without a ServiceRequest is told by a byte search rather than by decoding it
	// whole. Without a \u escape, a ServiceRequest's resourceType is spelled out.
	if !bytes.Contains(body, []byte(`"ServiceRequest"`)) && !bytes.Contains(body, []byte(`\u`)) {
		return false
	}
	b, err := decodeObject(body)
	if err != nil || str(b, "resourceType") != "Bundle" || str(b, "type") != "transaction" {
		return false
	}
	for _, e := range objs(b, "entry") {
		if r := obj(e, "resource"); str(r, "resourceType") == "ServiceRequest" {
			if _, ok := referralKind(r); ok {
				return true
			}
		}
	}
	return false
}

// IsPathwayState reports whether a resource carries the gateway's own pathway state:
// a CarePlan of the AIT or IR pathway category, its state extension, or its
// identifier. Clients never write these: the gateway derives them from the steps.
func IsPathwayState(typ string, body []byte) bool {
	if typ != "CarePlan" {
		return false
	}
	m, err := decodeObject(body)
	if err != nil {
		return false
	}
	return isPathwayState(m)
}

func isPathwayState(m object) bool {
	if str(m, "resourceType") != "CarePlan" {
		return false
	}
	for _, e := range objs(m, "extension") {
		if str(e, "url") == ExtPathwayState {
			return true
		}
	}
	for _, id := range objs(m, "identifier") {
		if str(id, "system") == IdentifierCarePlan {
			return true
		}
	}
	for _, c := range objs(m, "category") {
		if hasCoding(c, []string{CodeSystemAIT + "|" + CodePathwayCategory, CodeSystemAIT + "|" + CodeIRCategory}) {
			return true
		}
	}
	return false
}

// patientRefs are the elements by which a resource names its patient.
var patientRefs = []string{"subject", "patient", "for", "beneficiary"}

// checkReferralPatient checks that a referral names exactly one patient and that
// every entry is about that patient (nothing is filed across patients): a referral
// with no patient, with two, or with an entry about another patient is a 422 naming
// the element, and nothing is written.
func checkReferralPatient(entries []object, referral object) error {
	var patients []string
	for i, e := range entries {
		r := obj(e, "resource")
		if str(r, "resourceType") == "Patient" {
			patients = append(patients, fmt.Sprintf("Bundle.entry[%d]", i))
		}
		if isPathwayState(r) {
			return fhir.Issues(http.StatusUnprocessableEntity, fhir.Issue{Severity: fhir.SeverityError, Code: "business-rule",
				Expression:  []string{fmt.Sprintf("Bundle.entry[%d].resource", i)},
				Diagnostics: "a referral cannot carry a pathway CarePlan: the pathway state belongs to the gateway, which derives it from the step resources (000 §III)"})
		}
	}
	if len(patients) > 1 {
		return fhir.Issues(http.StatusUnprocessableEntity, fhir.Issue{Severity: fhir.SeverityError, Code: "business-rule",
			Expression:  patients,
			Diagnostics: fmt.Sprintf("a referral is about one patient; this one holds %d Patient entries (%s): nothing was written (000 §V.2)", len(patients), strings.Join(patients, ", "))})
	}
	subject := str(obj(referral, "subject"), "reference")
	if subject == "" {
		return fhir.Issues(http.StatusUnprocessableEntity, fhir.Issue{Severity: fhir.SeverityError, Code: "required",
			Expression:  []string{"Bundle.entry.resource.ofType(ServiceRequest).subject"},
			Diagnostics: "the referral names no patient (ServiceRequest.subject): nothing was written (000 §V.2)"})
	}
	if len(patients) == 1 {
		var full string
		var patient object
		for _, e := range entries {
			if str(obj(e, "resource"), "resourceType") == "Patient" {
				full, patient = str(e, "fullUrl"), e
			}
		}
		if !names(patient, subject) {
			return fhir.Issues(http.StatusUnprocessableEntity, fhir.Issue{Severity: fhir.SeverityError, Code: "business-rule",
				Expression:  []string{"Bundle.entry.resource.ofType(ServiceRequest).subject"},
				Diagnostics: fmt.Sprintf("the referral's subject %s is not the Patient the referral carries (%s): nothing was written (000 §V.2)", subject, full)})
		}
	} else if !strings.HasPrefix(subject, "Patient/") && !strings.HasPrefix(subject, "Patient?") {
		return fhir.Issues(http.StatusUnprocessableEntity, fhir.Issue{Severity: fhir.SeverityError, Code: "required",
			Expression:  []string{"Bundle.entry.resource.ofType(Patient)"},
			Diagnostics: "the referral carries no Patient and its subject names no stored one: nothing was written (000 §V.2)"})
	}
	for i, e := range entries {
		r := obj(e, "resource")
		for _, k := range patientRefs {
			ref := str(obj(r, k), "reference")
			if ref == "" || ref == subject || str(r, "resourceType") == "Patient" || samePatientEntry(entries, ref, subject) {
				continue
			}
			if strings.HasPrefix(ref, "Patient") || isPatientEntry(entries, ref) {
				return fhir.Issues(http.StatusUnprocessableEntity, fhir.Issue{Severity: fhir.SeverityError, Code: "business-rule",
					Expression: []string{fmt.Sprintf("Bundle.entry[%d].resource.%s", i, k)},
					Diagnostics: fmt.Sprintf("this %s is about %s, not the referral's patient %s: a referral files nothing across patients, nothing was written (000 §V.2)",
						str(r, "resourceType"), ref, subject)})
			}
		}
	}
	return nil
}

func isPatientEntry(entries []object, ref string) bool {
	for _, e := range entries {
		if str(e, "fullUrl") == ref {
			return str(obj(e, "resource"), "resourceType") == "Patient"
		}
	}
	return false
}

// names reports whether ref names the entry's resource: its fullUrl, its Type/id (a
// PUT or a resource with an id) or a fullUrl ending in Type/id.
func names(e object, ref string) bool {
	if e == nil || ref == "" {
		return false
	}
	full := str(e, "fullUrl")
	r := obj(e, "resource")
	typeID := str(r, "resourceType") + "/" + str(r, "id")
	return full == ref || (str(r, "id") != "" && ref == typeID) || strings.HasSuffix(full, "/"+ref)
}

// samePatientEntry reports whether two references name the same Patient entry.
func samePatientEntry(entries []object, a, b string) bool {
	for _, e := range entries {
		if str(obj(e, "resource"), "resourceType") == "Patient" && names(e, a) && names(e, b) {
			return true
		}
	}
	return false
}

// ResolveCode turns an "alias|code" key of the rules tables into "system|code".
func ResolveCode(key string) string {
	if r := resolveCodes([]string{key}); len(r) == 1 {
		return r[0]
	}
	return key
}

// CarePlanIdentifier is the pathway CarePlan identifier a referral gets, whatever
// the door it came in by: derived from its identifier, else from ref.
func CarePlanIdentifier(sr []byte, ref string) string {
	m, err := decodeObject(sr)
	if err != nil {
		return uuidFrom([]byte(ref))
	}
	return careplanIdentifier(m, ref)
}

// OpenPathway is the pathway a referral ServiceRequest stored on its own opens (ref
// is its Type/id): its referral fact at at and, for AIT, the complete dossier when
// its supportingInfo is (records read in the write's transaction).
func OpenPathway(sr []byte, ref string, at time.Time, records Records) (Pathway, []fhir.Issue, error) {
	m, err := decodeObject(sr)
	if err != nil {
		return Pathway{}, nil, err
	}
	kind, ok := referralKind(m)
	if !ok {
		kind = rules.ReferralCode{Pathway: KindAIT, Fact: rules.FactReferral}
	}
	p := NewPathway(kind.Pathway, str(obj(m, "subject"), "reference"), ref, careplanIdentifier(m, ref))
	if p, _, err = Apply(p, Event{Fact: kind.Fact, At: at}); err != nil {
		return Pathway{}, nil, err
	}
	if kind.Pathway != KindAIT {
		return p, nil, nil
	}
	_, id, _ := refParts(ref)
	d, err := LoadDossier(records, id)
	if err != nil {
		return p, nil, nil // the dossier is read as the status reads it; unreadable: incomplete
	}
	missing := CheckDossier(d, at)
	if len(missing) > 0 {
		return p, missing, nil
	}
	p, _, err = Apply(p, Event{Fact: rules.FactDossierComplete, At: at})
	return p, nil, err
}

// ReferralSubject returns the referral's subject in a referral Bundle, and whether a
// Patient entry of the Bundle is that subject (otherwise it names a stored one).
func ReferralSubject(bundle []byte) (subject string, inBundle bool) {
	b, err := decodeObject(bundle)
	if err != nil {
		return "", false
	}
	entries := objs(b, "entry")
	var referral object
	for _, e := range entries {
		if r := obj(e, "resource"); str(r, "resourceType") == "ServiceRequest" && (referral == nil || !isReferralCoded(referral) && isReferralCoded(r)) {
			referral = r
		}
	}
	subject = str(obj(referral, "subject"), "reference")
	for _, e := range entries {
		if str(obj(e, "resource"), "resourceType") == "Patient" && names(e, subject) {
			return subject, true
		}
	}
	return subject, false
}
