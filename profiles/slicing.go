package profiles

import (
	"fmt"
	"strings"

	"github.com/aitgw/aitgw/fhir"
)

// checkClosed refuses the items of a closed slicing that belong to none of its slices
// (an extension whose url no slice defines, for a slicing by url).
func (r *run) checkClosed(sd *structureDef, e *elementRule, items []node, scope any) {
	last := e.segs[len(e.segs)-1]
	for _, it := range items {
		in := false
		for _, s := range e.slices {
			match, decided := r.inSlice(pathSeg{name: last.name, slice: s.segs[len(s.segs)-1].slice, slicedBy: e, sliceDef: s}, it, scope)
			if match || !decided {
				in = true
				break
			}
		}
		if in {
			continue
		}
		msg := fmt.Sprintf("%s: the item matches none of the slices of this closed slicing (%s)", e.path, sd.sliceNames(e))
		if u, ok := field(it.val, "url").(string); ok && e.slicing.discPath == "url" {
			msg = fmt.Sprintf("%s: extension %s is not allowed: the slicing is closed to %s", e.path, u, sd.sliceNames(e))
		}
		r.add(r.ruleIssue(sd, e, fhir.SeverityError, "structure", it.expr, msg))
	}
}

// sliceNames lists the slices of a sliced element, with the url of extension slices.
func (sd *structureDef) sliceNames(e *elementRule) string {
	var names []string
	for _, s := range e.slices {
		n := s.segs[len(s.segs)-1].slice
		if u := sd.extensionURL(s); u != "" {
			n += " (" + u + ")"
		}
		names = append(names, n)
	}
	if len(names) == 0 {
		return "no slice"
	}
	return strings.Join(names, ", ")
}

// unslicedExtensions lists the urls of the extensions under parent that belong to
// none of the slices of seg's slicing: what a sender put where a required extension
// was expected.
func (r *run) unslicedExtensions(seg pathSeg, parent node, scope any) []string {
	items, _ := r.children(parent, pathSeg{name: seg.name}, scope)
	var out []string
	for _, it := range items {
		in := false
		for _, s := range seg.slicedBy.slices {
			if match, _ := r.inSlice(pathSeg{name: seg.name, slice: s.segs[len(s.segs)-1].slice, slicedBy: seg.slicedBy, sliceDef: s}, it, scope); match {
				in = true
				break
			}
		}
		if u, ok := field(it.val, "url").(string); ok && !in {
			out = append(out, u)
		}
	}
	return out
}
