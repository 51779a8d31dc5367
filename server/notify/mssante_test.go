package notify

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/aitgw/aitgw/mapping/letters"
	"github.com/aitgw/aitgw/mapping/letters/lettertest"
)

// testCA is a certificate authority of the test, as IGC-Santé is for MSSanté.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test IGC-Santé"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert, key, pool}
}

// issue signs a leaf certificate for a server (ip) or a client (cn).
func (ca *testCA) issue(t *testing.T, cn string, server bool) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// mssRelay is an MSSanté-like relay: STARTTLS with a client certificate required
// and verified against the test CA; a mail is accepted only over such a session.
type mssRelay struct {
	mu      sync.Mutex
	mails   []received
	clients []string // client certificate subjects seen
	addr    string
}

type mssSession struct {
	r   *mssRelay
	c   *smtp.Conn
	cur received
}

func (s *mssSession) Mail(from string, _ *smtp.MailOptions) error {
	st, ok := s.c.TLSConnectionState()
	if !ok || len(st.PeerCertificates) == 0 {
		return &smtp.SMTPError{Code: 530, Message: "STARTTLS with a client certificate required"}
	}
	s.r.mu.Lock()
	s.r.clients = append(s.r.clients, st.PeerCertificates[0].Subject.CommonName)
	s.r.mu.Unlock()
	s.cur = received{from: from, tls: true}
	return nil
}
func (s *mssSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if !IsMSSante(to) {
		return &smtp.SMTPError{Code: 550, Message: "recipient outside the MSSanté trust space"}
	}
	s.cur.to = to
	return nil
}
func (s *mssSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.data = b
	s.r.mu.Lock()
	s.r.mails = append(s.r.mails, s.cur)
	s.r.mu.Unlock()
	return nil
}
func (s *mssSession) Reset()        {}
func (s *mssSession) Logout() error { return nil }

func startMSSRelay(t *testing.T, ca *testCA) *mssRelay {
	t.Helper()
	r := &mssRelay{}
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &mssSession{r: r, c: c}, nil }))
	s.Domain = "localhost"
	s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{ca.issue(t, "relay.mssante.test", true)},
		ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: ca.pool, MinVersion: tls.VersionTLS12}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.addr = ln.Addr().String()
	go func() { _ = s.Serve(ln) }()
	t.Cleanup(func() { s.Close() })
	return r
}

func (r *mssRelay) received() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.mails...)
}

// loadSample stores the sample pathway's resources (lettertest) in the env.
func (e *env) loadSample() {
	e.t.Helper()
	s, err := lettertest.New()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, b := range s.All() {
		e.put(string(b))
	}
}

// attachments reads a mail's parts: the text, and the attachments by file name.
func attachments(t *testing.T, data []byte) (string, map[string][]byte) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	_, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var text string
	out := map[string][]byte{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain") {
			text = string(b)
			continue
		}
		raw, err := decodeBase64(b)
		if err != nil {
			t.Fatal(err)
		}
		out[p.FileName()] = raw
	}
	return text, out
}

// pdfText extracts a PDF's text with pdftotext (poppler-utils), installed when
// missing; the test fails when it cannot be.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		if out, err := exec.Command("sh", "-c", "apt-get install -y poppler-utils || (apt-get update && apt-get install -y poppler-utils)").CombinedOutput(); err != nil {
			t.Fatalf("pdftotext is missing and poppler-utils could not be installed: %v\n%s", err, out)
		}
	}
	in := filepath.Join(t.TempDir(), "letter.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", in, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	return strings.Join(strings.Fields(string(out)), " ")
}

