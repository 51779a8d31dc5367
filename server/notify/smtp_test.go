package notify

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// received is a mail the test relay accepted.
type received struct {
	from, to string
	tls      bool
	user     string
	data     []byte
}

// relay is a real SMTP server in process: STARTTLS with a self-signed certificate,
// AUTH PLAIN required, mails kept in memory.
type relay struct {
	mu    sync.Mutex
	mails []received
	addr  string
	roots *x509.CertPool
}

func startRelay(t *testing.T) *relay {
	t.Helper()
	cert, roots := selfSigned(t)
	r := &relay{roots: roots}
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{r: r, c: c}, nil
	}))
	s.Domain = "localhost"
	s.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	s.AllowInsecureAuth = false // AUTH only after STARTTLS
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.addr = ln.Addr().String()
	go func() { _ = s.Serve(ln) }()
	t.Cleanup(func() { s.Close() })
	return r
}

func (r *relay) received() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.mails...)
}

type session struct {
	r    *relay
	c    *smtp.Conn
	user string
	cur  received
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "aitgw" || pass != "s3cret" {
			return errors.New("bad credentials")
		}
		s.user = user
		return nil
	}), nil
}
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.user == "" {
		return &smtp.SMTPError{Code: 530, Message: "authentication required"}
	}
	_, tlsOn := s.c.TLSConnectionState()
	s.cur = received{from: from, tls: tlsOn, user: s.user}
	return nil
}
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error { s.cur.to = to; return nil }
func (s *session) Data(r io.Reader) error {
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
func (s *session) Reset()        {}
func (s *session) Logout() error { return nil }

func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "relay.test"},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(c)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// The GP and the referring physician receive the letter by mail, over STARTTLS with
// authentication, the Communication and the resources it is about attached as JSON;
// the Communications end completed, with sent.
func TestSMTPDeliversLetterWithAttachments(t *testing.T) {
	r := startRelay(t)
	e := newEnv(t)
	e.pathway()
	if err := e.milestone(rcpMilestone()); err != nil {
		t.Fatal(err)
	}
	w := e.worker()
	w.Mailer = &SMTP{Relay: r.addr, From: "algologie@chu.mssante.test", Username: "aitgw", Password: "s3cret",
		TLS: &tls.Config{RootCAs: r.roots, ServerName: "127.0.0.1"}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.Run(ctx)
	waitFor(t, "two mails", 10*time.Second, func() bool { return len(r.received()) == 2 })
	gpComm := e.match("Communication", "recipient=Practitioner/gp")[0]
	waitFor(t, "completed status", 5*time.Second, func() bool {
		return len(e.match("Communication", "patient=Patient/p1&status=completed")) == 2
	})

	var gpMail *received
	for _, m := range r.received() {
		if !m.tls || m.user != "aitgw" || m.from != "algologie@chu.mssante.test" {
			t.Errorf("mail sent without TLS or auth: %+v", m)
		}
		if m.to == "dr.martin@gp.mssante.test" {
			m := m
			gpMail = &m
		}
	}
	if gpMail == nil {
		t.Fatal("no mail to the GP's telecom address")
	}
	msg, err := mail.ReadMessage(strings.NewReader(string(gpMail.data)))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if subject != "Décision de la RCP d'analgésie intrathécale" {
		t.Errorf("subject %q", subject)
	}
	if key := msg.Header.Get("X-Idempotency-Key"); key != gpComm+":1" {
		t.Errorf("idempotency key %q, want %s:1", key, gpComm)
	}
	_, params, _ := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var letter string
	attached := map[string]map[string]any{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p) // multipart decodes quoted-printable; base64 below
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain") {
			letter = string(b)
			continue
		}
		raw, err := decodeBase64(b)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(p.Header.Get("Content-Type"), "application/fhir+json") {
			continue // the letter's PDF and XDM zip: TestMSSanteMailCarriesPDFAndXDM
		}
		var res map[string]any
		if err := json.Unmarshal(raw, &res); err != nil {
			t.Fatalf("attachment %s is not JSON: %v", p.FileName(), err)
		}
		attached[p.FileName()] = res
	}
	if miss := contains2(letter, "pompe implantable", "Référentiel régional AIT §VI", "Confrère"); miss != "" {
		t.Errorf("mail body lacks %q:\n%s", miss, letter)
	}
	if c := attached["Communication-"+gpComm+".json"]; c == nil || c["resourceType"] != "Communication" {
		t.Errorf("Communication not attached: %v", attached)
	}
	if sr := attached["ServiceRequest-sr1.json"]; sr == nil || sr["resourceType"] != "ServiceRequest" {
		t.Errorf("ServiceRequest not attached: %v", attached)
	}
	if ids := e.match("Communication", "sent=ge2020-01-01&recipient=Practitioner/gp"); len(ids) != 1 {
		t.Errorf("search by sent found %v", ids)
	}
	if c := e.read("Communication", gpComm); c["status"] != "completed" || c["sent"] == nil {
		t.Errorf("GP Communication status %v sent %v", c["status"], c["sent"])
	}
}

// A relay that offers no STARTTLS gets no letter.
func TestSMTPRefusesPlaintextRelay(t *testing.T) {
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &session{r: &relay{}, c: c}, nil }))
	s.Domain = "localhost"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = s.Serve(ln) }()
	defer s.Close()
	m := &SMTP{Relay: ln.Addr().String(), From: "a@b.test"}
	err = m.Send(context.Background(), &Mail{To: "c@d.test", Subject: "x", Body: "y", Key: "k:1"})
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("sent over a relay without STARTTLS: %v", err)
	}
}
