package letters

import (
	"bytes"
	"strings"
	"sync"

	"github.com/go-pdf/fpdf"
)

// PDF renders the letter as an A4 PDF: the header (the author's organisation, the
// document type, the date), the patient's identity with the INS, the recipient, the
// subject, the body, the source and the signature block. The core fonts are
// cp1252: the text goes through fpdf's Unicode translator, which covers French.
func (d Document) PDF() ([]byte, error) {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCompression(false)
	pdf.SetCreationDate(d.Date)
	pdf.SetModificationDate(d.Date)
	pdf.SetTitle(d.Subject, true)
	pdf.SetAuthor(d.Author.Name, true)
	pdf.SetCreator("aitgw", true)
	pdf.SetMargins(20, 18, 20)
	pdf.SetAutoPageBreak(true, 18)
	w := func(s string) string { return cp1252()(safe(s)) }
	pdf.AliasNbPages("{nb}")
	pdf.SetFooterFunc(func() {
		pdf.SetY(-14)
		pdf.SetFont("Helvetica", "", 8)
		pdf.CellFormat(0, 5, w("Document confidentiel, données de santé. Page ")+itoa(pdf.PageNo())+"/{nb}", "", 0, "C", false, 0, "")
	})
	pdf.AddPage()

	// header
	org := d.Author.Organization
	if org == "" {
		org = "Centre d'implantation"
	}
	pdf.SetFont("Helvetica", "B", 13)
	pdf.CellFormat(0, 7, w(org), "", 1, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 9)
	pdf.CellFormat(0, 5, w("Parcours d'analgésie intrathécale, "+d.Letter.DocType.French+" (LOINC "+d.Letter.DocType.Code+")"), "", 1, "L", false, 0, "")
	pdf.CellFormat(0, 5, w("Le "+FrenchDate(d.Date)), "", 1, "R", false, 0, "")
	pdf.Line(20, pdf.GetY()+1, 190, pdf.GetY()+1)
	pdf.Ln(4)

	// patient and recipient
	pdf.SetFont("Helvetica", "B", 10)
	pdf.CellFormat(28, 5, w("Patient(e) :"), "", 0, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 10)
	pdf.MultiCell(0, 5, w(d.PatientLine()), "", "L", false)
	pdf.SetFont("Helvetica", "B", 10)
	pdf.CellFormat(28, 5, w("Destinataire :"), "", 0, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 10)
	to := d.Recipient.String()
	if to == "" {
		to = d.Recipient.Reference
	}
	pdf.MultiCell(0, 5, w(to), "", "L", false)
	pdf.SetFont("Helvetica", "B", 10)
	pdf.CellFormat(28, 5, w("Objet :"), "", 0, "L", false, 0, "")
	pdf.MultiCell(0, 5, w(d.Subject), "", "L", false)
	pdf.Ln(5)

	// body
	pdf.SetFont("Helvetica", "", 10.5)
	pdf.MultiCell(0, 5.5, w(Salutation(d.RecipientRole)), "", "L", false)
	pdf.Ln(2)
	for _, line := range strings.Split(d.Body, "\n") {
		if strings.HasPrefix(line, "- ") {
			pdf.SetX(26)
			pdf.MultiCell(0, 5.5, w("• "+strings.TrimPrefix(line, "- ")), "", "L", false)
			continue
		}
		pdf.MultiCell(0, 5.5, w(line), "", "L", false)
	}
	pdf.Ln(3)
	pdf.SetFont("Helvetica", "", 9)
	pdf.MultiCell(0, 5, w(d.Source()), "", "L", false)
	pdf.Ln(4)
	pdf.SetFont("Helvetica", "", 10.5)
	pdf.MultiCell(0, 5.5, w("Bien confraternellement,"), "", "L", false)
	pdf.Ln(3)

	// signature block
	pdf.SetX(110)
	pdf.SetFont("Helvetica", "B", 10)
	lines := strings.Split(d.Signature(), "\n")
	pdf.MultiCell(80, 5, w(lines[0]), "", "L", false)
	pdf.SetFont("Helvetica", "", 9)
	for _, l := range lines[1:] {
		pdf.SetX(110)
		pdf.MultiCell(80, 4.5, w(l), "", "L", false)
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// cp1252 is fpdf's translator from UTF-8 to the core fonts' code page, built once
// (building it parses the code page's map): a pure lookup, safe to share.
var cp1252 = sync.OnceValue(func() func(string) string {
	return fpdf.New("P", "mm", "A4", "").UnicodeTranslatorFromDescriptor("")
})

// safe replaces the characters cp1252 lacks with their nearest (an arrow, ≥ and ≤).
func safe(s string) string {
	return strings.NewReplacer("→", "->", "≥", ">=", "≤", "<=", "’", "'").Replace(s)
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}
