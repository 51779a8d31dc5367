package main

import (
	"flag"
	"os"
	"strings"
	"time"

	"github.com/aitgw/aitgw/fhir/bolt"
	"github.com/aitgw/aitgw/server/smart"
)

// config holds the settings shared by the subcommands.
type config struct {
	Addr    string
	Data    string
	BaseURL string
	MaxBody int64
	// ExternalIssuer and JWKSURL trust an external identity provider's tokens.
	ExternalIssuer, JWKSURL string
	// CORSOrigins are the browser origins allowed to call the gateway cross-origin
	// (besides its own); TrustedProxies the CIDRs whose X-Forwarded-For is believed
	// (none by default: the audit trail's source address cannot be forged).
	CORSOrigins, TrustedProxies multiFlag
	// MaxTokenLifetime bounds the lifetime of the access tokens accepted; JWKSRefresh
	// is how often the external issuer's JWK Set is refetched.
	MaxTokenLifetime, JWKSRefresh time.Duration
	// NoBuiltInAuth turns the embedded authorization server off (with an external one).
	NoBuiltInAuth bool
	// SMTP relay of the notification letters (MSSanté style: STARTTLS + AUTH).
	SMTPRelay, SMTPFrom, SMTPUser, SMTPPassword string
	// NotifyHorizon is how long a notification is retried before it is dead-lettered.
	NotifyHorizon time.Duration
	// Notify: the secure-messaging client certificate and the delivery lease (notify.go).
	Notify notifyConfig
	// NotifyAllow lists the hosts (host or host:port) rest-hook endpoints may name
	// despite the egress rules (http, internal addresses): --notify-allow, repeatable.
	NotifyAllow []string
	// RedisURL, when set, keeps the data in Redis instead of the embedded store, for
	// several gateway instances; RedisPrefix namespaces its keys.
	RedisURL, RedisPrefix string
	// instance identifies this run of serve (gateway.json, /healthz).
	instance string
	// ops: logs, metrics, tracing, TLS (ops.go).
	ops opsConfig
	// RulesFile is the site's rules file (YAML or JSON): overrides of the
	// site-adjustable clinical values (mapping/rules.Settings).
	RulesFile string
	// Limits bound the work of one request and the HTTP connections (limits.go).
	Limits limits
	// withoutAudit turns the audit trail off: only the load command sets it, to
	// measure what the audit costs; serve has no such switch.
	withoutAudit bool
	// hub holds the settings of the hub's exports (hub.go).
	hub hubConfig
	// packages are FHIR NPM packages whose profiles the validator also knows (--package).
	packages packageFiles
	// storeOptions tune the embedded store: only the load command sets them, to
	// compare commit strategies in one run.
	storeOptions []bolt.Option
}

