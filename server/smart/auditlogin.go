package smart

import (
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/search"
)

// Codes of a login AuditEvent (DICOM PS3.15 A.5.3.8 "User Authentication", as IHE
// BALP and ATNA record it).
const (
	dcmUserAuthentication = "110114"
	dcmLogin              = "110122"
)

// loginTypeEntries are the index entries of a login event's type.
var loginTypeEntries = func() []fhir.IndexEntry {
	var e search.Entries
	e.Coding("type", sysDCM, dcmUserAuthentication, "User Authentication")
	return e.List()
}()

// Login queues the AuditEvent of a login, failed or not (LoginAuditor).
func (l *AuditLog) Login(a LoginAttempt) {
	l.add(pendingAudit{req: AuditRequest{Login: &a, Outcome: a.Status, Recorded: a.When,
		Observer: l.observer, SourceAddress: a.Address}})
}

// renderLogin builds the AuditEvent of a login (render's counterpart): type User
// Authentication, subtype Login, action E, outcome 0 or 4 (wrong credentials, locked
// out), the user as the requesting agent (the account name tried as altId, the
// fhirUser once known) with the network address.
func (a *renderedAudit) renderLogin(refs *search.RefCache, arena []byte, req AuditRequest, id string, lastUpdated time.Time, shapeOnly bool) []byte {
	la := req.Login
	outcome := "0"
	if !la.Success {
		outcome = "4"
	}
	start := len(arena)
	w := a.begin(refs, arena, id, lastUpdated, shapeOnly)
	w.raw(`,"type":{"system":"` + sysDCM + `","code":"` + dcmUserAuthentication + `","display":"User Authentication"}`)
	a.entries.Append(loginTypeEntries...)
	w.raw(`,"subtype":[{"system":"` + sysDCM + `","code":"` + dcmLogin + `","display":"Login"}]`)
	a.entries.Coding("subtype", sysDCM, dcmLogin, "")
	w.raw(`,"action":"E"`)
	a.entries.Code("action", "E")
	recorded := req.Recorded.UTC().Format(time.RFC3339Nano)
	w.raw(`,"recorded":`).value("instant", "AuditEvent.recorded", recorded)
	a.entries.Instant("date", recorded)
	w.raw(`,"outcome":"` + outcome + `"`)
	a.entries.Code("outcome", outcome)
	desc := "login refused: wrong credentials"
	switch {
	case la.Success:
		desc = "login succeeded"
	case la.Status == 429:
		desc = "login refused: locked out after repeated failures"
	}
	w.raw(`,"outcomeDesc":"` + desc + `"`)
	w.raw(`,"agent":[{"type":{"coding":[{"system":"` + sysDCM + `","code":"110153","display":"Source Role ID"}]},"who":{`)
	if la.FHIRUser != "" {
		w.raw(`"reference":`).value("string", "AuditEvent.agent[0].who.reference", la.FHIRUser).raw(`,`)
		w.references(la.FHIRUser, "agent")
	}
	w.raw(`"display":`).value("string", "AuditEvent.agent[0].who.display", la.User)
	w.raw(`},"altId":`).value("string", "AuditEvent.agent[0].altId", la.User)
	w.raw(`,"requestor":true`)
	if req.SourceAddress != "" {
		w.raw(`,"network":{"address":`).value("string", "AuditEvent.agent[0].network.address", req.SourceAddress).raw(`,"type":"2"}`)
	}
	w.raw(`}],"source":{"observer":{"display":`).value("string", "AuditEvent.source.observer.display", req.Observer).
		raw(`},"type":[{"system":"` + sysSourceType + `","code":"3","display":"Web Server"}]}`)
	w.raw(`}`)
	a.body = w.buf[start:len(w.buf):len(w.buf)]
	a.shape = w.h.Sum64()
	return w.buf
}
