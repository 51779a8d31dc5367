package appendonly

import (
	"strings"
	"testing"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

func TestHistory(t *testing.T) {
	s := openTemp(t)
	// ids out of time order on purpose: History must order by LastUpdated.
	mustUpdate(t, s, func(tx fhir.Tx) error {
		for _, e := range []*fhir.Record{event("a", 3), event("b", 1), event("c", 2), event("d", 5), event("e", 4)} {
			if err := tx.Put(e, nil); err != nil {
				return err
			}
		}
		return nil
	})
	at := func(n int) time.Time { return base.Add(time.Duration(n) * time.Second) }
	cases := []struct {
		f    fhir.HistoryFilter
		want string
	}{
		{fhir.HistoryFilter{}, "d e a c b"},
		{fhir.HistoryFilter{Type: typ}, "d e a c b"},
		{fhir.HistoryFilter{Type: "Patient"}, ""},
		{fhir.HistoryFilter{Since: at(3)}, "d e a"},
		{fhir.HistoryFilter{Since: at(3).Add(1)}, "d e"},
		{fhir.HistoryFilter{At: at(3)}, "c b"},
		{fhir.HistoryFilter{At: at(3).Add(1)}, "a c b"},
		{fhir.HistoryFilter{Type: typ, Since: at(2), At: at(5)}, "e a c"},
		{fhir.HistoryFilter{Type: typ, ID: "a"}, "a"},
		{fhir.HistoryFilter{Type: typ, ID: "a", Since: at(4)}, ""},
		{fhir.HistoryFilter{Type: typ, ID: "a", At: at(4)}, "a"},
		{fhir.HistoryFilter{Type: typ, ID: "zz"}, ""},
		{fhir.HistoryFilter{Type: "Patient", ID: "a"}, ""},
	}
	for _, c := range cases {
		var got []string
		mustView(t, s, func(tx fhir.Tx) error {
			got = got[:0]
			return tx.History(c.f, func(r *fhir.Record) bool { got = append(got, r.ID); return true })
		})
		if strings.Join(got, " ") != c.want {
			t.Errorf("History(%+v) = %v, want %q", c.f, got, c.want)
		}
	}
	n := 0
	mustView(t, s, func(tx fhir.Tx) error {
		return tx.History(fhir.HistoryFilter{}, func(*fhir.Record) bool { n++; return n < 2 })
	})
	if n != 2 {
		t.Errorf("History went on after fn returned false: %d calls", n)
	}
}
