package mapping

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/mapping/rules"
)

// IntakeOptions configures Intake.
type IntakeOptions struct {
	// Received is when the gateway received the referral: the pathway's referral
	// date and, when the dossier is complete, the start of the RCP's 15 days (000 §VI).
	Received time.Time
	// ProfileGaps are what the referral profile found missing (the validation of a
	// first mapping): a dossier is complete for the intake only if it is for the
	// profile too, so that intake, profile and $ait-dossier-status agree (000 §V.2).
	ProfileGaps []fhir.Issue
}

// IntakeResult is the rewritten referral and what the mapping found.
type IntakeResult struct {
	// Bundle is the transaction to commit: profiles assigned, normalised values added,
	// dossier linked, entries conditional on identifiers, pathway CarePlan appended.
	Bundle []byte
	// Issues reports what could not be mapped (kept as sent) and what was derived.
	Issues  []fhir.Issue
	Dossier Dossier
	// OME is the daily oral morphine equivalent of the referral's medication review
	// (000 §IX.1.a), the basis of the indication (000 §IV).
	OME        OMEResult
	Pathway    Pathway
	Milestones []Milestone
}

// Intake maps a referral transaction Bundle to the AIT dossier (000 §V). Submitted
// values are never changed: the mapping only adds (profiles, extensions, identifiers
// derived for resources sent without one, references, the CarePlan). Resources it does
// not recognise are kept as sent and reported.
func Intake(bundle []byte, opts IntakeOptions) (*IntakeResult, error) {
	if _, ferr := fhir.ParseResource(bundle); ferr != nil {
		return nil, ferr
	}
	b, err := decodeObject(bundle)
	if err != nil || str(b, "resourceType") != "Bundle" || str(b, "type") != "transaction" {
		return nil, fhir.Errorf(http.StatusBadRequest, "structure", "Bundle.type", "a referral is a transaction Bundle (000 §V.2)")
	}
	if opts.Received.IsZero() {
		opts.Received = time.Now().UTC()
	}
	res := &IntakeResult{}
	raw := arr(b, "entry")
	entries := objs(b, "entry")
	if len(entries) != len(raw) {
		res.Issues = append(res.Issues, issue(fhir.SeverityWarning, "structure", "Bundle.entry", "entries that are not JSON objects are kept as sent"))
	}
	patientKeys := patientKeysOf(entries)
	var referral object
	var referralURL string
	var linked []string
	for i, e := range entries {
		r := obj(e, "resource")
		where := fmt.Sprintf("Bundle.entry[%d]", i)
		if r == nil {
			res.Issues = append(res.Issues, issue(fhir.SeverityWarning, "structure", where, "entry without a resource kept as sent"))
			continue
		}
		original, _ := json.Marshal(r)
		if str(e, "fullUrl") == "" {
			e["fullUrl"] = "urn:uuid:" + uuidFrom(original)
		}
		rec, known := recognise(r)
		if !known {
			res.Issues = append(res.Issues, issue(fhir.SeverityWarning, "not-supported", where+".resource",
				fmt.Sprintf("%s not recognised by its codes as part of an AIT referral: kept as sent, not mapped (000 §V.2)", str(r, "resourceType"))))
		} else {
			if rec.Profile != "" {
				addProfile(r, rec.Profile)
			}
			if addProfileCode(r, rec.Profile) {
				res.Issues = append(res.Issues, issue(fhir.SeverityInformation, "informational", where+".resource.code",
					"the LOINC coding the guide's profile fixes was added beside the codes sent (000 §V.2)"))
			}
			if rec.Lab != nil {
				res.Issues = append(res.Issues, addNormalised(r, *rec.Lab, where)...)
			}
			if str(r, "resourceType") == "Practitioner" {
				res.Issues = append(res.Issues, addRPPS(r, where)...)
			}
			if rec.Element != "" {
				res.Dossier.Evidence = append(res.Dossier.Evidence, evidenceOf(r, rec, str(e, "fullUrl")))
				linked = append(linked, str(e, "fullUrl"))
			}
			if str(r, "resourceType") == "ServiceRequest" && (referral == nil || !isReferralCoded(referral) && isReferralCoded(r)) {
				referral, referralURL = r, str(e, "fullUrl")
				res.Dossier.ReferralDate, _ = parseDate(str(r, "authoredOn"))
			}
		}
		before := str(obj(e, "request"), "ifNoneExist")
		res.Issues = append(res.Issues, makeConditional(e, r, original, where)...)
		if after := str(obj(e, "request"), "ifNoneExist"); after != before && str(r, "resourceType") != "Patient" {
			scopeToPatient(e, r, patientKeys)
		}
	}
	if referral == nil {
		return nil, fhir.Errorf(http.StatusUnprocessableEntity, "required", "Bundle.entry.resource.ofType(ServiceRequest)",
			"a referral needs its ServiceRequest (000 §V.2)")
	}
	if err := checkReferralPatient(entries, referral); err != nil {
		return nil, err
	}
	kind := rules.ReferralCode{Pathway: KindAIT, Fact: rules.FactReferral}
	if rc, ok := referralKind(referral); ok {
		kind = rc
	}
	if kind.Pathway == KindAIT {
		linkDossier(referral, linked, aliasesOf(entries))
		res.OME = OME(statementsOf(entries))
	} else {
		withdrawProfile(referral, ProfileReferral) // the AIT referral profile is not the IR request's
	}
	subject := ""
	if s := obj(referral, "subject"); s != nil {
		subject = str(s, "reference")
	}
	if e, ref, ok := omeEntry(res.OME, subject, careplanIdentifier(referral, referralURL), opts.Received); ok && !sendsOME(entries) { // the OME as computed (000 §IV), unless the sender gave it
		raw = append(raw, e)
		linkDossier(referral, []string{ref}, nil)
	}
	res.Pathway = NewPathway(kind.Pathway, subject, referralURL, careplanIdentifier(referral, referralURL))
	res.Pathway, res.Milestones, err = Apply(res.Pathway, Event{Fact: kind.Fact, At: opts.Received})
	if err != nil {
		return nil, err
	}
	if kind.Pathway != KindAIT {
		// the IR request has no dossier of 000 §V: its prerequisites are checked at its steps (003, 004)
	} else if missing := append(CheckDossier(res.Dossier, opts.Received), opts.ProfileGaps...); len(missing) > 0 {
		res.Milestones = append(res.Milestones, DossierIncomplete(opts.Received, missing))
	} else {
		var ms []Milestone
		res.Pathway, ms, err = Apply(res.Pathway, Event{Fact: rules.FactDossierComplete, At: opts.Received})
		if err != nil {
			return nil, err
		}
		res.Milestones = append(res.Milestones, ms...)
	}
	cp, _ := decodeObject(CarePlanJSON(res.Pathway))
	cpEntry := map[string]any{
		"fullUrl":  "urn:uuid:" + uuidFrom([]byte("careplan|"+res.Pathway.Identifier)),
		"resource": cp,
		"request": map[string]any{"method": "POST", "url": "CarePlan",
			"ifNoneExist": "identifier=" + url.QueryEscape(IdentifierCarePlan) + "|" + url.QueryEscape(res.Pathway.Identifier)},
	}
	scopeToPatient(cpEntry, cp, patientKeys)
	raw = append(raw, cpEntry)
	b["entry"] = raw
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(b); err != nil {
		return nil, fhir.AsError(err)
	}
	res.Bundle = bytes.TrimSpace(buf.Bytes())
	return res, nil
}

