// Package summary builds the International Patient Summary (IPS, hl7.fhir.uv.ips
// 2.0.0) of a patient of the AIT or IR pathway, on demand: a Bundle of type document
// whose Composition (LOINC 60591-5) has the sections a regional DMP / messaging hub
// expects, with French narratives. It reads the patient's record; it writes nothing.
package summary

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/mapping"
)

// IPS canonical URLs.
const (
	ipsBase        = "http://hl7.org/fhir/uv/ips/StructureDefinition/"
	ProfileBundle  = ipsBase + "Bundle-uv-ips"
	ProfileCompose = ipsBase + "Composition-uv-ips"
)

// Input is what Build needs besides the record.
type Input struct {
	// Patient is the patient's logical id.
	Patient string
	// Base is the server's FHIR base: entries' fullUrl are base/Type/id.
	Base string
	// Now is the document's date.
	Now time.Time
	// Allowed reports whether the reader may see resources of a type (nil: all); a
	// section whose types it may not see says so (emptyReason withheld).
	Allowed func(typ string) bool
}

// doc is a document being assembled.
type doc struct {
	in      Input
	rec     mapping.Records
	entries []fhir.BundleEntry
	seen    map[string]bool // Type/id already in the Bundle
}

// Build returns the patient's IPS document (Bundle JSON). A patient unknown or
// deleted is a 404.
func Build(rec mapping.Records, in Input) ([]byte, error) {
	pb, err := rec.Read("Patient", in.Patient)
	if err != nil || pb == nil {
		return nil, fhir.Errorf(http.StatusNotFound, "not-found", "Patient.id", "Patient/%s is not known", in.Patient)
	}
	d := &doc{in: in, rec: rec, seen: map[string]bool{}}
	patient := decode(pb)
	comp := map[string]any{
		"resourceType": "Composition",
		"meta":         map[string]any{"profile": []any{ProfileCompose}},
		"status":       "final",
		"type": map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": "60591-5",
			"display": "Patient summary Document"}}},
		"subject":  map[string]any{"reference": "Patient/" + in.Patient},
		"date":     in.Now.UTC().Format(time.RFC3339),
		"title":    "Synthèse médicale (IPS) — " + displayName(patient),
		"language": "fr-FR",
	}
	comp["text"] = narrative(fmt.Sprintf("Synthèse médicale du patient %s, établie le %s par la passerelle AIT.",
		displayName(patient), frDate(in.Now.Format("2006-01-02"))))
	compURL := d.uuid("Composition", in.Patient, in.Now.Format(time.RFC3339Nano))
	d.entries = append(d.entries, fhir.BundleEntry{FullURL: compURL})
	d.add("Patient", in.Patient, withProfile(patient, ipsBase+"Patient-uv-ips"))

	var sections []any
	author, gp := d.people(patient)
	comp["author"] = []any{map[string]any{"reference": author}}
	if gp != "" {
		// the GP (médecin traitant) is a participant of the patient's care: the one
		// IPS element that names a professional for a document is the attester
		comp["attester"] = []any{map[string]any{"mode": "professional", "party": map[string]any{"reference": gp}}}
	}
	for _, s := range sectionOrder {
		sections = append(sections, s(d))
	}
	comp["section"] = sections
	d.entries[0].Resource = marshal(comp)

	b := fhir.NewBundle("document")
	b.ID = idFrom("bundle", in.Patient, in.Now.Format(time.RFC3339Nano))
	b.Timestamp = in.Now.UTC().Format(time.RFC3339)
	b.Entry = d.entries
	out := map[string]any{}
	json.Unmarshal(b.JSON(), &out)
	out["identifier"] = map[string]any{"system": "urn:ietf:rfc:3986", "value": "urn:uuid:" + b.ID}
	out["meta"] = map[string]any{"profile": []any{ProfileBundle}}
	return marshal(out), nil
}

// people adds the author (the pathway's coordinating algologist, else the GP, else
// the gateway as a Device) and the GP; it returns their references.
func (d *doc) people(patient map[string]any) (author, gp string) {
	for _, ref := range refs(patient["generalPractitioner"]) {
		if typ, id := split(ref); typ == "Practitioner" || typ == "PractitionerRole" || typ == "Organization" {
			if d.include(typ, id) {
				gp = typ + "/" + id
				break
			}
		}
	}
	for _, cp := range d.search("CarePlan", "subject=Patient/"+d.in.Patient) {
		if typ, id := split(str(cp, "author", "reference")); typ == "Practitioner" && d.include(typ, id) {
			return typ + "/" + id, gp
		}
	}
	if gp != "" {
		return gp, gp
	}
	dev := map[string]any{"resourceType": "Device", "deviceName": []any{map[string]any{"name": "Passerelle AIT (aitgw)", "type": "user-friendly-name"}}}
	u := d.uuid("Device", "aitgw")
	d.entries = append(d.entries, fhir.BundleEntry{FullURL: u, Resource: marshal(dev)})
	return u, ""
}

// include adds a stored resource to the Bundle (once); false when it cannot be read.
func (d *doc) include(typ, id string) bool {
	if d.seen[typ+"/"+id] {
		return true
	}
	if d.in.Allowed != nil && !d.in.Allowed(typ) {
		return false
	}
	b, err := d.rec.Read(typ, id)
	if err != nil || b == nil {
		return false
	}
	d.add(typ, id, decode(b))
	return true
}

// add puts a resource in the Bundle under its server URL.
func (d *doc) add(typ, id string, res map[string]any) {
	d.seen[typ+"/"+id] = true
	d.entries = append(d.entries, fhir.BundleEntry{FullURL: strings.TrimRight(d.in.Base, "/") + "/" + typ + "/" + id, Resource: marshal(res)})
}

// search returns the decoded resources of typ matching query ([] when not allowed).
func (d *doc) search(typ, query string) []map[string]any {
	if d.in.Allowed != nil && !d.in.Allowed(typ) {
		return nil
	}
	bodies, err := d.rec.Search(typ, query)
	if err != nil {
		return nil
	}
	out := make([]map[string]any, 0, len(bodies))
	for _, b := range bodies {
		out = append(out, decode(b))
	}
	return out
}

// uuid names a generated entry, stable for the same inputs.
func (d *doc) uuid(parts ...string) string { return "urn:uuid:" + idFrom(parts...) }

// idFrom is a UUID-shaped id derived from parts.
func idFrom(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	x := fmt.Sprintf("%x", h[:16])
	return x[0:8] + "-" + x[8:12] + "-4" + x[13:16] + "-8" + x[17:20] + "-" + x[20:32]
}

func withProfile(res map[string]any, profile string) map[string]any {
	meta, _ := res["meta"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
	}
	profiles, _ := meta["profile"].([]any)
	meta["profile"] = append([]any{profile}, profiles...)
	res["meta"] = meta
	return res
}

func decode(b []byte) map[string]any {
	m := map[string]any{}
	json.Unmarshal(b, &m)
	return m
}

func marshal(v any) json.RawMessage { return fhir.MarshalNoEscape(v) }

func entry(fullURL string, res map[string]any) fhir.BundleEntry {
	return fhir.BundleEntry{FullURL: fullURL, Resource: marshal(res)}
}
