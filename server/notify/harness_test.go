package notify

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/bolt"
	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/fhir/search"
)

// *rest.Writer is what the gateway passes to OnMilestone.
var _ Writer = (*rest.Writer)(nil)

var (
	regOnce sync.Once
	reg     *search.Registry
	regErr  error
)

func registry(t testing.TB) *search.Registry {
	regOnce.Do(func() { reg, regErr = search.NewRegistry() })
	if regErr != nil {
		t.Fatal(regErr)
	}
	return reg
}

// txWriter writes like rest.Writer (stamp, index, put) without hooks: the test's
// Updater for the worker, which the gateway gets from its rest.Service.
type txWriter struct {
	tx  fhir.Tx
	reg *search.Registry
	now time.Time
}

func (w *txWriter) Tx() fhir.Tx    { return w.tx }
func (w *txWriter) Now() time.Time { return w.now }
func (w *txWriter) Match(typ, q string) ([]string, error) {
	return w.reg.Match(w.tx, typ, q)
}
func (w *txWriter) Put(typ, id string, body []byte, method string, ifMatch int64) (*fhir.Record, bool, error) {
	var version int64 = 1
	cur, err := w.tx.Current(typ, id)
	if err == nil {
		version = cur.Version + 1
	} else if !errors.Is(err, fhir.ErrNotFound) {
		return nil, false, err
	}
	stamped, err := fhir.Stamp(body, id, version, w.now)
	if err != nil {
		return nil, false, err
	}
	idx, err := w.reg.Index(typ, stamped)
	if err != nil {
		return nil, false, err
	}
	rec := &fhir.Record{Type: typ, ID: id, Version: version, LastUpdated: w.now, Method: method, Body: stamped}
	return rec, version == 1, w.tx.Put(rec, idx)
}

// env is a store with the search engine, a rest.Service whose write hook raises
// milestones, and an Updater for the worker.
type env struct {
	t     testing.TB
	path  string
	store *bolt.Store
	svc   *rest.Service
	reg   *search.Registry
	ntf   *Notifier

	mu       sync.Mutex
	raise    map[string]Milestone // Basic.code.text → the milestone its write raises
	seq      int
	warnings []fhir.Issue
	failHook bool
}

func newEnv(t testing.TB) *env {
	e := &env{t: t, path: filepath.Join(t.TempDir(), "aitgw.db"), reg: registry(t), ntf: &Notifier{},
		raise: map[string]Milestone{}}
	e.open()
	t.Cleanup(func() { e.store.Close() })
	return e
}

func (e *env) open() {
	s, err := bolt.Open(e.path)
	if err != nil {
		e.t.Fatal(err)
	}
	e.store = s
	e.svc = &rest.Service{Store: s, Engine: search.NewEngine(e.reg), BaseURL: "http://gw.test/fhir", PageSize: 20, MaxPageSize: 100,
		Hooks: []rest.WriteHook{SubscriptionHook{}, e}}
}

// AfterWrite raises the milestone a Basic (the test's pathway event) stands for, in
// the same transaction, as the pathway engine's hook does.
func (e *env) AfterWrite(ctx context.Context, w *rest.Writer, rec *fhir.Record) error {
	if rec.Type != "Basic" {
		return nil
	}
	var b struct {
		Code struct{ Text string } `json:"code"`
	}
	_ = json.Unmarshal(rec.Body, &b)
	e.mu.Lock()
	m, ok := e.raise[b.Code.Text]
	fail := e.failHook
	e.mu.Unlock()
	if !ok {
		return nil
	}
	warn, err := e.ntf.OnMilestone(ctx, w, m)
	if err != nil {
		return err
	}
	e.mu.Lock()
	e.warnings = warn
	e.mu.Unlock()
	if fail {
		return fhir.Errorf(http.StatusConflict, "conflict", "", "refused after the milestone")
	}
	return nil
}

// milestone raises m through a real REST create; safe for concurrent use.
func (e *env) milestone(m Milestone) error {
	e.mu.Lock()
	e.seq++
	key := "event-" + strconv.Itoa(e.seq)
	e.raise[key] = m
	e.mu.Unlock()
	_, err := e.svc.Create(context.Background(), &rest.Request{Method: "POST", Type: "Basic",
		Body: []byte(`{"resourceType":"Basic","code":{"text":"` + key + `"}}`)})
	return err
}

