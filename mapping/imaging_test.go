package mapping

import (
	"encoding/json"
	"testing"
	"time"
)

// replaceImaging returns the fixture's resources with its two imaging reports
// replaced by the given ones.
func replaceImaging(t *testing.T, reports ...string) [][]byte {
	t.Helper()
	b, _ := decodeObject(fixture(t, "referral-frcore.json"))
	var out [][]byte
	for _, e := range objs(b, "entry") {
		r := obj(e, "resource")
		if str(r, "resourceType") == "DiagnosticReport" {
			continue
		}
		raw, _ := json.Marshal(r)
		out = append(out, raw)
	}
	for _, r := range reports {
		out = append(out, []byte(r))
	}
	return out
}

// TestDossierImagingFromPlainDiagnosticReports (000 §V.2.d): imaging sent as
// DiagnosticReports without the guide's codes is read by modality and region: a
// brain MRI and a CT thorax-abdomen-pelvis complete the dossier; a spine MRI does not
// stand for the brain imaging.
func TestDossierImagingFromPlainDiagnosticReports(t *testing.T) {
	ct := `{"resourceType":"DiagnosticReport","status":"final","code":{"text":"Scanner thoraco-abdomino-pelvien"},"effectiveDateTime":"2026-02-10"}`
	brain := `{"resourceType":"DiagnosticReport","status":"final","code":{"text":"IRM"},"bodySite":[{"coding":[{"system":"http://snomed.info/sct","code":"12738006"}]}],"effectiveDateTime":"2026-02-12"}`
	spine := `{"resourceType":"DiagnosticReport","status":"final","code":{"text":"IRM du rachis lombaire"},"effectiveDateTime":"2026-02-12"}`
	d, err := DossierFromResources(replaceImaging(t, ct, brain))
	if err != nil {
		t.Fatal(err)
	}
	if is := CheckDossier(d, received); len(is) != 0 {
		t.Errorf("dossier with plain reports: %+v", is)
	}
	d, _ = DossierFromResources(replaceImaging(t, ct, spine))
	single(t, CheckDossier(d, received), "required", "brain")
}

// TestImagingDateOnlyAtItsPrecision (000 §V.2.d, referral 2 March 2026): a report
// dated 19 January (6 weeks before) is stale whether date-only or with a time of day;
// one of 20 January is fresh either way.
func TestImagingDateOnlyAtItsPrecision(t *testing.T) {
	for _, tc := range []struct {
		date  string
		stale bool
	}{{"2026-01-19", true}, {"2026-01-19T23:30:00+01:00", true}, {"2026-01-20", false}, {"2026-01-20T00:10:00+01:00", false}} {
		r := `{"resourceType":"DiagnosticReport","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"24590-2"}]},"effectiveDateTime":"` + tc.date + `"}`
		ct := `{"resourceType":"DiagnosticReport","status":"final","code":{"text":"Scanner thoraco-abdomino-pelvien"},"effectiveDateTime":"2026-02-10"}`
		d, _ := DossierFromResources(replaceImaging(t, ct, r))
		is := CheckDossier(d, received)
		if tc.stale {
			single(t, is, "business-rule", "000 §V.2.d")
		} else if len(is) != 0 {
			t.Errorf("%s: %+v", tc.date, is)
		}
	}
	if got, _ := parseDate("2026-01-19"); !got.Equal(time.Date(2026, 1, 18, 23, 0, 0, 0, time.UTC)) {
		t.Errorf("a date-only value is not the start of its day in Paris: %s", got)
	}
}
