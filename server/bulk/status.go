package bulk

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

// manifest is the completed export's answer (Bulk Data Access 2.0).
type manifest struct {
	TransactionTime     string         `json:"transactionTime"`
	Request             string         `json:"request"`
	RequiresAccessToken bool           `json:"requiresAccessToken"`
	Output              []manifestFile `json:"output"`
	Error               []manifestFile `json:"error"`
}

type manifestFile struct {
	Type  string `json:"type"`
	URL   string `json:"url"`
	Count int    `json:"count,omitempty"`
}

// owned returns the job id's job when the caller is the client that started it, or
// the 4xx to answer.
func (m *Manager) owned(r *http.Request, id string) (*job, error) {
	c, ok := callerFrom(r.Context())
	if !ok {
		return nil, fhir.Errorf(http.StatusUnauthorized, "login", "", "an access token is required")
	}
	m.mu.Lock()
	j := m.jobs[id]
	m.mu.Unlock()
	if j == nil || j.State == stateCancelled {
		return nil, fhir.Errorf(http.StatusNotFound, "not-found", "", "no such export: it was cancelled, it expired, or it never existed")
	}
	if j.Client != c.ClientID {
		return nil, fhir.Errorf(http.StatusForbidden, "security", "", "this export belongs to another client: only the client that started it may poll, download or cancel it")
	}
	return j, nil
}

// Status serves the status URL: GET polls (202 with X-Progress and Retry-After while
// running, 200 with the manifest when done), DELETE cancels (202, then 404).
func (m *Manager) Status(w http.ResponseWriter, r *http.Request, id string) {
	j, err := m.owned(r, id)
	if err != nil {
		writeError(w, err)
		return
	}
	if r.Method == http.MethodDelete {
		m.cancel(j)
		w.Header().Set("Content-Type", "application/fhir+json; charset=utf-8")
		w.WriteHeader(http.StatusAccepted)
		w.Write(fhir.NewOutcome(fhir.Issue{Severity: fhir.SeverityInformation, Code: "informational",
			Diagnostics: "export cancelled; its files are deleted"}).JSON())
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		writeError(w, fhir.Errorf(http.StatusMethodNotAllowed, "not-supported", "", "the export status takes GET or DELETE"))
		return
	}
	m.mu.Lock()
	s := j.snapshot()
	s.Written, s.Current = j.Written, j.Current
	m.mu.Unlock()
	switch s.State {
	case stateRunning:
		progress := fmt.Sprintf("%d/%d types done", len(s.Done), len(s.Types))
		if s.Current != "" {
			progress += fmt.Sprintf(", writing %s (%d)", s.Current, s.Written)
		}
		if s.Restarts > 0 {
			progress += fmt.Sprintf(", resumed after %d restart(s)", s.Restarts)
		}
		w.Header().Set("X-Progress", progress)
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(m.cfg.RetryAfter.Seconds()))))
		w.WriteHeader(http.StatusAccepted)
	case stateFailed:
		writeError(w, fhir.Errorf(http.StatusInternalServerError, "exception", "", "%s", s.Error))
	default:
		man := manifest{TransactionTime: s.TransactionTime.Format(time.RFC3339Nano), Request: s.Request,
			RequiresAccessToken: true, Output: []manifestFile{}, Error: []manifestFile{}}
		for _, o := range s.Done {
			if o.File != "" {
				man.Output = append(man.Output, manifestFile{Type: o.Type, URL: m.statusURL(s.ID) + "/" + o.File, Count: o.Count})
			}
		}
		raw, _ := json.Marshal(man)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Expires", s.Finished.Add(m.cfg.Expiry).UTC().Format(http.TimeFormat))
		w.WriteHeader(http.StatusOK)
		w.Write(raw)
	}
}

// cancel stops a running export or deletes a finished one's files.
func (m *Manager) cancel(j *job) {
	m.mu.Lock()
	defer m.mu.Unlock()
	prev := j.State
	j.State = stateCancelled
	delete(m.jobs, j.ID)
	if cancel, ok := m.running[j.ID]; ok && prev == stateRunning {
		j.save(m.dir(j.ID)) // a restart now deletes rather than resumes it
		cancel()            // the worker deletes the directory when it stops
		return
	}
	os.RemoveAll(m.dir(j.ID))
}

// File serves one NDJSON file of a completed export to the client that started it.
func (m *Manager) File(w http.ResponseWriter, r *http.Request, id, name string) {
	j, err := m.owned(r, id)
	if err != nil {
		writeError(w, err)
		return
	}
	m.mu.Lock()
	s := j.snapshot()
	m.mu.Unlock()
	found := false
	for _, o := range s.Done {
		found = found || (o.File != "" && o.File == name)
	}
	if s.State != stateCompleted || !found || strings.ContainsAny(name, `/\`) {
		writeError(w, fhir.Errorf(http.StatusNotFound, "not-found", "", "no such file in this export"))
		return
	}
	f, err := os.Open(filepath.Join(m.dir(id), name))
	if err != nil {
		writeError(w, fhir.Errorf(http.StatusNotFound, "not-found", "", "the file has expired"))
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		writeError(w, fhir.Errorf(http.StatusNotFound, "not-found", "", "the file has expired"))
		return
	}
	w.Header().Set("Content-Type", "application/fhir+ndjson")
	http.ServeContent(w, r, "", st.ModTime(), f)
}
