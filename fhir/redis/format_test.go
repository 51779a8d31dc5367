package redis

import (
	"context"
	"encoding/hex"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/aitgw/aitgw/fhir"
)

// TestLayoutGolden writes one version and reads back the raw Redis values: they must
// stay byte for byte what earlier builds wrote (data already in Redis must still read,
// and match fhir/bolt's values for migration). The hex below was produced
// independently of fhir/storecodec.
func TestLayoutGolden(t *testing.T) {
	prefix := randomPrefix()
	s := openPrefixed(t, prefix)
	ctx := context.Background()
	when := time.Date(2024, 1, 2, 3, 4, 5, 6, time.UTC)
	err := s.Update(ctx, func(tx fhir.Tx) error {
		return tx.Put(&fhir.Record{Type: "Patient", ID: "p1", Version: 1, LastUpdated: when, Method: "PUT", Body: []byte(`{"a":1}`)},
			[]fhir.IndexEntry{{Param: "x", Key: []byte{}}, {Param: "name", Key: []byte{0, 1, 0xFF}}})
	})
	if err != nil {
		t.Fatal(err)
	}
	opts, _ := goredis.ParseURL(redisURL)
	c := goredis.NewClient(opts)
	defer c.Close()
	k := newKeys(prefix)
	const (
		stamp = "97a668b730013206" + "0000000000000001" // time key, commit sequence 1
		v1    = "0000000000000001"
	)
	hget := func(key, field string) string {
		v, err := c.HGet(ctx, key, field).Bytes()
		if err != nil {
			t.Fatalf("HGET %q %q: %v", key, field, err)
		}
		return hex.EncodeToString(v)
	}
	members := func(key string) []string {
		ms, err := c.ZRange(ctx, key, 0, -1).Result()
		if err != nil {
			t.Fatalf("ZRANGE %q: %v", key, err)
		}
		out := make([]string, len(ms))
		for i, m := range ms {
			out[i] = hex.EncodeToString([]byte(m))
		}
		return out
	}
	checks := []struct {
		what      string
		got, want []string
	}{
		{"cur", []string{hget(k.cur(), "Patient\x00p1")}, []string{"000000000000000100"}},
		{"version", []string{hget(k.versions("Patient", "p1"), "\x00\x00\x00\x00\x00\x00\x00\x01")}, []string{"008cc88980e6adb4a62f035055547b2261223a317d"}},
		{"resource index", []string{hget(k.resIndex(), "Patient\x00p1")}, []string{"046e616d65030001ff017800"}},
		{"system history", members(k.hist()), []string{stamp + "50617469656e7400703100" + v1}},
		{"type history", members(k.typeHist("Patient")), []string{stamp + "703100" + v1}},
		{"name index", members(k.index("Patient", "name")), []string{"00ff01ff" + "0001" + "7031"}},
		{"x index", members(k.index("Patient", "x")), []string{"0001" + "7031"}},
		{"live", members(k.live("Patient")), []string{"7031"}},
	}
	for _, ch := range checks {
		if len(ch.got) != len(ch.want) {
			t.Errorf("%s: got %v, want %v", ch.what, ch.got, ch.want)
			continue
		}
		for i := range ch.got {
			if ch.got[i] != ch.want[i] {
				t.Errorf("%s: got %s, want %s", ch.what, ch.got[i], ch.want[i])
			}
		}
	}
}
