package smart

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/search"
)

// AuditRequest describes one access for AuditEvent.
type AuditRequest struct {
	Method string
	Path   string // request path, e.g. /fhir/CarePlan/12
	Query  string // raw query string, recorded base64 (entity.query) as the spec asks
	// Interaction, when zero, is derived from Method.
	Interaction  Interaction
	ResourceType string
	ResourceID   string
	// PatientID is the patient whose data was reached (entity with role Patient).
	PatientID string
	// Outcome is the HTTP status returned.
	Outcome  int
	Recorded time.Time
	// Observer names the gateway instance (AuditEvent.source.observer.display).
	Observer string
	// SourceAddress is the client's network address (agent.network).
	SourceAddress string
	// Login, when set, makes the event a user authentication (see renderLogin)
	// rather than a RESTful operation.
	Login *LoginAttempt
}

// Code systems of the AuditEvent (R4 AuditEvent, IHE BALP "RESTful" pattern).
const (
	sysAuditType   = "http://terminology.hl7.org/CodeSystem/audit-event-type"
	sysInteraction = "http://hl7.org/fhir/restful-interaction"
	sysEntityType  = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
	sysObjectRole  = "http://terminology.hl7.org/CodeSystem/object-role"
	sysAgentType   = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
	sysSourceType  = "http://terminology.hl7.org/CodeSystem/security-source-type"
	sysDCM         = "http://dicom.nema.org/resources/ontology/DCM"
)

// methodAction is the AuditEvent.action of an HTTP method when no interaction is known.
var methodAction = map[string]string{
	http.MethodPost: "C", http.MethodGet: "R", http.MethodHead: "R",
	http.MethodPut: "U", http.MethodPatch: "U", http.MethodDelete: "D",
}

// AuditEvent renders the R4 AuditEvent of one access (without id and meta): agents =
// the client application and the user (fhirUser) when there is one, entities = the
// patient, the resource and the query (base64), outcome from the HTTP status (0
// success, 4 minor = client error, 8 serious = server error). grant may be nil
// (refused before authentication).
func AuditEvent(grant *Grant, req AuditRequest) []byte {
	return renderAudit(grant, req, "", time.Time{}).body
}

// renderedAudit is one AuditEvent as the audit log writes it: its JSON, the hash of
// its shape (the same JSON with every value that varies replaced by a fixed valid
// value of its primitive type, see auditCheck), those values, and its index entries,
// built from the same values (see TestAuditEntriesMatchIndex). The audit log reuses
// them from batch to batch.
type renderedAudit struct {
	id          string
	lastUpdated time.Time
	body        []byte
	shape       uint64
	leaves      []auditLeaf
	entries     search.Entries
}

// auditLeaf is one value of an AuditEvent that varies from event to event.
type auditLeaf struct {
	typ   string // R4 primitive type
	path  string // FHIRPath of the element, for the log when it is refused
	value string
}

// placeholders are valid values of each primitive type, written into the shape, as
// JSON strings.
var placeholders = map[string]string{
	"id": `"x"`, "string": `"x"`, "code": `"x"`, "uri": `"urn:x"`, "base64Binary": `"AAAA"`,
	"instant": `"2000-01-01T00:00:00Z"`,
}

// auditTypeEntries are the index entries of AuditEvent.type, the same on every event.
var auditTypeEntries = func() []fhir.IndexEntry {
	var e search.Entries
	e.Coding("type", sysAuditType, "rest", "RESTful Operation")
	return e.List()
}()

// renderAudit builds the AuditEvent of one access (see render).
func renderAudit(grant *Grant, req AuditRequest, id string, lastUpdated time.Time) *renderedAudit {
	a := &renderedAudit{}
	a.render(nil, nil, grant, req, id, lastUpdated, false)
	return a
}

