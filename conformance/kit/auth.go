package kit

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// BackendToken gets a system access token by SMART Backend Services: it discovers
// the token endpoint (base/.well-known/smart-configuration), signs a client assertion
// with the client's private key (PKCS#8 PEM, EC P-384 for ES384 or RSA for RS384;
// kid names it in the client's JWKS) and asks for scope with client_credentials.
func BackendToken(ctx context.Context, base, clientID string, keyPEM []byte, kid, scope string) (string, error) {
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return "", fmt.Errorf("kit: the key is not PEM")
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return "", fmt.Errorf("kit: the key is not PKCS#8: %w", err)
	}
	var method jwt.SigningMethod
	switch key.(type) {
	case *ecdsa.PrivateKey:
		method = jwt.SigningMethodES384
	case *rsa.PrivateKey:
		method = jwt.SigningMethodRS384
	default:
		return "", fmt.Errorf("kit: an EC P-384 or RSA key is needed")
	}
	client := &http.Client{Timeout: 30 * time.Second}
	var conf struct {
		TokenEndpoint string `json:"token_endpoint"`
	}
	if err := getJSON(ctx, client, strings.TrimRight(base, "/")+"/.well-known/smart-configuration", &conf); err != nil || conf.TokenEndpoint == "" {
		return "", fmt.Errorf("kit: no token endpoint in the SMART configuration: %v", err)
	}
	jti := make([]byte, 16)
	_, _ = rand.Read(jti)
	now := time.Now()
	t := jwt.NewWithClaims(method, jwt.RegisteredClaims{Issuer: clientID, Subject: clientID, Audience: jwt.ClaimStrings{conf.TokenEndpoint},
		ID: hex.EncodeToString(jti), IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(4 * time.Minute))})
	t.Header["kid"] = kid
	assertion, err := t.SignedString(key)
	if err != nil {
		return "", err
	}
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {scope},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, conf.TokenEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &tok) != nil || tok.AccessToken == "" {
		return "", fmt.Errorf("kit: token endpoint: %s %s", resp.Status, clip(string(b)))
	}
	return tok.AccessToken, nil
}

func getJSON(ctx context.Context, c *http.Client, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(v)
}
