package rules

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestSiteRulesCannotLoosenSafetyLimits: a rules file may tighten the ziconotide
// maximum (000 §IX.1.c) and the number of molecules (000 §IX.1), never loosen them;
// every fault is named with its allowed range and source, and the file is refused
// whole.
func TestSiteRulesCannotLoosenSafetyLimits(t *testing.T) {
	for _, tc := range []struct {
		file, want string
	}{
		{"ziconotide-max-ug-per-day: 25\n", "ziconotide-max-ug-per-day: 25 ug/d would loosen the rule (safety limit"},
		{"ziconotide-max-ug-per-day: 21.7\n", "at most 21.6"},
		{"max-molecules: 4\n", "max-molecules: 4 1 would loosen the rule (safety limit"},
		{"rcp-deadline-days: 20\n", "rcp-deadline-days: 20 d would loosen the rule"},
		{"ome-threshold: 150\n", "ome-threshold: 150 mg/d outside the allowed 200-300"},
		{"ome-threshold: abc\n", "not a number"},
		{"time-zone: Mars/Olympus\n", "not an IANA time zone"},
		{"ome-treshold: 200\n", "ome-treshold: not a site setting"},
		{"refill-interval-min-days: 42\nrefill-interval-max-days: 30\n", "must be below"},
		{"{not yaml", "not YAML or JSON"},
	} {
		site, err := ParseSite("site.yaml", []byte(tc.file))
		if err == nil || site != nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want an error with %q", tc.file, err, tc.want)
		}
	}
	site, err := ParseSite("site.json", []byte(`{"ziconotide-max-ug-per-day": 9.6, "max-molecules": 2, "ome-threshold": 200,
		"rcp-deadline-days": 10, "time-zone": "America/Cayenne"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer Use(Use(site))
	if l, _ := LimitFor("ziconotide"); l.DoseMax != 9.6 || MaxMoleculesInEffect().Value != 2 || DefaultConfig().OMEThreshold != 200 {
		t.Errorf("tightened values not in effect: %v %v %v", l.DoseMax, MaxMoleculesInEffect(), DefaultConfig())
	}
	if d, _ := DeadlineByName("rcp-15d"); d.Max != (Span{Days: 10}) || !InEffect().Overridden(SettingRCPDays) || InEffect().Overridden(SettingAlgologyDays) {
		t.Errorf("rcp deadline in effect: %+v", d)
	}
	if d, _ := DeadlineByName("ir-follow-up-1m"); d.Max != (Span{Months: 1}) {
		t.Errorf("a deadline the site did not set changed: %+v", d)
	}
	if Zone().String() != "America/Cayenne" {
		t.Errorf("zone %s", Zone())
	}
}

// TestDayDeadlinesCountCalendarDaysInTheSiteZone (000 §VI): "within 15 days" of an
// anchor on 1 January at 10:00 in Paris ends on 16 January at 23:59:59.999 local
// time; "48 h" is 48 hours exactly; a "day before" minimum starts at local midnight.
func TestDayDeadlinesCountCalendarDaysInTheSiteZone(t *testing.T) {
	defer Use(Use(nil))
	paris, _ := time.LoadLocation("Europe/Paris")
	anchor := time.Date(2026, 1, 1, 10, 0, 0, 0, paris)
	due := Span{Days: 15}.Due(anchor)
	if !due.Equal(time.Date(2026, 1, 16, 23, 59, 59, 999999999, paris)) {
		t.Errorf("15 days due %s", due)
	}
	day15, day16 := time.Date(2026, 1, 16, 23, 59, 0, 0, paris), time.Date(2026, 1, 17, 0, 1, 0, 0, paris)
	if day15.After(due) || !day16.After(due) {
		t.Errorf("day 15 at 23:59 overdue %v, day 16 at 00:01 overdue %v", day15.After(due), day16.After(due))
	}
	if got := (Span{Hours: 48}).Due(anchor); !got.Equal(anchor.Add(48 * time.Hour)) {
		t.Errorf("48 h: %s", got)
	}
	if got := (Span{Days: 1}).Earliest(anchor); !got.Equal(time.Date(2026, 1, 2, 0, 0, 0, 0, paris)) {
		t.Errorf("the day after: %s", got)
	}
	// The same instant is another calendar day at another site.
	late := time.Date(2026, 1, 16, 23, 30, 0, 0, time.UTC) // 17 January 00:30 in Paris
	if !late.After(due) {
		t.Error("16 January 23:30 UTC is 17 January in Paris: overdue")
	}
	site, _ := ParseSite("s", []byte("time-zone: America/Cayenne\n"))
	Use(site)
	if late.After(Span{Days: 15}.Due(time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC))) {
		t.Error("16 January 20:30 in Cayenne is day 15 there: not overdue")
	}
}

// TestCatalogueIsUpToDate: CATALOGUE.md is what Catalogue renders from the tables
// (go generate ./mapping/rules rewrites it); every rule row cites its source by title.
func TestCatalogueIsUpToDate(t *testing.T) {
	defer Use(Use(nil))
	want := Catalogue()
	if os.Getenv("AITGW_UPDATE_CATALOGUE") == "1" {
		if err := os.WriteFile("CATALOGUE.md", []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile("CATALOGUE.md")
	if err != nil || string(got) != want {
		t.Fatalf("CATALOGUE.md is stale: run go generate ./mapping/rules (%v)", err)
	}
	for _, s := range []string{"Référentiel régional AIT §IX.1.c", "Fiche patient cimentoplastie", "21.6", "72607000", "20042000"} {
		if !strings.Contains(want, s) {
			t.Errorf("catalogue lacks %q", s)
		}
	}
	if strings.Contains(want, "shared/") || strings.Contains(want, "372452007") {
		t.Error("catalogue names a project path or the wrong route code")
	}
}
