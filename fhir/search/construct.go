package search

import (
	"github.com/aitgw/aitgw/fhir"
)

// Entries builds the index entries of a resource the server writes itself, at a high
// rate, from the values it puts in it (the audit trail: one AuditEvent per access),
// without evaluating FHIRPath on the JSON it has just written. Each method appends the
// keys Index derives from that kind of value, with the same key functions; the caller
// proves with a test against Index that it names every value its parameters' FHIRPath
// selects, as TestStampEntriesMatchIndex does for StampEntries.
type Entries struct {
	list []fhir.IndexEntry
	keys [][]byte // scratch
}

// add appends the keys accumulated in e.keys under param, once each.
func (e *Entries) add(param string) {
	if e.list == nil {
		e.list = make([]fhir.IndexEntry, 0, 24) // an AuditEvent has about 20
	}
	for _, k := range e.keys {
		if !e.has(param, k) {
			e.list = append(e.list, fhir.IndexEntry{Param: param, Key: k})
		}
	}
	e.keys = e.keys[:0]
}

func (e *Entries) has(param string, k []byte) bool {
	for _, x := range e.list {
		if x.Param == param && string(x.Key) == string(k) {
			return true
		}
	}
	return false
}

// Coding indexes a token parameter on a Coding (or a CodeableConcept of one coding
// without text).
func (e *Entries) Coding(param, system, code, display string) {
	e.keys = codingKeys(e.keys, system, code, display)
	e.add(param)
}

// Code indexes a token parameter on a primitive code.
func (e *Entries) Code(param, code string) {
	if code != "" {
		e.keys = append(e.keys, key(tagCode, code), key(tagNoSys, code))
	}
	e.add(param)
}

// Reference indexes a reference parameter on a Reference: its literal reference and
// its logical identifier (either may be empty).
func (e *Entries) Reference(param, ref, identifierSystem, identifierValue string) {
	if identifierValue != "" {
		e.keys = append(e.keys, key(tagRefIdent, identifierSystem, identifierValue))
	}
	e.keys = literalRefKeys(e.keys, ref)
	e.add(param)
}

// Instant indexes a date parameter on a date, dateTime or instant.
func (e *Entries) Instant(param, value string) {
	if lo, hi, ok := parseFHIRTime(value); ok {
		e.keys = append(e.keys, intervalKeys(lo, hi)...)
	}
	e.add(param)
}

// Append adds entries built once (for values that never change), sharing their keys.
func (e *Entries) Append(entries ...fhir.IndexEntry) {
	if e.list == nil {
		e.list = make([]fhir.IndexEntry, 0, 24)
	}
	e.list = append(e.list, entries...)
}

// Reset empties e, keeping its memory.
func (e *Entries) Reset() { e.list, e.keys = e.list[:0], e.keys[:0] }

// List returns the entries built so far.
func (e *Entries) List() []fhir.IndexEntry { return e.list }

// RefCache remembers the keys and the type of literal references, for a writer that
// indexes the same references over and over (the audit log: the same patients,
// resources and users). It holds at most a few thousand; it is not safe for
// concurrent use.
type RefCache struct{ refs map[string]cachedRef }

type cachedRef struct {
	keys [][]byte
	typ  string
}

// maxCachedRefs bounds a RefCache: past it, it starts afresh.
const maxCachedRefs = 4096

func (c *RefCache) lookup(ref string) cachedRef {
	if r, ok := c.refs[ref]; ok {
		return r
	}
	if c.refs == nil || len(c.refs) >= maxCachedRefs {
		c.refs = make(map[string]cachedRef, 64)
	}
	r := cachedRef{keys: literalRefKeys(nil, ref), typ: refType(ref)}
	c.refs[ref] = r
	return r
}

// LiteralReference indexes a reference parameter on a literal reference, through c
// (nil: no cache), and returns the type the reference names, as resolve() answers it
// when indexing (what `where(resolve() is Patient)` tests). The keys are shared with
// the cache, which never changes them.
func (e *Entries) LiteralReference(c *RefCache, param, ref string) (typ string) {
	if c == nil {
		e.keys = literalRefKeys(e.keys, ref)
		e.add(param)
		return refType(ref)
	}
	r := c.lookup(ref)
	e.keys = append(e.keys, r.keys...)
	e.add(param)
	return r.typ
}
