package notify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aitgw/aitgw/fhir"
	"github.com/aitgw/aitgw/fhir/rest"
)

// Egress is where the gateway may send rest-hook notifications. A Subscription's
// endpoint is the client's to choose, so without a policy it would make the gateway
// POST into the hospital network or a cloud metadata service (server-side request
// forgery). The rule:
//
//   - the endpoint is https, names a public address or a DNS name, and neither a
//     forbidden name (localhost, metadata.google.internal…) nor an IP written in
//     decimal, octal or hex;
//   - the address a name resolves to is checked again on every connection
//     (handshake, heartbeat, delivery) against the private, loopback, link-local,
//     unspecified, multicast and metadata ranges, so that DNS rebinding gains
//     nothing;
//   - an operator allowlist (--notify-allow host[:port], repeatable) opens exact
//     hosts, over http too and whatever they resolve to: the test receiver, an
//     internal messaging hub.
type Egress struct {
	// Allow lists the hosts the operator opened, as host or host:port (IPv6 in
	// brackets); a host without a port opens every port.
	Allow []string
}

// forbiddenNames are host names that reach the machine itself or a cloud metadata
// service; forbiddenSuffixes are whole private namespaces.
var (
	forbiddenNames    = []string{"localhost", "metadata.google.internal", "metadata.goog", "metadata", "instance-data"}
	forbiddenSuffixes = []string{".localhost", ".internal", ".local", ".localdomain", ".home.arpa"}
)

// forbiddenPrefixes are the ranges netip's predicates do not cover: shared address
// space, benchmarking, documentation, IETF protocol assignments, reserved, and the
// IPv6 forms that embed an IPv4 address (NAT64, 6to4) or are not routable.
var forbiddenPrefixes = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8", "100.64.0.0/10", "192.0.0.0/24", "192.0.2.0/24", "198.18.0.0/15",
		"198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4", "255.255.255.255/32",
		"64:ff9b::/96", "64:ff9b:1::/48", "100::/64", "2001:db8::/32", "2002::/16", "fc00::/7",
		"fd00:ec2::254/128", // AWS IMDS over IPv6 (inside fc00::/7: named for the record)
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// ForbiddenAddr reports why an address may not receive notifications ("" when it
// may): loopback, private, link-local (169.254.169.254, the cloud metadata address,
// is one), unspecified, multicast and the forbiddenPrefixes.
func ForbiddenAddr(a netip.Addr) string {
	a = a.Unmap()
	switch {
	case !a.IsValid():
		return "not an IP address"
	case a.IsUnspecified():
		return "the unspecified address"
	case a.IsLoopback():
		return "a loopback address"
	case a.IsPrivate():
		return "a private address"
	case a.IsLinkLocalUnicast():
		return "a link-local address (cloud metadata services live there)"
	case a.IsMulticast() || a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast():
		return "a multicast address"
	}
	for _, p := range forbiddenPrefixes {
		if p.Contains(a) {
			return "a reserved or internal range (" + p.String() + ")"
		}
	}
	return ""
}

// allowed reports whether the operator opened host:port.
func (e *Egress) allowed(host, port string) bool {
	if e == nil {
		return false
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	for _, a := range e.Allow {
		h, p := a, ""
		if sh, sp, err := net.SplitHostPort(a); err == nil {
			h, p = sh, sp
		}
		h = strings.TrimSuffix(strings.Trim(h, "[]"), ".")
		if strings.EqualFold(h, host) && (p == "" || p == port) {
			return true
		}
	}
	return false
}

// CheckEndpoint checks a rest-hook endpoint before it is stored and before each
// request: nil, or why it is refused.
func (e *Egress) CheckEndpoint(endpoint string) error {
	u, err := url.Parse(endpoint)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return errors.New("the endpoint must be an absolute https URL")
	}
	if u.User != nil {
		return errors.New("the endpoint must not carry credentials in its URL: use channel.header")
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return fmt.Errorf("scheme %q: the endpoint must be https", u.Scheme)
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = map[string]string{"https": "443", "http": "80"}[u.Scheme]
	}
	if e.allowed(host, port) {
		return nil
	}
	if u.Scheme != "https" {
		return fmt.Errorf("the endpoint must be https (plain http only for a host the operator allows with --notify-allow)")
	}
	return checkHost(host)
}

// checkHost refuses IP literals in forbidden ranges, IPs in a non-canonical notation,
// and the forbidden names.
func checkHost(host string) error {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if host == "" {
		return errors.New("the endpoint names no host")
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if why := ForbiddenAddr(a); why != "" {
			return fmt.Errorf("the endpoint's host %s is %s", host, why)
		}
		return nil
	}
	if a, ok := legacyIPv4(host); ok {
		return fmt.Errorf("the endpoint's host %q is the IP address %s written in decimal, octal or hex: write a DNS name", host, a)
	}
	for _, n := range forbiddenNames {
		if host == n {
			return fmt.Errorf("the endpoint's host %q is internal to the gateway's network", host)
		}
	}
	for _, s := range forbiddenSuffixes {
		if strings.HasSuffix(host, s) {
			return fmt.Errorf("the endpoint's host %q is in the internal namespace %s", host, s)
		}
	}
	return nil
}