// render builds the AuditEvent of one access into a, its JSON appended to arena (the
// grown arena is returned: the audit log keeps one for a batch's bodies), the keys of
// references remembered in refs (nil: none). id and lastUpdated, when set, are
// stamped as the store would (id, meta.versionId 1, meta.lastUpdated). With
// shapeOnly, the JSON is the shape itself, for its validation.
func (a *renderedAudit) render(refs *search.RefCache, arena []byte, grant *Grant, req AuditRequest, id string, lastUpdated time.Time, shapeOnly bool) []byte {
	if req.Recorded.IsZero() {
		req.Recorded = time.Now()
	}
	if req.Observer == "" {
		req.Observer = "aitgw"
	}
	if req.Login != nil {
		return a.renderLogin(refs, arena, req, id, lastUpdated, shapeOnly)
	}
	action := methodAction[req.Method]
	subtype := strings.ToLower(req.Method)
	if req.Interaction != 0 {
		action, subtype = interactionTable[req.Interaction].act, req.Interaction.String()
	}
	if action == "" {
		action = "E"
	}
	outcome := "0"
	switch {
	case req.Outcome >= 500:
		outcome = "8"
	case req.Outcome >= 400:
		outcome = "4"
	}
	start := len(arena)
	w := a.begin(refs, arena, id, lastUpdated, shapeOnly)
	w.raw(`,"type":{"system":"` + sysAuditType + `","code":"rest","display":"RESTful Operation"}`)
	a.entries.Append(auditTypeEntries...)
	w.raw(`,"subtype":[{"system":"`+sysInteraction+`","code":`).value("code", "AuditEvent.subtype.code", subtype).raw(`}]`)
	a.entries.Coding("subtype", sysInteraction, subtype, "")
	w.raw(`,"action":"`).raw(action).raw(`"`)
	a.entries.Code("action", action)
	recorded := req.Recorded.UTC().Format(time.RFC3339Nano)
	w.raw(`,"recorded":`).value("instant", "AuditEvent.recorded", recorded)
	a.entries.Instant("date", recorded)
	w.raw(`,"outcome":"`).raw(outcome).raw(`"`)
	a.entries.Code("outcome", outcome)
	if desc := http.StatusText(req.Outcome); req.Outcome != 0 && desc != "" {
		w.raw(`,"outcomeDesc":`).value("string", "AuditEvent.outcomeDesc", desc)
	}
	w.raw(`,"agent":[`)
	w.clientAgent(grant, req.SourceAddress)
	switch {
	case grant != nil && strings.HasPrefix(grant.FHIRUser, "#"):
		// a local reference with nothing contained breaks ref-1: the user is named
		w.raw(`,{"type":{"coding":[{"system":"`+sysAgentType+`","code":"IRCP","display":"information recipient"}]},"who":{"display":`).
			value("string", "AuditEvent.agent[1].who.display", grant.FHIRUser).raw(`},"requestor":true}`)
	case grant != nil && grant.FHIRUser != "":
		w.raw(`,{"type":{"coding":[{"system":"`+sysAgentType+`","code":"IRCP","display":"information recipient"}]},"who":{"reference":`).
			value("string", "AuditEvent.agent[1].who.reference", grant.FHIRUser).raw(`},"requestor":true}`)
		w.references(grant.FHIRUser, "agent")
	}
	w.raw(`],"source":{"observer":{"display":`).value("string", "AuditEvent.source.observer.display", req.Observer).
		raw(`},"type":[{"system":"` + sysSourceType + `","code":"3","display":"Web Server"}]}`)
	w.entities(grant, req)
	w.raw(`}`)
	a.body = w.buf[start:len(w.buf):len(w.buf)]
	a.shape = w.h.Sum64()
	return w.buf
}

// clientAgent writes the agent of the client application.
func (w *auditWriter) clientAgent(grant *Grant, address string) {
	w.raw(`{"type":{"coding":[{"system":"` + sysDCM + `","code":"110150","display":"Application"}]}`)
	if grant != nil && grant.ClientID != "" {
		w.raw(`,"who":{"identifier":{"value":`).value("string", "AuditEvent.agent[0].who.identifier.value", grant.ClientID).
			raw(`},"display":`).value("string", "AuditEvent.agent[0].who.display", grant.ClientID).raw(`}`)
		w.r.entries.Reference("agent", "", "", clean("string", grant.ClientID))
	} else {
		w.raw(`,"who":{"display":"unauthenticated"}`)
	}
	w.raw(`,"requestor":` + strconv.FormatBool(grant == nil || grant.FHIRUser == ""))
	// one policy per scope: each is a uri, and a uri holds no space
	if grant != nil && len(grant.Scopes)+len(grant.Other) > 0 {
		w.raw(`,"policy":[`)
		for i, s := range strings.Fields(grant.ScopeString()) {
			if i > 0 {
				w.raw(`,`)
			}
			w.value("uri", "AuditEvent.agent[0].policy["+strconv.Itoa(i)+"]", s)
		}
		w.raw(`]`)
	}
	if address != "" {
		w.raw(`,"network":{"address":`).value("string", "AuditEvent.agent[0].network.address", address).raw(`,"type":"2"}`)
	}
	w.raw(`}`)
}

