package notify

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/mapping/letters"
	"github.com/aitgw/aitgw/mapping/rules"
)

// Names of the letter's attachments in the secure mail.
const (
	LetterPDFName = "courrier.pdf"
	XDMName       = letters.XDMFileName
)

// secureDocuments are the attachments French secure messaging (MSSanté) expects
// with a letter: the PDF, and the IHE XDM zip of the CDA R2 level 1 document that
// carries it with a structured header. They are built from the DocumentReference
// the Communication links (payload.contentReference) and its Binary; a
// Communication without one (written before letters were documents) gets none.
func secureDocuments(tx fhir.Tx, d Delivery, comm []byte) []Attachment {
	var c struct {
		Subject   struct{ Reference string }   `json:"subject"`
		Sender    struct{ Reference string }   `json:"sender"`
		Recipient []struct{ Reference string } `json:"recipient"`
		Payload   []struct {
			ContentReference *struct{ Reference string } `json:"contentReference"`
		} `json:"payload"`
	}
	if json.Unmarshal(comm, &c) != nil {
		return nil
	}
	var docRef string
	for _, p := range c.Payload {
		if p.ContentReference != nil {
			docRef = p.ContentReference.Reference
		}
	}
	rd := txView{tx}
	_, docID, ok := splitRef(docRef)
	if !ok {
		return nil
	}
	raw, err := rd.Read("DocumentReference", docID)
	if err != nil {
		return nil
	}
	var dr struct {
		Description string `json:"description"`
		Date        string `json:"date"`
		Category    []struct {
			Coding []struct{ System, Code string } `json:"coding"`
		} `json:"category"`
		Custodian *struct{ Reference string } `json:"custodian"`
		Content   []struct {
			Attachment struct{ URL string } `json:"attachment"`
		} `json:"content"`
	}
	if json.Unmarshal(raw, &dr) != nil || len(dr.Content) == 0 {
		return nil
	}
	_, binID, ok := splitRef(dr.Content[0].Attachment.URL)
	if !ok {
		return nil
	}
	braw, err := rd.Read("Binary", binID)
	if err != nil {
		return nil
	}
	var bin struct{ Data string }
	_ = json.Unmarshal(braw, &bin)
	pdf, err := base64.StdEncoding.DecodeString(bin.Data)
	if err != nil || len(pdf) == 0 {
		return nil
	}
	out := []Attachment{{Name: LetterPDFName, Data: pdf, ContentType: "application/pdf"}}
	doc := letters.Document{Subject: dr.Description, RecipientRole: d.Role}
	for _, cat := range dr.Category {
		for _, cd := range cat.Coding {
			if l, ok := rules.LetterFor(cd.Code); ok && cd.System == CategorySystem {
				doc.Letter = l
			}
		}
	}
	if doc.Letter.DocType.Code == "" {
		doc.Letter = rules.Letter{Milestone: d.Milestone, Subject: dr.Description, DocType: rules.DocNote, Section: "000 §III"}
	}
	doc.Date, _ = time.Parse(time.RFC3339, dr.Date)
	recipient := ""
	if len(c.Recipient) > 0 {
		recipient = c.Recipient[0].Reference
	}
	doc.Patient, doc.Author, doc.Recipient = letters.Parties(rd, c.Subject.Reference, c.Sender.Reference, recipient)
	if dr.Custodian != nil {
		_, doc.Custodian, _ = letters.Parties(rd, "", dr.Custodian.Reference, "")
	} else if doc.Author.Organization != "" {
		doc.Custodian = letters.Party{Name: doc.Author.Organization, FINESS: doc.Author.FINESS}
	}
	z, err := letters.XDM(letters.NewCDA(doc, pdf, d.Communication), time.Now())
	if err != nil {
		return out
	}
	return append(out, Attachment{Name: XDMName, Data: z, ContentType: "application/zip"})
}

// txView reads a store snapshot (mapping.Records; no search).
type txView struct{ tx fhir.Tx }

// Read implements mapping.Records.
func (v txView) Read(typ, id string) ([]byte, error) {
	rec, err := v.tx.Current(typ, id)
	if err != nil {
		return nil, err
	}
	if rec.Deleted {
		return nil, fhir.ErrGone
	}
	return rec.Body, nil
}

// Search implements mapping.Records: a sending reads by reference only.
func (v txView) Search(string, string) ([][]byte, error) {
	return nil, errors.New("no search while sending")
}
