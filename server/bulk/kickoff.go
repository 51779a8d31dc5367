package bulk

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
)

// outputFormats are the _outputFormat values meaning NDJSON.
var outputFormats = map[string]bool{
	"application/fhir+ndjson": true, "application/ndjson": true, "ndjson": true,
}

// kickOffParams are the parameters of $export this server understands.
var kickOffParams = map[string]bool{
	"_outputFormat": true, "_since": true, "_type": true, "_typeFilter": true, "_format": true, "_pretty": true,
}

// KickOff serves [base]/$export, [base]/Patient/$export and [base]/Group/{id}/$export
// (GET, or POST with a Parameters body): 202 Accepted with the status URL in
// Content-Location, or a 4xx OperationOutcome naming the parameter at fault.
func (m *Manager) KickOff(w http.ResponseWriter, r *http.Request, req *rest.Request) {
	j, err := m.newJob(r, req)
	if err != nil {
		writeError(w, err)
		return
	}
	m.mu.Lock()
	if m.runningCount() >= m.cfg.MaxJobs {
		m.mu.Unlock()
		w.Header().Set("Retry-After", strconv.Itoa(int(m.cfg.RetryAfter.Seconds()*5)))
		writeError(w, fhir.Errorf(http.StatusTooManyRequests, "throttled", "",
			"%d exports are running, the most this server runs at once: retry later", m.cfg.MaxJobs))
		return
	}
	if err := os.MkdirAll(m.dir(j.ID), 0o700); err == nil {
		err = j.save(m.dir(j.ID))
	}
	if err != nil {
		m.mu.Unlock()
		os.RemoveAll(m.dir(j.ID))
		writeError(w, fhir.Errorf(http.StatusInternalServerError, "exception", "", "cannot record the export job"))
		return
	}
	m.jobs[j.ID] = j
	m.start(j)
	m.mu.Unlock()
	w.Header().Set("Content-Location", m.statusURL(j.ID))
	w.Header().Set("Content-Type", "application/fhir+json; charset=utf-8")
	w.WriteHeader(http.StatusAccepted)
	w.Write(fhir.NewOutcome(fhir.Issue{Severity: fhir.SeverityInformation, Code: "informational",
		Diagnostics: "export accepted: poll " + m.statusURL(j.ID)}).JSON())
}

func (m *Manager) statusURL(id string) string {
	return strings.TrimRight(m.cfg.FilesURL, "/") + "/" + id
}

// newJob checks the caller and the parameters and plans the export.
func (m *Manager) newJob(r *http.Request, req *rest.Request) (*job, error) {
	c, ok := callerFrom(r.Context())
	if !ok || !c.System {
		return nil, fhir.Errorf(http.StatusForbidden, "security", "",
			"$export is for SMART Backend Services clients (client_credentials, system/ read scopes); a user or patient-context token cannot start it")
	}
	if !respondAsync(r) {
		return nil, fhir.Errorf(http.StatusBadRequest, "required", "", "$export is asynchronous: send the header Prefer: respond-async")
	}
	q, patients, err := kickOffQuery(req)
	if err != nil {
		return nil, err
	}
	j := &job{ID: rest.NewID(), Client: c.ClientID, Level: levelSystem, State: stateRunning,
		Created: time.Now().UTC(), Request: m.requestURL(r, req)}
	j.TransactionTime = j.Created
	switch {
	case req.Type == "Patient" && req.ID == "":
		j.Level = levelPatient
	case req.Type == "Group" && req.ID != "":
		j.Level, j.Group = levelGroup, req.ID
	case req.Type != "":
		return nil, fhir.Errorf(http.StatusNotFound, "not-supported", "", "$export is invoked at [base]/$export, [base]/Patient/$export or [base]/Group/[id]/$export")
	}
	for k := range q {
		if !kickOffParams[k] && req.Strict {
			return nil, fhir.Errorf(http.StatusBadRequest, "not-supported", k, "$export parameter %s is not supported (Prefer: handling=strict)", k)
		}
	}
	if f := q.Get("_outputFormat"); f != "" && !outputFormats[f] {
		return nil, fhir.Errorf(http.StatusBadRequest, "not-supported", "_outputFormat", "_outputFormat %q is not supported: this server writes application/fhir+ndjson", f)
	}
	if v := q.Get("_since"); v != "" {
		if j.Since, err = time.Parse(time.RFC3339Nano, v); err != nil {
			return nil, fhir.Errorf(http.StatusBadRequest, "value", "_since", "_since must be a FHIR instant with a time zone (e.g. 2026-01-31T12:00:00Z), not %q", v)
		}
	}
	var named []string
	for _, v := range q["_type"] {
		for _, t := range strings.Split(v, ",") {
			t = strings.TrimSpace(t)
			if !fhir.IsResourceType(t) {
				return nil, fhir.Errorf(http.StatusBadRequest, "not-supported", "_type", "_type names %q, which is not an R4 resource type", t)
			}
			if j.Level != levelSystem && m.cfg.Compartment(t) == nil {
				return nil, fhir.Errorf(http.StatusBadRequest, "not-supported", "_type", "_type %s is outside the patient compartment: a %s-level export holds patient data only", t, j.Level)
			}
			if req.Access != nil && !req.Access.Allows("search-type", t) {
				return nil, fhir.Errorf(http.StatusForbidden, "security", "_type", "the access token does not allow reading %s (needs system/%s.rs)", t, t)
			}
			if !slices.Contains(named, t) {
				named = append(named, t)
			}
		}
	}
	err = m.cfg.Store.View(r.Context(), func(tx fhir.Tx) error {
		if j.Types, err = m.exportTypes(tx, req, j.Level, named); err != nil {
			return err
		}
		if err := m.typeFilters(tx, j, q["_typeFilter"]); err != nil {
			return err
		}
		if j.Level == levelGroup {
			if err := m.groupMembers(tx, j, req); err != nil {
				return err
			}
		}
		return m.restrictPatients(tx, j, patients)
	})
	return j, err
}