// entities writes the patient, the resource and the query reached.
func (w *auditWriter) entities(grant *Grant, req AuditRequest) {
	patient := req.PatientID
	if patient == "" && grant != nil {
		patient = grant.PatientContext()
	}
	resource := w.resourceRef(req)
	// the query only when the path says more than the resource entity
	query := req.Query != "" || req.Path != "" && !strings.HasSuffix(req.Path, "/"+resource)
	if patient == "" && resource == "" && !query {
		return // entity is optional, and an empty array is not FHIR JSON
	}
	w.raw(`,"entity":[`)
	sep := ""
	if patient != "" {
		ref := "Patient/" + patient
		w.raw(`{"what":{"reference":`).value("string", "AuditEvent.entity.what.reference", ref).
			raw(`},"type":{"system":"` + sysEntityType + `","code":"1","display":"Person"},"role":{"system":"` + sysObjectRole + `","code":"1","display":"Patient"}}`)
		w.references(ref, "entity")
		sep = ","
	}
	if resource != "" {
		w.raw(sep).raw(`{"what":{"reference":`).value("string", "AuditEvent.entity.what.reference", resource).
			raw(`},"type":{"system":"` + sysEntityType + `","code":"2","display":"System Object"},"role":{"system":"` + sysObjectRole + `","code":"4","display":"Domain Resource"}}`)
		w.references(resource, "entity")
		sep = ","
	}
	if query {
		q := req.Path
		if req.Query != "" {
			q += "?" + req.Query
		}
		w.raw(sep).raw(`{"type":{"system":"`+sysEntityType+`","code":"2","display":"System Object"},"role":{"system":"`+sysObjectRole+`","code":"24","display":"Query"},"query":`).
			value("base64Binary", "AuditEvent.entity.query", base64.StdEncoding.EncodeToString([]byte(q))).raw(`}`)
	}
	w.raw(`]`)
}

// resourceRef is the reference of the resource (or type) a request reached.
func (w *auditWriter) resourceRef(req AuditRequest) string {
	if req.ResourceType == "" || req.ResourceID == "" {
		return req.ResourceType
	}
	return req.ResourceType + "/" + req.ResourceID
}

// references indexes a literal reference under param and, when it names a Patient,
// under "patient" too (its expression is `….where(resolve() is Patient)`).
func (w *auditWriter) references(ref, param string) {
	ref = clean("string", ref)
	if w.r.entries.LiteralReference(w.refs, param, ref) == "Patient" {
		w.r.entries.LiteralReference(w.refs, "patient", ref)
	}
}

// record returns the stored form of the event with its index entries.
func (a *renderedAudit) record() (*fhir.Record, []fhir.IndexEntry) {
	return &fhir.Record{Type: "AuditEvent", ID: a.id, Version: 1, LastUpdated: a.lastUpdated, Method: http.MethodPost, Body: a.body},
		a.entries.List()
}

// begin starts rendering an event into arena: the resource type, and the id and meta
// the store would stamp (with their index entries) when id is set.
func (a *renderedAudit) begin(refs *search.RefCache, arena []byte, id string, lastUpdated time.Time, shapeOnly bool) *auditWriter {
	a.id, a.lastUpdated, a.leaves = id, lastUpdated, a.leaves[:0]
	a.entries.Reset()
	w := &auditWriter{r: a, buf: arena, shapeOnly: shapeOnly, refs: refs}
	w.h.SetSeed(shapeSeed)
	w.raw(`{"resourceType":"AuditEvent"`)
	if id != "" {
		stamp := lastUpdated.UTC().Format(time.RFC3339Nano)
		w.raw(`,"id":`).value("id", "AuditEvent.id", id)
		w.raw(`,"meta":{"versionId":"1","lastUpdated":`).value("instant", "AuditEvent.meta.lastUpdated", stamp).raw(`}`)
		a.entries.Code("_id", id)
		a.entries.Instant("_lastUpdated", stamp)
	}
	return w
}