// isReferralCoded reports whether a ServiceRequest carries a referral code.
func isReferralCoded(m object) bool { _, ok := referralKind(m); return ok }

// withdrawProfile removes profile from meta.profile.
func withdrawProfile(r object, profile string) {
	meta := obj(r, "meta")
	var keep []any
	for _, p := range arr(meta, "profile") {
		if p != profile {
			keep = append(keep, p)
		}
	}
	if meta != nil {
		if len(keep) == 0 {
			delete(meta, "profile")
		} else {
			meta["profile"] = keep
		}
		if len(meta) == 0 {
			delete(r, "meta") // R4 allows no empty object
		}
	}
}

// DossierIncomplete is the "dossier incomplete (what is missing)" milestone (000
// §V-VI) for the issues CheckDossier found; its detail counts them (no patient data).
func DossierIncomplete(at time.Time, missing []fhir.Issue) Milestone {
	m, _ := rules.MilestoneByCode(rules.MilestoneDossierIncomplete)
	return milestone(m, at, rules.FactDossierComplete,
		fmt.Sprintf("%d dossier elements missing, stale or out of range", len(missing)), false)
}

func issue(sev, code, expr, msg string) fhir.Issue {
	return fhir.Issue{Severity: sev, Code: code, Diagnostics: msg, Expression: []string{expr}}
}

