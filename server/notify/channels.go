package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/smtp"
	"net/textproto"
	"strings"
	"time"
)

// Mail is one notification letter to send by secure mail.
type Mail struct {
	To, Subject, Body string
	// Key is the delivery's idempotency key, sent as Message-ID and
	// X-Idempotency-Key so that a receiver can drop a retried duplicate.
	Key         string
	Attachments []Attachment
}

// Attachment is a file attached to a mail: a FHIR resource as JSON, the letter's
// PDF, the IHE XDM zip of its CDA document.
type Attachment struct {
	Name string
	Data []byte
	// ContentType is the attachment's media type ("": application/fhir+json).
	ContentType string
}

// Mailer sends mails; SMTP is the real one.
type Mailer interface {
	Send(ctx context.Context, m *Mail) error
}

// SMTP sends mails through a relay the way secure health messaging (MSSanté) works:
// STARTTLS then authentication, then the message.
type SMTP struct {
	// Relay is host:port of the submission server.
	Relay string
	// From is the sender mailbox.
	From string
	// Username and Password authenticate (AUTH PLAIN, only over TLS); empty Username:
	// no authentication.
	Username, Password string
	// TLS configures STARTTLS (nil: system roots, ServerName from Relay).
	TLS *tls.Config
	// AllowPlaintext lets mail go out when the relay offers no STARTTLS. Never in
	// production: letters carry patient data.
	AllowPlaintext bool
	// Timeout bounds one sending (default 30 s).
	Timeout time.Duration
	// Hostname is sent in EHLO (default "aitgw").
	Hostname string
}

// Send delivers m through the relay.
func (s *SMTP) Send(ctx context.Context, m *Mail) error {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	host, _, err := net.SplitHostPort(s.Relay)
	if err != nil {
		return fmt.Errorf("smtp relay %q: %w", s.Relay, err)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.Relay)
	if err != nil {
		return err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return err
	}
	defer c.Close()
	hostname := s.Hostname
	if hostname == "" {
		hostname = "aitgw"
	}
	if err := c.Hello(hostname); err != nil {
		return err
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		cfg := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
		if s.TLS != nil {
			cfg = s.TLS.Clone()
			if cfg.ServerName == "" {
				cfg.ServerName = host
			}
		}
		if err := c.StartTLS(cfg); err != nil {
			return fmt.Errorf("smtp STARTTLS: %w", err)
		}
	} else if !s.AllowPlaintext {
		return errors.New("smtp relay offers no STARTTLS: refusing to send a letter in clear")
	}
	if s.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, host)); err != nil {
			return fmt.Errorf("smtp AUTH: %w", err)
		}
	}
	if err := c.Mail(s.From); err != nil {
		return err
	}
	if err := c.Rcpt(m.To); err != nil {
		return err
	}
	wc, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := wc.Write(s.message(m)); err != nil {
		return err
	}
	if err := wc.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// message renders m as a MIME multipart/mixed message: the letter as text, the
// resources as application/fhir+json attachments.
func (s *SMTP) message(m *Mail) []byte {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	var b bytes.Buffer
	hdr := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	hdr("From", s.From)
	hdr("To", m.To)
	hdr("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	hdr("Date", time.Now().Format(time.RFC1123Z))
	hdr("Message-ID", "<"+strings.NewReplacer(":", ".", "/", ".").Replace(m.Key)+"@aitgw>")
	hdr("X-Idempotency-Key", m.Key)
	hdr("MIME-Version", "1.0")
	hdr("Content-Type", "multipart/mixed; boundary="+mw.Boundary())
	b.WriteString("\r\n")

	text, _ := mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {"text/plain; charset=utf-8"},
		"Content-Transfer-Encoding": {"quoted-printable"},
	})
	qp := quotedprintable.NewWriter(text)
	_, _ = io.WriteString(qp, strings.ReplaceAll(m.Body, "\n", "\r\n"))
	_ = qp.Close()
	for _, a := range m.Attachments {
		ct := a.ContentType
		if ct == "" {
			ct = "application/fhir+json"
		}
		part, _ := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {fmt.Sprintf("%s; name=%q", ct, a.Name)},
			"Content-Disposition":       {fmt.Sprintf("attachment; filename=%q", a.Name)},
			"Content-Transfer-Encoding": {"base64"},
		})
		enc := base64.StdEncoding.EncodeToString(a.Data)
		for len(enc) > 76 {
			_, _ = io.WriteString(part, enc[:76]+"\r\n")
			enc = enc[76:]
		}
		_, _ = io.WriteString(part, enc+"\r\n")
	}
	_ = mw.Close()
	b.Write(body.Bytes())
	return b.Bytes()
}

// postHook POSTs a notification Bundle to a rest-hook endpoint with the
// subscription's headers. Any 2xx is a delivery; anything else an error to retry.
func postHook(ctx context.Context, client *http.Client, s *subscription, bundle []byte, key string) error {
	timeout := s.Timeout
	if timeout <= 0 || timeout > time.Minute {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.Endpoint, bytes.NewReader(bundle))
	if err != nil {
		return err
	}
	ct := s.Payload
	if ct == "" || ct == "application/json" {
		ct = contentTypeFHIR
	}
	req.Header.Set("Content-Type", ct)
	for _, h := range s.Headers {
		if k, v, ok := strings.Cut(h, ":"); ok {
			req.Header.Add(strings.TrimSpace(k), strings.TrimSpace(v))
		}
	}
	if key != "" {
		req.Header.Set(idempotencyField, key)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("endpoint answered %s", resp.Status)
	}
	return nil
}
