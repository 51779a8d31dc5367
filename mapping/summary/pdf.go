package summary

import (
	"bytes"
	"encoding/json"
	"html"
	"regexp"
	"strings"

	"github.com/go-pdf/fpdf"
)

var (
	tags  = regexp.MustCompile(`<[^>]+>`)
	items = regexp.MustCompile(`<li>`)
)

// plain turns a generated narrative div into text lines.
func plain(div string) string {
	div = items.ReplaceAllString(div, "\n• ")
	return strings.TrimSpace(html.UnescapeString(tags.ReplaceAllString(div, "")))
}

// RenderPDF renders an IPS document (Bundle JSON) as a PDF for readers without a FHIR
// viewer: the Composition's title, date and each section's narrative.
func RenderPDF(doc []byte) ([]byte, error) {
	var b struct {
		Timestamp string
		Entry     []struct {
			Resource struct {
				ResourceType, Title string
				Text                struct{ Div string }
				Section             []struct {
					Title string
					Text  struct{ Div string }
				}
			}
		}
	}
	if err := json.Unmarshal(doc, &b); err != nil {
		return nil, err
	}
	pdf := fpdf.New("P", "mm", "A4", "")
	tr := pdf.UnicodeTranslatorFromDescriptor("") // cp1252: French accents, µ, ³
	pdf.SetTitle("Synthèse médicale (IPS)", true)
	pdf.AddPage()
	for _, e := range b.Entry {
		c := e.Resource
		if c.ResourceType != "Composition" {
			continue
		}
		pdf.SetFont("Helvetica", "B", 14)
		pdf.MultiCell(0, 7, tr(c.Title), "", "L", false)
		pdf.SetFont("Helvetica", "", 9)
		pdf.MultiCell(0, 5, tr(plain(c.Text.Div)), "", "L", false)
		pdf.Ln(3)
		for _, s := range c.Section {
			pdf.SetFont("Helvetica", "B", 11)
			pdf.MultiCell(0, 6, tr(s.Title), "", "L", false)
			pdf.SetFont("Helvetica", "", 10)
			pdf.MultiCell(0, 5, tr(plain(s.Text.Div)), "", "L", false)
			pdf.Ln(2)
		}
	}
	var out bytes.Buffer
	if err := pdf.Output(&out); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