// exportTypes lists the types to write: those named by _type, or every type that has
// resources, lies in the export's level and that the token may read.
func (m *Manager) exportTypes(tx fhir.Tx, req *rest.Request, level string, named []string) ([]string, error) {
	if len(named) > 0 {
		return named, nil
	}
	var out []string
	for _, t := range fhir.ResourceTypes() {
		if level != levelSystem && m.cfg.Compartment(t) == nil {
			continue
		}
		if req.Access != nil && !req.Access.Allows("search-type", t) {
			continue
		}
		if n, err := tx.Count(t); err != nil {
			return nil, err
		} else if n > 0 {
			out = append(out, t)
		}
	}
	return out, nil
}

// typeFilters checks each _typeFilter (Type?query) against the exported types and
// the search engine, so that a bad filter is a 400 now rather than a failed job.
func (m *Manager) typeFilters(tx fhir.Tx, j *job, values []string) error {
	for _, v := range values {
		for _, f := range splitFilters(v) {
			typ, query, ok := strings.Cut(f, "?")
			if !ok || !fhir.IsResourceType(typ) {
				return fhir.Errorf(http.StatusBadRequest, "value", "_typeFilter", "_typeFilter %q is not Type?search-query", f)
			}
			if !slices.Contains(j.Types, typ) {
				return fhir.Errorf(http.StatusBadRequest, "value", "_typeFilter", "_typeFilter is on %s, which this export does not include (_type %s)", typ, strings.Join(j.Types, ","))
			}
			if _, err := m.cfg.Match(tx, typ, query); err != nil {
				fe := fhir.AsError(err)
				if fe.Status >= 500 {
					return err
				}
				return fhir.Errorf(http.StatusBadRequest, "value", "_typeFilter", "_typeFilter %q: %s", f, diagnostics(fe))
			}
			if j.TypeFilter == nil {
				j.TypeFilter = map[string][]string{}
			}
			j.TypeFilter[typ] = append(j.TypeFilter[typ], query)
		}
	}
	return nil
}

// splitFilters splits a _typeFilter value on the commas that start a new Type?query.
func splitFilters(v string) []string {
	var out []string
	for _, part := range strings.Split(v, ",") {
		if t, _, ok := strings.Cut(part, "?"); ok && fhir.IsResourceType(t) || len(out) == 0 {
			out = append(out, part)
		} else {
			out[len(out)-1] += "," + part
		}
	}
	return out
}

func diagnostics(fe *fhir.Error) string {
	if fe.Outcome != nil && len(fe.Outcome.Issue) > 0 {
		return fe.Outcome.Issue[0].Diagnostics
	}
	return "invalid search"
}