// TestMSSanteMailCarriesPDFAndXDM: the sample pathway's discharge letter goes to
// the GP's MSSanté address through a relay that requires STARTTLS and a client
// certificate; the mail carries the PDF (its facts read back with pdftotext) and
// the IHE XDM zip (METADATA.XML, the CDA with the INS, the RPPS, the custodian, the
// PDF as nonXMLBody). Without the client certificate the relay refuses the session.
func TestMSSanteMailCarriesPDFAndXDM(t *testing.T) {
	ca := newCA(t)
	r := startMSSRelay(t, ca)
	e := newEnv(t)
	e.loadSample()
	m := Milestone{Code: "discharge-letter", Display: "Discharge letter", SeedSection: "000 §XI", Patient: lettertest.Patient,
		About: []string{"Encounter/discharge", "CarePlan/ait-careplan-example"}, Coordinator: lettertest.Algologist,
		Recipients: []Recipient{{RoleGP, lettertest.GP}}, EventTime: time.Date(2026, 4, 9, 9, 0, 0, 0, time.UTC)}
	if err := e.milestone(m); err != nil {
		t.Fatal(err)
	}

	// without a client certificate: refused, retried
	noCert := &SMTP{Relay: r.addr, From: "algologie@chu-exemple.mssante.fr", TLS: &tls.Config{RootCAs: ca.pool, ServerName: "127.0.0.1"}}
	if err := noCert.Send(context.Background(), &Mail{To: lettertest.GPMail, Subject: "x", Body: "y", Key: "k:1"}); err == nil {
		t.Fatal("the relay accepted a session without a client certificate")
	}

	w := e.worker()
	w.Mailer = &SMTP{Relay: r.addr, From: "algologie@chu-exemple.mssante.fr",
		TLS: &tls.Config{RootCAs: ca.pool, ServerName: "127.0.0.1", Certificates: []tls.Certificate{ca.issue(t, "aitgw.chu-exemple", false)}}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.Run(ctx)
	waitFor(t, "the GP's mail", 10*time.Second, func() bool { return len(r.received()) == 1 })
	got := r.received()[0]
	if got.to != lettertest.GPMail || len(r.clients) == 0 || r.clients[0] != "aitgw.chu-exemple" {
		t.Fatalf("mail to %q, client certificates %v", got.to, r.clients)
	}
	text, files := attachments(t, got.data)
	if !strings.Contains(text, "réservoir de 40 mL") {
		t.Errorf("mail text:\n%s", text)
	}
	pdf := files[LetterPDFName]
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("no PDF attached: %v", keys(files))
	}
	pt := pdfText(t, pdf)
	for _, want := range []string{"INS (NIR) 255081416802538", "Dr Paul DOCTEUR", "sorti(e) le 09/04/2026 à 11h00", "Medtronic SynchroMed II modèle 8637-40",
		"réservoir de 40 mL", "niveau vertébral D5", "morphine 50 mg/mL : 3 mg/j", "ziconotide 100 µg/mL : 2,4 µg/j",
		"Premier remplissage prévu le 05/05/2026 à 10h00", "CH Proximité", "Dr Marc DOCTEUR", "RPPS 10000000003"} {
		if !strings.Contains(pt, want) {
			t.Errorf("PDF lacks %q:\n%s", want, pt)
		}
	}

	z, err := letters.ReadXDM(files[XDMName])
	if err != nil {
		t.Fatalf("XDM: %v (attachments %v)", err, keys(files))
	}
	for _, name := range []string{letters.XDMIndex, letters.XDMReadme, letters.XDMMetadata, letters.XDMDocument} {
		if len(z[name]) == 0 {
			t.Errorf("XDM lacks %s", name)
		}
	}
	var meta struct {
		XMLName xml.Name
		Docs    []struct {
			MimeType string `xml:"mimeType,attr"`
			Slots    []struct {
				Name   string   `xml:"name,attr"`
				Values []string `xml:"ValueList>Value"`
			} `xml:"Slot"`
			Classes []struct {
				Scheme string `xml:"classificationScheme,attr"`
				Node   string `xml:"nodeRepresentation,attr"`
				Slots  []struct {
					Name   string   `xml:"name,attr"`
					Values []string `xml:"ValueList>Value"`
				} `xml:"Slot"`
			} `xml:"Classification"`
		} `xml:"RegistryObjectList>ExtrinsicObject"`
	}
	if err := xml.Unmarshal(z[letters.XDMMetadata], &meta); err != nil || meta.XMLName.Local != "SubmitObjectsRequest" || len(meta.Docs) != 1 {
		t.Fatalf("METADATA.XML: %v %s", err, z[letters.XDMMetadata])
	}
	// the French XDS codes (ANS JDV_J02, JDV_J04, JDV_J01): the site's defaults, and
	// the profession alone for an algologist whose role gives no specialty
	classes := map[string]string{}
	for _, c := range meta.Docs[0].Classes {
		v := c.Node
		for _, sl := range c.Slots {
			v += "|" + sl.Name + "=" + strings.Join(sl.Values, ",")
		}
		classes[c.Scheme] = v
	}
	for scheme, want := range map[string]string{"urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1": "SA01|codingScheme=1.2.250.1.71.4.2.4",
		"urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead": "ETABLISSEMENT|codingScheme=1.2.250.1.213.1.1.4.9"} {
		if classes[scheme] != want {
			t.Errorf("METADATA.XML classification %s: %q, want %q", scheme, classes[scheme], want)
		}
	}
	if a := classes["urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d"]; !strings.Contains(a, "authorSpecialty=G15_10^Médecin^1.2.250.1.213.1.1.4.5") {
		t.Errorf("METADATA.XML author %q lacks the authorSpecialty", a)
	}
	var cda struct {
		XMLName   xml.Name
		Templates []struct {
			Root string `xml:"root,attr"`
		} `xml:"templateId"`
		Code struct {
			Code string `xml:"code,attr"`
		} `xml:"code"`
		PatientID struct {
			Root      string `xml:"root,attr"`
			Extension string `xml:"extension,attr"`
		} `xml:"recordTarget>patientRole>id"`
		AuthorID struct {
			Root      string `xml:"root,attr"`
			Extension string `xml:"extension,attr"`
		} `xml:"author>assignedAuthor>id"`
		Custodian   string `xml:"custodian>assignedCustodian>representedCustodianOrganization>name"`
		Recipient   string `xml:"informationRecipient>intendedRecipient>informationRecipient>name>family"`
		ServiceTime struct {
			Value string `xml:"value,attr"`
		} `xml:"documentationOf>serviceEvent>effectiveTime>low"`
		Facility struct {
			Code       string `xml:"code,attr"`
			CodeSystem string `xml:"codeSystem,attr"`
		} `xml:"componentOf>encompassingEncounter>location>healthCareFacility>code"`
		Body struct {
			MediaType string `xml:"mediaType,attr"`
			Text      string `xml:",chardata"`
		} `xml:"component>nonXMLBody>text"`
	}
	if err := xml.Unmarshal(z[letters.XDMDocument], &cda); err != nil {
		t.Fatalf("CDA: %v", err)
	}
	if cda.XMLName.Local != "ClinicalDocument" || cda.Code.Code != "11490-0" || cda.PatientID.Root != letters.OIDNIR ||
		cda.PatientID.Extension != "255081416802538" || cda.AuthorID.Root != letters.OIDRPPS || cda.AuthorID.Extension != "810000000003" ||
		cda.Custodian != "CHU Exemple" || cda.Recipient != "DOCTEUR" || cda.ServiceTime.Value == "" || cda.Body.MediaType != "application/pdf" ||
		cda.Facility.Code != "SA01" || cda.Facility.CodeSystem != "1.2.250.1.71.4.2.4" {
		t.Errorf("CDA header %+v", cda)
	}
	var templates []string
	for _, tpl := range cda.Templates {
		templates = append(templates, tpl.Root)
	}
	// HL7 France header, CI-SIS, IHE XDS-SD (a level 1 document)
	if got := strings.Join(templates, " "); got != "2.16.840.1.113883.2.8.2.1 1.2.250.1.213.1.1.1.1 1.3.6.1.4.1.19376.1.2.20" {
		t.Errorf("CDA templateIds %s", got)
	}
	body, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cda.Body.Text))
	if err != nil || !bytes.Equal(body, pdf) {
		t.Errorf("the CDA's body is not the mailed PDF: %v", err)
	}
	if c := attachmentJSON(files); c == "" {
		t.Errorf("the Communication is not attached")
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// attachmentJSON returns the resourceType of the attached Communication.
func attachmentJSON(files map[string][]byte) string {
	for name, b := range files {
		if strings.HasPrefix(name, "Communication-") {
			var r struct{ ResourceType string }
			_ = json.Unmarshal(b, &r)
			return r.ResourceType
		}
	}
	return ""
}
