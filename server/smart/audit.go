package smart

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"
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
}

// Code systems of the AuditEvent (R4 AuditEvent, IHE BALP "RESTful" pattern).
const (
	sysAuditType   = "http://terminology.hl7.org/CodeSystem/audit-event-type"
	sysInteraction = "http://hl7.org/fhir/restful-interaction"
	sysEntityType  = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
	sysObjectRole  = "http://terminology.hl7.org/CodeSystem/object-role"
	sysAgentType   = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
	sysSourceType  = "http://terminology.hl7.org/CodeSystem/security-source-type"
)

// methodAction is the AuditEvent.action of an HTTP method when no interaction is known.
var methodAction = map[string]string{
	http.MethodPost: "C", http.MethodGet: "R", http.MethodHead: "R",
	http.MethodPut: "U", http.MethodPatch: "U", http.MethodDelete: "D",
}

// AuditEvent renders the R4 AuditEvent of one access: agents = the client application
// and the user (fhirUser) when there is one, entities = the patient, the resource and
// the query (base64), outcome from the HTTP status (0 success, 4 minor = client error,
// 8 serious = server error). grant may be nil (refused before authentication).
func AuditEvent(grant *Grant, req AuditRequest) []byte {
	if req.Recorded.IsZero() {
		req.Recorded = time.Now()
	}
	if req.Observer == "" {
		req.Observer = "aitgw"
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
	ev := map[string]any{
		"resourceType": "AuditEvent",
		"type":         coding(sysAuditType, "rest", "RESTful Operation"),
		"subtype":      []any{coding(sysInteraction, subtype, "")},
		"action":       action,
		"recorded":     req.Recorded.UTC().Format(time.RFC3339Nano),
		"outcome":      outcome,
		"source": map[string]any{
			"observer": map[string]any{"display": req.Observer},
			"type":     []any{coding(sysSourceType, "3", "Web Server")},
		},
	}
	if req.Outcome != 0 {
		ev["outcomeDesc"] = http.StatusText(req.Outcome)
	}
	ev["agent"] = auditAgents(grant, req)
	ev["entity"] = auditEntities(grant, req)
	b, _ := json.Marshal(ev) // maps of strings: cannot fail
	return b
}

func auditAgents(grant *Grant, req AuditRequest) []any {
	client := map[string]any{
		"type":      map[string]any{"coding": []any{coding("http://dicom.nema.org/resources/ontology/DCM", "110150", "Application")}},
		"requestor": grant == nil || grant.FHIRUser == "",
	}
	if grant != nil && grant.ClientID != "" {
		client["who"] = map[string]any{"identifier": map[string]any{"value": grant.ClientID}, "display": grant.ClientID}
	} else {
		client["who"] = map[string]any{"display": "unauthenticated"}
	}
	if grant != nil && len(grant.Scopes)+len(grant.Other) > 0 {
		client["policy"] = []string{grant.ScopeString()}
	}
	if req.SourceAddress != "" {
		client["network"] = map[string]any{"address": req.SourceAddress, "type": "2"}
	}
	agents := []any{client}
	if grant != nil && grant.FHIRUser != "" {
		agents = append(agents, map[string]any{
			"type":      map[string]any{"coding": []any{coding(sysAgentType, "IRCP", "information recipient")}},
			"who":       map[string]any{"reference": grant.FHIRUser},
			"requestor": true,
		})
	}
	return agents
}

func auditEntities(grant *Grant, req AuditRequest) []any {
	var ents []any
	patient := req.PatientID
	if patient == "" && grant != nil {
		patient = grant.PatientContext()
	}
	if patient != "" {
		ents = append(ents, map[string]any{
			"what": map[string]any{"reference": "Patient/" + patient},
			"type": coding(sysEntityType, "1", "Person"),
			"role": coding(sysObjectRole, "1", "Patient"),
		})
	}
	if req.ResourceType != "" {
		ref := req.ResourceType
		if req.ResourceID != "" {
			ref += "/" + req.ResourceID
		}
		ents = append(ents, map[string]any{
			"what": map[string]any{"reference": ref},
			"type": coding(sysEntityType, "2", "System Object"),
			"role": coding(sysObjectRole, "4", "Domain Resource"),
		})
	}
	if req.Query != "" || req.Path != "" {
		q := req.Path
		if req.Query != "" {
			q += "?" + req.Query
		}
		ents = append(ents, map[string]any{
			"type":  coding(sysEntityType, "2", "System Object"),
			"role":  coding(sysObjectRole, "24", "Query"),
			"query": base64.StdEncoding.EncodeToString([]byte(q)),
		})
	}
	return ents
}

func coding(system, code, display string) map[string]any {
	c := map[string]any{"system": system, "code": code}
	if display != "" {
		c["display"] = display
	}
	return c
}
