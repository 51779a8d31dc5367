package smart

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"testing"
)

// TestPublicJWKOfECKeys: an EC key's JWK carries its coordinates, each padded to the
// curve's size (RFC 7518 §6.2.1.2), as read from the key's uncompressed encoding.
func TestPublicJWKOfECKeys(t *testing.T) {
	for _, curve := range []elliptic.Curve{elliptic.P256(), elliptic.P384()} {
		k, err := ecdsa.GenerateKey(curve, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		jwk := publicJWK(&k.PublicKey)
		size := (curve.Params().BitSize + 7) / 8
		x, _ := base64.RawURLEncoding.DecodeString(jwk["x"])
		y, _ := base64.RawURLEncoding.DecodeString(jwk["y"])
		if jwk["kty"] != "EC" || jwk["crv"] != curve.Params().Name || len(x) != size || len(y) != size {
			t.Fatalf("%s: %v", curve.Params().Name, jwk)
		}
		pub, err := ecdsa.ParseUncompressedPublicKey(curve, append(append([]byte{4}, x...), y...))
		if err != nil || !pub.Equal(&k.PublicKey) {
			t.Fatalf("%s: the JWK's coordinates are not the key's", curve.Params().Name)
		}
	}
}
