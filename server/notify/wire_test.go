package notify

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aitgw/aitgw/conformance/kit"
	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/fhir/rest/resttest"
	"github.com/aitgw/aitgw/mapping/pathway"
)

// wire is a gateway with the pathway hook and this notifier, as cmd/aitgw wires them.
type wire struct {
	t   *testing.T
	svc *rest.Service
}

func (w wire) Create(body []byte) (string, error) {
	var head struct{ ResourceType string }
	_ = json.Unmarshal(body, &head)
	resp, err := w.svc.Create(context.Background(), &rest.Request{Method: "POST", Type: head.ResourceType, Body: body})
	if err != nil {
		w.t.Fatalf("create %s: %s", head.ResourceType, fhir.AsError(err).Outcome.JSON())
	}
	return head.ResourceType + "/" + resp.Record.ID, nil
}

// lettersTo returns the letters of a milestone to a recipient.
func (w wire) lettersTo(code, recipient string) []string {
	w.t.Helper()
	q := "recipient=" + recipient + "&category=" + CategorySystem + "|" + code
	resp, err := w.svc.Search(context.Background(), &rest.Request{Method: "GET", Type: "Communication", Query: mustQuery(w.t, q)})
	if err != nil {
		w.t.Fatal(err)
	}
	var b struct {
		Entry []struct {
			Resource struct {
				Payload []struct{ ContentString string } `json:"payload"`
			} `json:"resource"`
		} `json:"entry"`
	}
	_ = json.Unmarshal(resp.Body, &b)
	var out []string
	for _, e := range b.Entry {
		if len(e.Resource.Payload) > 0 {
			out = append(out, e.Resource.Payload[0].ContentString)
		}
	}
	if len(out) == 0 {
		w.t.Fatalf("no %s letter to %s", code, recipient)
	}
	return out
}

// TestLettersOnTheWire posts the referral fixture and the kit's AIT steps through
// the pathway hook with this notifier, as the gateway runs them, and reads the
// letters the GP and the referring physician got: the referrer is named, the
// dossier's state is the gateway's, the RCP decision, technique and next dates, the
// planned intervention, the first refill and the refill centre are stated.
func TestLettersOnTheWire(t *testing.T) {
	svc := resttest.Service(t, 50)
	n := &Notifier{}
	svc.Hooks = []rest.WriteHook{SubscriptionHook{}, &pathway.Hook{Notifier: pathway.NotifierFunc(
		func(ctx context.Context, w *rest.Writer, no pathway.Notice) ([]fhir.Issue, error) {
			m := Milestone{Code: no.Code, Display: no.Display, SeedSection: no.SeedSection, Patient: no.Patient,
				About: no.About, Coordinator: no.Coordinator, Facts: no.Facts, EventTime: no.At}
			for _, r := range no.Recipients {
				m.Recipients = append(m.Recipients, Recipient{Role: r.Role, Reference: r.Reference})
			}
			return n.OnMilestone(ctx, w, m)
		})}}
	now := time.Date(2026, 3, 3, 9, 0, 0, 0, time.UTC)
	svc.Now = func() time.Time { return now }
	w := wire{t, svc}
	body, err := os.ReadFile("../../mapping/testdata/referral-frcore.json")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pathway.Referral(svc)(context.Background(), &rest.Request{Method: "POST", Body: body}); err != nil {
		t.Fatalf("$ait-referral: %s", fhir.AsError(err).Outcome.JSON())
	}
	search := func(typ string) map[string]any {
		resp, err := svc.Search(context.Background(), &rest.Request{Method: "GET", Type: typ})
		if err != nil {
			t.Fatal(err)
		}
		var b struct {
			Entry []struct{ Resource map[string]any } `json:"entry"`
		}
		_ = json.Unmarshal(resp.Body, &b)
		return b.Entry[0].Resource
	}
	p, sr := search("Patient"), search("ServiceRequest")
	d := kit.Dossier{Patient: "Patient/" + p["id"].(string), Referral: "ServiceRequest/" + sr["id"].(string),
		GP:        p["generalPractitioner"].([]any)[0].(map[string]any)["reference"].(string),
		Requester: sr["requester"].(map[string]any)["reference"].(string)}

	referral := w.lettersTo("referral-received", d.Requester)[0]
	for _, want := range []string{"adressée par Dr ", "État du dossier : "} {
		if !strings.Contains(referral, want) || strings.Contains(referral, "non transmis") || strings.Contains(referral, "non évalué") {
			t.Errorf("referral letter lacks %q or names a missing fact:\n%s", want, referral)
		}
	}
	c, err := kit.NewCast(w)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range kit.AITSteps(d, c) {
		w.Create(s.Body)
	}
	checks := []struct {
		code, to string
		want     []string
	}{
		{"rcp-decision-sent", d.GP, []string{"pluridisciplinaire du 10/03/2026 à 15h00", "indication d'analgésie intrathécale retenue",
			"Technique retenue : pompe intrathécale implantée", "au plus tard le 17/03/2026"}},
		{"intervention-planned", d.GP, []string{"Consultation d'algologie : 13/03/2026 à 11h00", "Consultation d'anesthésie : 13/03/2026 à 12h00",
			"Admission : la veille de l'intervention", "- oxycodone : arrêt la veille de la pose", "Intervention : 24/03/2026 à 09h00"}},
		{"implantation-done", d.Requester, []string{"réalisée le 24/03/2026 à 09h00", "- morphine 50 mg/mL : 3 mg/j", "- ziconotide 100 µg/mL : 2,4 µg/j"}},
		{"discharge-letter", d.GP, []string{"sorti(e) le 31/03/2026 à 12h00", "Premier remplissage prévu le 28/04/2026 à 11h00", "Refill centre"}},
		{"refill-letter", d.GP, []string{"réalisé le 27/04/2026 à 12h00", "Prochain remplissage prévu le 25/05/2026 à 11h00", "- morphine 50 mg/mL : 3 mg/j"}},
	}
	for _, ch := range checks {
		letters := w.lettersTo(ch.code, ch.to)
		found := false
		for _, letter := range letters {
			ok := true
			for _, want := range ch.want {
				ok = ok && strings.Contains(letter, want)
			}
			found = found || ok
		}
		if !found {
			t.Errorf("no %s letter states %q:\n%s", ch.code, ch.want, strings.Join(letters, "\n----\n"))
		}
	}
}

func mustQuery(t *testing.T, q string) url.Values {
	v, err := url.ParseQuery(q)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