// flags declares the shared settings on fs, defaulting from AITGW_* variables.
func (c *config) flags(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", env("AITGW_ADDR", "127.0.0.1:8080"), "listen address (AITGW_ADDR)")
	fs.StringVar(&c.Data, "data", env("AITGW_DATA", "./data"), "data directory (AITGW_DATA)")
	fs.StringVar(&c.BaseURL, "base-url", env("AITGW_BASE_URL", ""), "public FHIR base URL (AITGW_BASE_URL); default http://<addr>/fhir")
	fs.Int64Var(&c.MaxBody, "max-body", 16<<20, "largest request body in bytes")
	fs.StringVar(&c.ExternalIssuer, "issuer", env("AITGW_ISSUER", ""), "external OAuth issuer whose tokens are trusted (AITGW_ISSUER)")
	fs.StringVar(&c.JWKSURL, "issuer-jwks-url", env("AITGW_ISSUER_JWKS_URL", ""), "JWKS URL of the external issuer (AITGW_ISSUER_JWKS_URL)")
	c.CORSOrigins = envList("AITGW_CORS_ORIGINS")
	c.TrustedProxies = envList("AITGW_TRUSTED_PROXIES")
	fs.Var(&c.CORSOrigins, "cors-origin", "browser origin (https://app.example) allowed to call the FHIR API, discovery and token endpoints; repeatable (AITGW_CORS_ORIGINS, comma-separated)")
	fs.Var(&c.TrustedProxies, "trusted-proxy", "CIDR of a reverse proxy whose X-Forwarded-For is trusted; repeatable (AITGW_TRUSTED_PROXIES, comma-separated; default: none)")
	fs.DurationVar(&c.MaxTokenLifetime, "max-token-lifetime", envDuration("AITGW_MAX_TOKEN_LIFETIME", smart.DefaultMaxLifetime), "longest lifetime (exp - iat) of an accepted access token; operator tokens: 24h (AITGW_MAX_TOKEN_LIFETIME)")
	fs.DurationVar(&c.JWKSRefresh, "jwks-refresh", envDuration("AITGW_JWKS_REFRESH", smart.DefaultJWKSRefresh), "how often the external issuer's JWK Set is refetched (AITGW_JWKS_REFRESH)")
	fs.StringVar(&c.RedisURL, "redis", env("AITGW_REDIS_URL", ""), "Redis URL (redis://host:6379/0) for a multi-instance deployment (AITGW_REDIS_URL); default: the embedded store under --data")
	fs.StringVar(&c.RedisPrefix, "redis-prefix", env("AITGW_REDIS_PREFIX", "aitgw"), "prefix of the gateway's Redis keys (AITGW_REDIS_PREFIX)")
	fs.StringVar(&c.SMTPRelay, "smtp-relay", env("AITGW_SMTP_RELAY", ""), "SMTP relay host:port for notification letters (AITGW_SMTP_RELAY)")
	fs.StringVar(&c.SMTPFrom, "smtp-from", env("AITGW_SMTP_FROM", "aitgw@localhost"), "sender of notification letters (AITGW_SMTP_FROM)")
	fs.StringVar(&c.SMTPUser, "smtp-user", env("AITGW_SMTP_USER", ""), "SMTP user (AITGW_SMTP_USER); the password is read from AITGW_SMTP_PASSWORD only")
	c.SMTPPassword = os.Getenv("AITGW_SMTP_PASSWORD")
	fs.DurationVar(&c.NotifyHorizon, "notify-horizon", 72*time.Hour, "how long a notification is retried before it is dead-lettered")
	c.ops.flags(fs)
	fs.StringVar(&c.RulesFile, "rules", env("AITGW_RULES", ""), "site rules file (YAML or JSON) overriding site-adjustable clinical values; see $ait-rules (AITGW_RULES)")
	c.Notify.flags(fs)
	fs.Func("notify-allow", "host or host:port that rest-hook endpoints may name although http or internal (repeatable; AITGW_NOTIFY_ALLOW, comma-separated)", func(s string) error {
		c.NotifyAllow = append(c.NotifyAllow, s)
		return nil
	})
	c.NotifyAllow = append(c.NotifyAllow, strings.FieldsFunc(os.Getenv("AITGW_NOTIFY_ALLOW"), func(r rune) bool { return r == ',' || r == ' ' })...)
	c.Limits.flags(fs)
	c.hubFlags(fs)
	fs.Var(&c.packages, "package", "FHIR NPM package (.tgz) whose profiles, ValueSets and CodeSystems $validate and meta.profile claims use; repeatable")
	fs.BoolVar(&c.NoBuiltInAuth, "no-builtin-auth", env("AITGW_NO_BUILTIN_AUTH", "") == "true", "turn the built-in authorization server off (AITGW_NO_BUILTIN_AUTH=true)")
}

// smart returns the SMART configuration.
func (c *config) smart() smart.Config {
	return smart.Config{BaseURL: c.base(), DataDir: c.Data, BuiltIn: !c.NoBuiltInAuth,
		ExternalIssuer: c.ExternalIssuer, JWKSURL: c.JWKSURL, MaxLifetime: c.MaxTokenLifetime, JWKSRefresh: c.JWKSRefresh}
}

// base returns the FHIR base URL, derived from the address when not set.
func (c *config) base() string {
	if c.BaseURL != "" {
		return strings.TrimRight(c.BaseURL, "/")
	}
	return "http://" + c.Addr + "/fhir"
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

// envList reads a comma-separated list from the environment.
func envList(name string) []string {
	return strings.FieldsFunc(os.Getenv(name), func(r rune) bool { return r == ',' || r == ' ' })
}

// envDuration reads a duration from the environment, def when unset or unreadable.
func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil {
		return d
	}
	return def
}