// groupMembers reads the Group's patients at kick-off.
func (m *Manager) groupMembers(tx fhir.Tx, j *job, req *rest.Request) error {
	rec, err := tx.Current("Group", j.Group)
	if err != nil || rec.Deleted {
		return fhir.Errorf(http.StatusNotFound, "not-found", "Group.id", "Group/%s is not known", j.Group)
	}
	if req.Access != nil && !req.Access.Allows("read", "Group") {
		return fhir.Errorf(http.StatusForbidden, "security", "", "the access token does not allow reading Group")
	}
	var g struct {
		Member []struct {
			Entity   struct{ Reference string } `json:"entity"`
			Inactive bool                       `json:"inactive"`
		} `json:"member"`
	}
	if err := json.Unmarshal(rec.Body, &g); err != nil {
		return err
	}
	for _, mb := range g.Member {
		ref := mb.Entity.Reference
		if i := strings.Index(ref, "Patient/"); i >= 0 && !mb.Inactive {
			j.Members = append(j.Members, strings.SplitN(ref[i+len("Patient/"):], "/", 2)[0])
		}
	}
	return nil
}

// restrictPatients applies the patient parameter (POST, Patient and Group levels):
// the export keeps those patients only, each of which must exist (and, for a Group,
// be a member).
func (m *Manager) restrictPatients(tx fhir.Tx, j *job, patients []string) error {
	if len(patients) == 0 {
		return nil
	}
	if j.Level == levelSystem {
		return fhir.Errorf(http.StatusBadRequest, "not-supported", "patient", "the patient parameter applies to Patient/$export and Group/[id]/$export only")
	}
	var keep []string
	for i, ref := range patients {
		typ, id, ok := strings.Cut(ref, "/")
		if !ok || typ != "Patient" {
			return fhir.Errorf(http.StatusBadRequest, "value", fmt.Sprintf("Parameters.parameter[%d].valueReference", i), "patient %q is not a Patient reference", ref)
		}
		if rec, err := tx.Current("Patient", id); err != nil || rec.Deleted {
			return fhir.Errorf(http.StatusBadRequest, "not-found", fmt.Sprintf("Parameters.parameter[%d].valueReference", i), "%s is not known", ref)
		}
		if j.Level == levelGroup && !slices.Contains(j.Members, id) {
			return fhir.Errorf(http.StatusBadRequest, "value", fmt.Sprintf("Parameters.parameter[%d].valueReference", i), "%s is not a member of Group/%s", ref, j.Group)
		}
		keep = append(keep, id)
	}
	j.Members = keep
	return nil
}

// kickOffQuery gathers the parameters from the query, or from a POST Parameters body
// (the patient parameter's references apart).
func kickOffQuery(req *rest.Request) (url.Values, []string, error) {
	q := url.Values{}
	for k, v := range req.Query {
		q[k] = v
	}
	if len(req.Body) == 0 {
		return q, nil, nil
	}
	var p struct {
		ResourceType string `json:"resourceType"`
		Parameter    []map[string]json.RawMessage
	}
	if err := json.Unmarshal(req.Body, &p); err != nil || p.ResourceType != "Parameters" {
		return nil, nil, fhir.Errorf(http.StatusBadRequest, "structure", "Parameters", "a POST $export takes a Parameters resource")
	}
	var patients []string
	for i, pp := range p.Parameter {
		var name string
		json.Unmarshal(pp["name"], &name)
		for k, raw := range pp {
			switch {
			case k == "valueReference" && name == "patient":
				var r struct{ Reference string }
				json.Unmarshal(raw, &r)
				patients = append(patients, r.Reference)
			case strings.HasPrefix(k, "value"):
				var s string
				if json.Unmarshal(raw, &s) != nil {
					return nil, nil, fhir.Errorf(http.StatusBadRequest, "value", fmt.Sprintf("Parameters.parameter[%d]", i), "parameter %s: a primitive value is expected", name)
				}
				q.Add(name, s)
			}
		}
	}
	return q, patients, nil
}

// requestURL is the kick-off URL for the manifest.
func (m *Manager) requestURL(r *http.Request, req *rest.Request) string {
	path := strings.TrimRight(m.cfg.BaseURL, "/") + "/"
	switch {
	case req.ID != "":
		path += fmt.Sprintf("%s/%s/", req.Type, req.ID)
	case req.Type != "":
		path += req.Type + "/"
	}
	path += "$export"
	if r.URL.RawQuery != "" {
		path += "?" + r.URL.RawQuery
	}
	return path
}

// respondAsync reports Prefer: respond-async.
func respondAsync(r *http.Request) bool {
	for _, h := range r.Header.Values("Prefer") {
		for _, p := range strings.Split(h, ",") {
			if strings.EqualFold(strings.TrimSpace(strings.Split(p, ";")[0]), "respond-async") {
				return true
			}
		}
	}
	return false
}
