package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os/exec"
	"strings"
	"testing"
)

// TestLettersAsDocumentsAndUndelivered: on the real binary, a referral's letters are
// PDFs stored as DocumentReferences found by patient and LOINC type, each linked from
// its Communication; the recipients have no channel, so each Communication is on-hold
// with its statusReason and `aitgw notify undelivered` lists the DetectedIssues.
func TestLettersAsDocumentsAndUndelivered(t *testing.T) {
	g := startGateway(t)
	c := g.Client()
	d, _ := postReferral(t, c)
	r, err := c.Do(http.MethodGet, "DocumentReference?patient="+d.Patient+"&type=http://loinc.org|34109-9", nil, nil)
	if err != nil || r.Status != http.StatusOK {
		t.Fatalf("DocumentReference search: %v %s", err, r)
	}
	var docs struct {
		Entry []struct {
			Resource struct {
				ID      string
				Content []struct {
					Attachment struct{ URL, ContentType string }
				}
			}
		}
	}
	_ = json.Unmarshal(r.Body, &docs)
	if len(docs.Entry) != 2 {
		t.Fatalf("%d letters of the referral found by patient and type: %s", len(docs.Entry), r.Body)
	}
	att := docs.Entry[0].Resource.Content[0].Attachment
	rb, err := c.Do(http.MethodGet, att.URL, nil, nil)
	if err != nil || rb.Status != http.StatusOK {
		t.Fatalf("GET %s: %v %s", att.URL, err, rb)
	}
	var bin struct{ ContentType, Data string }
	_ = json.Unmarshal(rb.Body, &bin)
	pdf, err := base64.StdEncoding.DecodeString(bin.Data)
	if err != nil || bin.ContentType != "application/pdf" || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("the letter's Binary is not a PDF: %v %s", err, bin.ContentType)
	}
	rc, err := c.Do(http.MethodGet, "Communication?patient="+d.Patient+"&status=on-hold", nil, nil)
	if err != nil || !strings.Contains(string(rc.Body), `"statusReason"`) || !strings.Contains(string(rc.Body), "DocumentReference/"+docs.Entry[0].Resource.ID) &&
		!strings.Contains(string(rc.Body), "DocumentReference/"+docs.Entry[1].Resource.ID) {
		t.Fatalf("on-hold Communications lack statusReason or the letter's link: %v %s", err, rc)
	}
	out, err := exec.Command(binary, "notify", "undelivered", "--data", g.DataDir, "--base-url", g.BaseURL).CombinedOutput()
	if err != nil {
		t.Fatalf("aitgw notify undelivered: %v\n%s", err, out)
	}
	if n := strings.Count(string(out), `"resourceType":"DetectedIssue"`); n != 2 || !strings.Contains(string(out), "Communication/ntf-") {
		t.Errorf("aitgw notify undelivered listed %d DetectedIssues:\n%s", n, out)
	}
}