// legacyIPv4 parses the inet_aton forms resolvers and browsers still accept:
// 1 to 4 dot-separated parts, each decimal, octal (leading 0) or hex (0x), the last
// filling the remaining bytes ("2130706433", "0x7f.1", "0177.0.0.1", "127.1").
func legacyIPv4(host string) (netip.Addr, bool) {
	parts := strings.Split(host, ".")
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	vals := make([]uint64, len(parts))
	for i, p := range parts {
		base, digits := 10, p
		switch {
		case strings.HasPrefix(p, "0x") || strings.HasPrefix(p, "0X"):
			base, digits = 16, p[2:]
			if digits == "" {
				digits = "0"
			}
		case len(p) > 1 && p[0] == '0':
			base, digits = 8, p[1:]
		}
		v, err := strconv.ParseUint(digits, base, 32)
		if err != nil || p == "" {
			return netip.Addr{}, false
		}
		vals[i] = v
	}
	var ip uint64
	for i, v := range vals[:len(vals)-1] {
		if v > 255 {
			return netip.Addr{}, false
		}
		ip |= v << (24 - 8*i)
	}
	last := vals[len(vals)-1]
	if last >= 1<<(8*(5-len(vals))) {
		return netip.Addr{}, false
	}
	ip |= last
	return netip.AddrFrom4([4]byte{byte(ip >> 24), byte(ip >> 16), byte(ip >> 8), byte(ip)}), true
}

// control is the net.Dialer hook that refuses, after resolution and before the
// connection, an address the endpoint's name resolved to in a forbidden range.
func control(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return err
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return fmt.Errorf("egress: unexpected dial address %q", address)
	}
	if why := ForbiddenAddr(a); why != "" {
		return fmt.Errorf("egress: refused to connect to %s, %s (server-side request forgery guard)", a, why)
	}
	return nil
}

// DialContext connects to addr ("host:port" as the URL named it): directly for a
// host the operator allows, else through a dialer that checks every address the name
// resolves to.
func (e *Egress) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if host, port, err := net.SplitHostPort(addr); err != nil || !e.allowed(host, port) {
		d.Control = control
	}
	return d.DialContext(ctx, network, addr)
}

// Client is the HTTP client of rest-hook deliveries and handshakes under the policy:
// no proxy from the environment (the proxy would connect instead of the checked
// dialer), no redirects (a 3xx could point anywhere), and each request's URL
// checked again, so that a Subscription stored before a policy change is held to it.
func (e *Egress) Client() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	t.DialContext = e.DialContext
	return &http.Client{
		Transport:     checkedTransport{e, t},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// checkedTransport checks each request's URL against the policy before sending it.
type checkedTransport struct {
	e    *Egress
	next http.RoundTripper
}

func (c checkedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := c.e.CheckEndpoint(r.URL.String()); err != nil {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, fmt.Errorf("egress: %v", err)
	}
	return c.next.RoundTrip(r)
}

// EgressHook refuses, inside the write's transaction, a Subscription whose endpoint
// the policy forbids (422 naming Subscription.channel.endpoint). It checks a new
// endpoint only: the worker's status updates of an existing Subscription pass, and
// the delivery-time check holds them to the policy anyway.
type EgressHook struct{ Egress *Egress }

var _ rest.WriteHook = EgressHook{}

// AfterWrite checks the endpoint of a written Subscription when it is new or changed.
func (h EgressHook) AfterWrite(_ context.Context, w *rest.Writer, rec *fhir.Record) error {
	if rec.Type != "Subscription" || rec.Deleted {
		return nil
	}
	s, err := parseSubscription(rec.ID, rec.Body)
	if err != nil {
		return nil // ValidateSubscription answers unreadable ones
	}
	if rec.Version > 1 {
		if prev, err := w.Tx().Version(rec.Type, rec.ID, rec.Version-1); err == nil && !prev.Deleted {
			if old, err := parseSubscription(rec.ID, prev.Body); err == nil && old.Endpoint == s.Endpoint {
				return nil
			}
		}
	}
	if err := h.Egress.CheckEndpoint(s.Endpoint); err != nil {
		return fhir.Errorf(http.StatusUnprocessableEntity, "security", "Subscription.channel.endpoint",
			"the gateway will not send notifications to %q: %v", s.Endpoint, err)
	}
	return nil
}