// uuidFrom derives a stable UUID (version 8, RFC 9562) from content, so that the same
// referral always gets the same generated fullUrls and identifiers.
func uuidFrom(content []byte) string {
	h := sha256.Sum256(content)
	h[6] = h[6]&0x0f | 0x80
	h[8] = h[8]&0x3f | 0x80
	x := hex.EncodeToString(h[:16])
	return x[:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

// addProfile appends profile to meta.profile unless present; the other meta elements
// and the profiles already claimed (FR Core…) stay.
func addProfile(r object, profile string) {
	if _, present := r["meta"]; !present {
		r["meta"] = object{}
	}
	meta := obj(r, "meta")
	if meta == nil {
		return // malformed meta: kept as sent
	}
	for _, p := range arr(meta, "profile") {
		if p == profile {
			return
		}
	}
	appendTo(meta, "profile", profile)
}

// addNormalised adds the value in the lab's canonical unit as an extension; the
// submitted valueQuantity is left as it is.
func addNormalised(r object, lab rules.Lab, where string) []fhir.Issue {
	q, ok := quantityOf(obj(r, "valueQuantity"))
	if !ok {
		return []fhir.Issue{issue(fhir.SeverityWarning, "value", where+".resource.value",
			fmt.Sprintf("%s has no numeric valueQuantity: kept as sent (%s)", lab.Display, lab.Section))}
	}
	n, err := Normalise(lab, q)
	if err != nil {
		return []fhir.Issue{issue(fhir.SeverityWarning, "value", where+".resource.valueQuantity.code", err.Error()+": kept as sent")}
	}
	appendTo(r, "extension", map[string]any{"url": ExtNormalisedValue, "valueQuantity": map[string]any{
		"value": formatNumber(n.Value), "unit": n.Unit, "system": SystemUCUM, "code": n.Unit}})
	return nil
}

// makeConditional makes a POST entry conditional on the resource's identifier
// (ifNoneExist), deriving an intake identifier from the content when it has none, so
// that the same referral posted twice creates nothing twice.
func makeConditional(e, r object, original []byte, where string) []fhir.Issue {
	if _, present := e["request"]; present && obj(e, "request") == nil {
		return []fhir.Issue{issue(fhir.SeverityWarning, "structure", where+".request", "request is not an object: kept as sent, not made conditional")}
	}
	req := obj(e, "request")
	if req == nil {
		req = object{"method": "POST", "url": str(r, "resourceType")}
		e["request"] = req
	}
	if str(req, "method") != "POST" || str(req, "ifNoneExist") != "" {
		return nil // PUT, conditional already, or other: as the sender meant it
	}
	if str(r, "resourceType") == "Patient" {
		if q := patientCondition(r); q != "" {
			req["ifNoneExist"] = q // the patient's identity, not any identifier (see Identity)
			return nil
		}
	}
	system, value := "", ""
	for _, id := range objs(r, "identifier") {
		if str(id, "system") != "" && str(id, "value") != "" {
			system, value = str(id, "system"), str(id, "value")
			break
		}
	}
	var issues []fhir.Issue
	if value == "" {
		system, value = IdentifierIntake, uuidFrom(original)
		if !appendTo(r, "identifier", map[string]any{"system": system, "value": value}) {
			return []fhir.Issue{issue(fhir.SeverityWarning, "structure", where+".resource.identifier",
				"identifier is not an array: the entry cannot be made conditional and is kept as sent")}
		}
		issues = append(issues, issue(fhir.SeverityInformation, "informational", where+".resource.identifier",
			"no identifier sent: the gateway derived one from the content so that a repeated referral creates nothing twice"))
	}
	req["ifNoneExist"] = "identifier=" + url.QueryEscape(system) + "|" + url.QueryEscape(value)
	return issues
}

// linkDossier adds the dossier elements to ServiceRequest.supportingInfo unless
// already referenced, by fullUrl or by Type/id (aliases: fullUrl to Type/id).
func linkDossier(sr object, refs []string, aliases map[string]string) {
	have := map[string]bool{}
	for _, s := range objs(sr, "supportingInfo") {
		have[str(s, "reference")] = true
	}
	for _, ref := range refs {
		if !have[ref] && (aliases[ref] == "" || !have[aliases[ref]]) {
			appendTo(sr, "supportingInfo", map[string]any{"reference": ref})
			have[ref] = true
		}
	}
}

// careplanIdentifier derives the pathway CarePlan's identifier from the referral's.
func careplanIdentifier(sr object, fullURL string) string {
	for _, id := range objs(sr, "identifier") {
		if str(id, "value") != "" {
			return uuidFrom([]byte(str(id, "system") + "|" + str(id, "value")))
		}
	}
	return uuidFrom([]byte(fullURL))
}

// sendsOME reports whether the Bundle carries its own oral morphine equivalent
// Observation (the guide's example referral does): the dossier takes one (000 §IV).
func sendsOME(entries []object) bool {
	for _, e := range entries {
		r := obj(e, "resource")
		if str(r, "resourceType") != "Observation" {
			continue
		}
		for _, c := range objs(obj(r, "code"), "coding") {
			if str(c, "system") == CodeSystemAIT && str(c, "code") == "oral-morphine-equivalent" {
				return true
			}
		}
	}
	return false
}

// statementsOf returns the MedicationStatements of the entries.
func statementsOf(entries []object) [][]byte {
	var out [][]byte
	for _, e := range entries {
		if r := obj(e, "resource"); str(r, "resourceType") == "MedicationStatement" {
			b, _ := json.Marshal(r)
			out = append(out, b)
		}
	}
	return out
}

// addRPPS adds the RPPS identifier (system IdentifierRPPS, 11 digits) that a
// practitioner's French national health-professional identifier already holds: FR
// Core sends it as IdNat_PS (IdentifierIdNatPS), "8" followed by the RPPS number. The
// submitted identifier stays; the RPPS one is added beside it.
func addRPPS(r object, where string) []fhir.Issue {
	var idnat string
	for _, id := range objs(r, "identifier") {
		switch str(id, "system") {
		case IdentifierRPPS:
			return nil // already there
		case IdentifierIdNatPS:
			if v := str(id, "value"); len(v) == 12 && v[0] == '8' && allDigits(v[1:]) {
				idnat = v
			}
		}
	}
	if idnat == "" {
		return nil
	}
	appendTo(r, "identifier", map[string]any{"system": IdentifierRPPS, "value": idnat[1:]})
	return []fhir.Issue{issue(fhir.SeverityInformation, "informational", where+".resource.identifier",
		"RPPS number read from the IdNat_PS identifier (8 + RPPS) and added beside it")}
}

func allDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// aliasesOf maps each entry's fullUrl to the Type/id its resource also goes by.
func aliasesOf(entries []object) map[string]string {
	out := map[string]string{}
	for _, e := range entries {
		if r := obj(e, "resource"); str(r, "id") != "" {
			out[str(e, "fullUrl")] = str(r, "resourceType") + "/" + str(r, "id")
		}
	}
	return out
}