// put stores a resource through the REST service.
func (e *env) put(body string) {
	e.t.Helper()
	var head struct{ ResourceType, ID string }
	_ = json.Unmarshal([]byte(body), &head)
	_, err := e.svc.Update(context.Background(), &rest.Request{Method: "PUT", Type: head.ResourceType, ID: head.ID, Body: []byte(body)})
	if err != nil {
		e.t.Fatalf("put %s: %v", head.ResourceType, err)
	}
}

func (e *env) updater() Updater {
	return UpdaterFunc(func(ctx context.Context, fn func(Writer) error) error {
		return e.store.Update(ctx, func(tx fhir.Tx) error {
			return fn(&txWriter{tx: tx, reg: e.reg, now: time.Now().UTC()})
		})
	})
}

func (e *env) worker() *Worker {
	return &Worker{Store: e.store, Write: e.updater(), Base: "http://gw.test/fhir/",
		FirstDelay: 5 * time.Millisecond, MaxDelay: 50 * time.Millisecond, Poll: 10 * time.Millisecond,
		SubscriptionScan: 20 * time.Millisecond}
}

// match runs a Communication search.
func (e *env) match(typ, q string) []string {
	e.t.Helper()
	var ids []string
	err := e.store.View(context.Background(), func(tx fhir.Tx) error {
		var err error
		ids, err = e.reg.Match(tx, typ, q)
		return err
	})
	if err != nil {
		e.t.Fatalf("search %s?%s: %v", typ, q, err)
	}
	return ids
}

// read returns a current resource decoded.
func (e *env) read(typ, id string) map[string]any {
	e.t.Helper()
	var out map[string]any
	err := e.store.View(context.Background(), func(tx fhir.Tx) error {
		rec, err := tx.Current(typ, id)
		if err != nil {
			return err
		}
		return json.Unmarshal(rec.Body, &out)
	})
	if err != nil {
		e.t.Fatalf("read %s/%s: %v", typ, id, err)
	}
	return out
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// pathway stores the actors of a small AIT pathway: GP and referring physician with
// email, a coordinator, a patient.
func (e *env) pathway() {
	e.put(`{"resourceType":"Practitioner","id":"gp","name":[{"family":"Martin"}],"telecom":[{"system":"email","value":"dr.martin@gp.mssante.test"}]}`)
	e.put(`{"resourceType":"Practitioner","id":"onco","name":[{"family":"Durand"}],"telecom":[{"system":"phone","value":"0320000000"},{"system":"email","value":"dr.durand@chu.mssante.test"}]}`)
	e.put(`{"resourceType":"Practitioner","id":"algo","name":[{"family":"Leroy"}],"telecom":[{"system":"email","value":"dr.leroy@chu.mssante.test"}]}`)
	e.put(`{"resourceType":"Patient","id":"p1","name":[{"family":"Test"}],"generalPractitioner":[{"reference":"Practitioner/gp"}]}`)
	e.put(`{"resourceType":"ServiceRequest","id":"sr1","status":"active","intent":"order","subject":{"reference":"Patient/p1"},"requester":{"reference":"Practitioner/onco"}}`)
}

func rcpMilestone() Milestone {
	return Milestone{Code: "rcp-decision-sent", Display: "RCP decision and technique", SeedSection: "000 §VI",
		Patient: "Patient/p1", About: []string{"ServiceRequest/sr1"}, Coordinator: "Practitioner/algo",
		Recipients: []Recipient{{RoleReferringPhysician, "Practitioner/onco"}, {RoleGP, "Practitioner/gp"}},
		Facts:      map[string]string{"rcpDate": "12/03/2026", "decision": "indication retenue", "technique": "pompe implantable (espérance de vie > 3 mois)"},
		EventTime:  time.Date(2026, 3, 12, 14, 0, 0, 0, time.UTC)}
}

func contains2(s string, subs ...string) string {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return x
		}
	}
	return ""
}

func decodeBase64(b []byte) ([]byte, error) {
	return base64.StdEncoding.DecodeString(strings.NewReplacer("\r", "", "\n", "").Replace(string(b)))
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
