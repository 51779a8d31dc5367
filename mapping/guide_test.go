package mapping

import (
	"context"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/aitgw/aitgw/mapping/rules"
	"github.com/aitgw/aitgw/profiles"
)

// milestonesPending are the milestones of "Who is told what" the guide's CodeSystem
// lacks (reported to the lead).
var milestonesPending = map[string]bool{"planned-ait-care": true, rules.MilestoneOverdue: true}

// guideValidator loads the AIT guide (profiles package) and its validator.
func guideValidator(t *testing.T) *profiles.Validator {
	t.Helper()
	pkg, err := profiles.Load()
	if err != nil {
		t.Fatal(err)
	}
	v, err := profiles.NewValidator(pkg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// ruleKey names an error by profile and rule ("[AITCarePlan] author"), without the
// entry index, so that the remaining ones can be listed.
var ruleKey = regexp.MustCompile(`^\[[A-Za-z]+\] [^:( ]+`)

// remainingIntakeErrors are the error-severity issues the guide's validator still
// finds in the intake output of the two referral fixtures, and why. Two kinds:
// what the sending EHR did not provide (the intake keeps it as sent and
// $ait-dossier-status reports it: never invented), and what the guide cannot express
// yet (reported to the lead for the guide).
var remainingIntakeErrors = map[string]string{
	// The sender's gaps (synthetic fixtures mimic a real EHR export).
	"[AITPractitioner] identifier":  "the EHR sent no RPPS number for the referring physician and the GP",
	"[AITImagingReport] conclusion": "the EHR sent the imaging reports without their conclusion text",
	"[AITPainAssessment] component": "the EHR sent the pain score without type, etiology and treatments tried (000 §V.2.b)",
	"[AITPainAssessment] bodySite":  "the EHR sent the pain score without its location (000 §V.2.b)",
	"[AITReferral] supportingInfo":  "no OME Observation in the referral: the mapping computes the OME (000 §IX.1.a) but the guide's OME profile needs a performer/date policy before the gateway may assert one",
	// The guide cannot express yet.
	"[AITCarePlan] author":                     "the coordinating algologist is known from the RCP on (000 §VI); at intake nobody is: the guide should make CarePlan.author 0..1 (or require it from step 3)",
	"[AITCarePlan] scheduled[x]":               "a step without a deadline row is not scheduled until its first fact (000 §III): the guide should make activity.detail.scheduled[x] 0..1",
	"[AITLabResult] Observation.code":          "the guide's ait-dossier-labs ValueSet lacks LOINC codes the referential's labs are sent with (26499-4 neutrophils, 5894-1 PT %, 63561-5 aPTT ratio, 14682-9 creatinine, 14749-6 glucose, 2000-8 calcium, 14879-1 phosphate)",
	"[AITImagingReport] DiagnosticReport.code": "the guide's ait-dossier-imaging ValueSet lacks LOINC 24590-2 (brain MRI)",
	"[AITReferral] ait-ref-lab-751-8":          "the referral invariant wants LOINC 751-8 for neutrophils; the referential accepts any neutrophil count (rules.Labs)",
	"[AITReferral] ait-ref-lab-5902-2":         "the referral invariant wants PT in seconds (5902-2); the referential accepts PT % or INR (rules.Coagulation)",
	"[AITReferral] ait-ref-lab-3173-2":         "the referral invariant wants aPTT in seconds (3173-2); the referential accepts the aPTT ratio (rules.Coagulation)",
	"[AITReferral] ait-ref-lab-2160-0":         "the referral invariant wants creatinine 2160-0; the referential accepts 14682-9 (umol/L)",
	"[AITReferral] ait-ref-lab-2345-7":         "the referral invariant wants glucose 2345-7; the referential accepts 14749-6 (mmol/L)",
	"[AITReferral] ait-ref-lab-17861-6":        "the referral invariant wants calcium 17861-6; the referential accepts 2000-8",
	"[AITReferral] ait-ref-lab-2777-1":         "the referral invariant wants phosphate 2777-1; the referential accepts 14879-1",
	"[AITReferral] ait-ref-img-brain-ct-mri":   "the referral invariant wants the guide's brain-ct-mri code; the referential accepts LOINC brain MRI 24590-2",
}

// TestIntakeOutputAgainstTheGuide validates the intake output Bundle of both referral
// fixtures with the guide's validator: no error beyond the listed ones, and every
// listed one still happens somewhere (a list that outlives its reason fails).
func TestIntakeOutputAgainstTheGuide(t *testing.T) {
	v := guideValidator(t)
	seen := map[string]bool{}
	for _, f := range []string{"referral-frcore.json", "referral-plain-r4.json"} {
		res := intake(t, f)
		oo := v.ValidateWith(context.Background(), nil, res.Bundle)
		for _, is := range oo.Issue {
			if is.Severity != "error" && is.Severity != "fatal" {
				continue
			}
			key := ruleKey.FindString(is.Diagnostics)
			seen[key] = true
			if _, listed := remainingIntakeErrors[key]; !listed {
				t.Errorf("%s: unexpected error %s at %v: %s", f, is.Code, is.Expression, is.Diagnostics)
			}
		}
		// What the mapping itself writes must conform: the profiles it claims exist in the guide.
		for _, e := range entries(t, res.Bundle) {
			for _, p := range arr(obj(obj(e, "resource"), "meta"), "profile") {
				if s, _ := p.(string); strings.HasPrefix(s, Base) {
					if _, ok := v.Package().ByURL(s); !ok {
						t.Errorf("intake claims %s, not in the guide", s)
					}
				}
			}
		}
	}
	var stale []string
	for k := range remainingIntakeErrors {
		if !seen[k] {
			stale = append(stale, k)
		}
	}
	sort.Strings(stale)
	if len(stale) > 0 {
		t.Errorf("listed as remaining but no longer raised (remove from the list): %v", stale)
	}
}

// TestCanonicalURLsAreInTheGuide: every profile, extension and CodeSystem URL of
// canonical.go under the guide's base exists in the guide, and every code the
// mapping writes in CodeSystemAIT is defined there.
func TestCanonicalURLsAreInTheGuide(t *testing.T) {
	v := guideValidator(t)
	for _, u := range []string{ProfilePatient, ProfilePractitioner, ProfileOrganization, ProfileReferral, ProfileLab, ProfilePain,
		ProfilePerformance, ProfileLifeExpectancy, ProfileDocument, ProfileMedicationReview, ProfileImagingReport, ProfileCarePlan,
		ProfileRCPDecision, ProfileImplantation, ProfileRefill, ProfilePrescription, ProfileIRProcedure, ProfileMirels, ProfileSINS,
		CodeSystemAIT, CodeSystemSeed, ExtNextRefill} {
		if _, ok := v.Package().ByURL(u); !ok {
			t.Errorf("%s is not in the guide", u)
		}
	}
	cs, _ := v.Package().ByURL(CodeSystemAIT)
	body := string(cs.Body)
	codes := []string{CodePathwayCategory, CodeRCPReview, CodeRCPDecision, CodeRCPTechnique, CodeRCPAccepted, CodeRCPRefused,
		CodeImplantation, CodeRefill}
	for _, s := range rules.AITSteps {
		codes = append(codes, s.Code)
	}
	for _, m := range rules.Milestones {
		if !milestonesPending[m.Code] {
			codes = append(codes, m.Code)
		}
	}
	for _, c := range codes {
		if !strings.Contains(body, `"code": "`+c+`"`) && !strings.Contains(body, `"code":"`+c+`"`) {
			t.Errorf("code %s is not in the guide's CodeSystem", c)
		}
	}
}
