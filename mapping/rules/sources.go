package rules

import (
	"regexp"
	"strings"
)

// Source is one document the clinical rules come from. Rules cite a section as
// "000 §V" (document number, section); users read it as the document's title and
// section, through Cite, because they do not have the project's copies of the
// documents.
type Source struct {
	// ID is the document number rules cite ("000").
	ID string
	// Title is the document's title, as a reader would look it up.
	Title string
	// Short is the title in a few words, for letters and error messages.
	Short string
	// Kind says what the document is and where it comes from.
	Kind string
}

// Sources are the documents of the AIT and IR pathways, in the order of their
// numbers.
var Sources = []Source{
	{ID: "000", Short: "Référentiel régional AIT",
		Title: "Référentiel régional : analgésie intrathécale (AIT) de la douleur chronique cancéreuse (Hauts-de-France)",
		Kind:  "regional referential, the main source: the 10-step AIT pathway"},
	{ID: "001", Short: "Revue Médicale Suisse, voie intrathécale",
		Title: "Traitement de la douleur chronique par administration continue de médicaments par voie intrathécale (Revue Médicale Suisse)",
		Kind:  "review article: device, drugs, refills, complications"},
	{ID: "002", Short: "Fiche patient AIT, période d'essai",
		Title: "Analgésie intrathécale : information du patient (page hospitalière, Belgique)",
		Kind:  "hospital patient page: the 4-week trial period"},
	{ID: "003", Short: "Référentiel régional RI",
		Title: "Référentiel régional : radiologie interventionnelle dans la prise en charge de la douleur du cancer",
		Kind:  "regional referential: IR trajectory, techniques, Mirels and SINS scores"},
	{ID: "004", Short: "Fiche patient cimentoplastie",
		Title: "Métastases osseuses douloureuses : la cimentoplastie (information du patient)",
		Kind:  "patient page: cimentoplasty of bone metastases"},
}

// SourceOf returns the document a citation such as "000 §V" names.
func SourceOf(citation string) (Source, bool) {
	id, _, _ := strings.Cut(strings.TrimSpace(citation), " ")
	for _, s := range Sources {
		if s.ID == id {
			return s, true
		}
	}
	return Source{}, false
}

// Cite renders a seed citation ("000 §V", "000 §VI, §VII", "000 §XIII, 001") by
// document title and section ("Référentiel régional AIT §V"), which is how messages,
// letters and the README name their sources. Each comma-separated part that starts
// with a document number is rendered by title; an unknown citation is returned as it
// is.
func Cite(citation string) string {
	parts := strings.Split(citation, ", ")
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		s, ok := SourceOf(p)
		id, rest, _ := strings.Cut(strings.TrimSpace(p), " ")
		switch {
		case !ok || id != s.ID:
			out = append(out, p)
		case rest == "":
			out = append(out, s.Short)
		default:
			out = append(out, s.Short+" "+rest)
		}
	}
	return strings.Join(out, ", ")
}

// citation matches a seed citation in a text: a document number, then sections
// ("000 §V", "000 §VI, §VII", "000 §V.1, §V.2", "000 §V-VI", "003 annex 4").
var citation = regexp.MustCompile(`\b(00[0-4]) ((?:§[IVXL]+(?:[.-][0-9IVXL]+)*(?:, §[IVXL]+(?:[.-][0-9IVXL]+)*)*)|annex [0-9]+)`)

// CiteText renders every seed citation in a message with its document's title
// beside it: "refill interval out of range (000 §XIII)" reads "refill interval out of
// range (Référentiel régional AIT, 000 §XIII)". The number stays, so that the rules
// catalogue and the tests can still find the rule by it.
func CiteText(text string) string {
	if !strings.Contains(text, "00") {
		return text
	}
	return citation.ReplaceAllStringFunc(text, func(m string) string {
		if s, ok := SourceOf(m); ok {
			return s.Short + ", " + m
		}
		return m
	})
}
