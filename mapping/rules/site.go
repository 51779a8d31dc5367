package rules

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"time"
	_ "time/tzdata" // the site's time zone resolves without the host's zoneinfo

	"github.com/goccy/go-yaml"
)

// Direction says which way a site may move a setting from its default.
type Direction string

// Directions of the site settings.
const (
	// Either: anywhere in the allowed range (the seeds disagree, or local practice).
	Either Direction = "either"
	// TightenDown: a site may only lower it (a maximum delay or dose: lower is safer
	// or faster). Raising it above the default loosens the rule and is refused.
	TightenDown Direction = "lower-only"
	// TightenUp: a site may only raise it (a minimum delay).
	TightenUp Direction = "raise-only"
)

// Setting is one site-adjustable value of the rules: its name in the rules file, its
// default with the seed section it comes from, and the range a site may choose in.
type Setting struct {
	Name    string
	Display string
	Unit    string // UCUM
	Default float64
	// Min and Max bound what a rules file may set (inclusive).
	Min, Max float64
	// Direction limits the move from the default; Safety marks a patient-safety limit
	// (a site can only make it stricter).
	Direction Direction
	Safety    bool
	Section   string
}

// Names of the site settings.
const (
	SettingOMEThreshold     = "ome-threshold"
	SettingRefillMinDays    = "refill-interval-min-days"
	SettingRefillMaxDays    = "refill-interval-max-days"
	SettingRefillSafetyDays = "refill-safety-days"
	SettingRCPDays          = "rcp-deadline-days"
	SettingAlgologyDays     = "algology-consultation-deadline-days"
	SettingSurgeryMaxDays   = "surgery-deadline-days"
	SettingIRFollowUpDays   = "ir-follow-up-deadline-days"
	SettingImagingFreshDays = "imaging-freshness-days"
	SettingLabFreshDays     = "lab-freshness-days"
	SettingZiconotideMax    = "ziconotide-max-ug-per-day"
	SettingMaxMolecules     = "max-molecules"
	SettingTimeZone         = "time-zone"
	defaultTimeZone         = "Europe/Paris"
	refillMaxDefaultDays    = 92 // "3 months", as the longest three calendar months
	labFreshnessDefaultDays = 31 // "1 month"; a site setting counts days
	irFollowUpDefaultDays   = 31
	refillSafetyDefaultDays = 3
	refillSafetyDaysMax     = 14
)

// Settings are the values a site may adjust with `serve --rules FILE`. A value left
// out of the file keeps its default; the defaults are the referential's (000).
var Settings = []Setting{
	{SettingOMEThreshold, "OME refractory threshold", "mg/d", 300, 200, 300, Either, false, "000 §IV, 001"},
	{SettingRefillMinDays, "shortest usual refill interval", "d", 21, 7, 42, Either, false, "000 §XIII, 001"},
	{SettingRefillMaxDays, "longest refill interval (refills are capped to it)", "d", refillMaxDefaultDays, 21, refillMaxDefaultDays, TightenDown, false, "000 §XIII, 001"},
	{SettingRefillSafetyDays, "days before the reservoir runs dry the next refill is proposed", "d", refillSafetyDefaultDays, 0, refillSafetyDaysMax, Either, false, "local practice (not in the seeds)"},
	{SettingRCPDays, "RCP within N days of the complete dossier", "d", 15, 1, 15, TightenDown, false, "000 §VI"},
	{SettingAlgologyDays, "algology consultation within N days of the RCP", "d", 7, 1, 7, TightenDown, false, "000 §VII"},
	{SettingSurgeryMaxDays, "surgery at most N days after the algology consultation", "d", 15, 2, 15, TightenDown, false, "000 §VII"},
	{SettingIRFollowUpDays, "IR follow-up within N days of the act (1 month)", "d", irFollowUpDefaultDays, 7, irFollowUpDefaultDays, TightenDown, false, "003"},
	{SettingImagingFreshDays, "dossier imaging less than N days old (6 weeks)", "d", 42, 7, 42, TightenDown, false, "000 §V.2.d"},
	{SettingLabFreshDays, "dossier labs less than N days old (1 month)", "d", labFreshnessDefaultDays, 7, labFreshnessDefaultDays, TightenDown, false, "000 §V.2.c"},
	{SettingZiconotideMax, "ziconotide maximum daily dose", "ug/d", 21.6, 2.4, 21.6, TightenDown, true, "000 §IX.1.c"},
	{SettingMaxMolecules, "molecules in the intrathecal mixture", "1", 3, 1, 3, TightenDown, true, "000 §IX.1"},
}

// SettingByName returns the setting row of a name.
func SettingByName(name string) (Setting, bool) {
	for _, s := range Settings {
		if s.Name == name {
			return s, true
		}
	}
	return Setting{}, false
}

// Site is the set of values in effect at a care site: the defaults, overridden by the
// site's rules file. The zero Site is the defaults in Europe/Paris.
type Site struct {
	values     map[string]float64
	overridden map[string]bool
	zone       *time.Location
	zoneName   string
	// facilityType and practiceSetting are the site's XDS codes (xds.go).
	facilityType, practiceSetting string
	// Source names the file the overrides came from ("" for the defaults).
	Source string
}

// Value returns a setting's value in effect (its default when not overridden).
func (s *Site) Value(name string) float64 {
	if s != nil {
		if v, ok := s.values[name]; ok {
			return v
		}
	}
	st, _ := SettingByName(name)
	return st.Default
}

// Overridden reports whether the site's file set a value.
func (s *Site) Overridden(name string) bool { return s != nil && s.overridden[name] }

// Zone is the care site's time zone: day-based deadlines count calendar days in it.
func (s *Site) Zone() *time.Location {
	if s != nil && s.zone != nil {
		return s.zone
	}
	return parisZone
}

// ZoneName is the IANA name of the site's time zone.
func (s *Site) ZoneName() string {
	if s != nil && s.zoneName != "" {
		return s.zoneName
	}
	return defaultTimeZone
}

var parisZone = func() *time.Location {
	l, err := time.LoadLocation(defaultTimeZone)
	if err != nil { // time/tzdata is linked in: cannot happen
		panic(err)
	}
	return l
}()

// ParseSite reads a rules file (YAML, or JSON which is YAML too): a mapping of
// setting names to numbers, and "time-zone" to an IANA zone name. Every value is
// checked against its allowed range and direction; an unknown name, a value out of
// range, or a safety limit loosened is an error naming the setting, the allowed
// range and the seed section, so that the gateway refuses to start on it.
func ParseSite(source string, data []byte) (*Site, error) {
	var raw map[string]any
	if err := yaml.Unmarshal(data, &raw); err != nil {
		// JSON is YAML; the JSON decoder's message is clearer for a .json file.
		if jerr := json.Unmarshal(data, &raw); jerr != nil {
			return nil, fmt.Errorf("rules file %s: not YAML or JSON: %v", source, err)
		}
	}
	site := &Site{values: map[string]float64{}, overridden: map[string]bool{}, zone: parisZone, zoneName: defaultTimeZone, Source: source}
	names := make([]string, 0, len(raw))
	for k := range raw {
		names = append(names, k)
	}
	sort.Strings(names)
	var errs []string
	for _, name := range names {
		v := raw[name]
		if name == SettingTimeZone {
			zn, ok := v.(string)
			loc, err := time.LoadLocation(zn)
			if !ok || zn == "" || err != nil {
				errs = append(errs, fmt.Sprintf("%s: %v is not an IANA time zone (e.g. %s)", name, v, defaultTimeZone))
				continue
			}
			site.zone, site.zoneName, site.overridden[name] = loc, zn, true
			continue
		}
		if isXDS, err := site.parseXDSSetting(name, v); isXDS {
			if err != nil {
				errs = append(errs, err.Error())
			}
			continue
		}
		st, ok := SettingByName(name)
		if !ok {
			errs = append(errs, fmt.Sprintf("%s: not a site setting (known: %s)", name, strings.Join(settingNames(), ", ")))
			continue
		}
		f, ok := number(v)
		if !ok {
			errs = append(errs, fmt.Sprintf("%s: %v is not a number (%s)", name, v, st.Unit))
			continue
		}
		if err := st.check(f); err != nil {
			errs = append(errs, err.Error())
			continue
		}
		site.values[name], site.overridden[name] = f, true
	}
	if lo, hi := site.Value(SettingRefillMinDays), site.Value(SettingRefillMaxDays); lo >= hi {
		errs = append(errs, fmt.Sprintf("%s (%g) must be below %s (%g) (%s)", SettingRefillMinDays, lo, SettingRefillMaxDays, hi, Cite("000 §XIII")))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("rules file %s:\n  %s", source, strings.Join(errs, "\n  "))
	}
	return site, nil
}

// check applies the range and direction of a setting to a value.
func (st Setting) check(v float64) error {
	kind := "allowed"
	if st.Safety {
		kind = "safety limit: a site may only make it stricter;"
	}
	switch {
	case st.Direction == TightenDown && v > st.Default:
		return fmt.Errorf("%s: %g %s would loosen the rule (%s, %s): at most %g", st.Name, v, st.Unit, kind, Cite(st.Section), st.Default)
	case st.Direction == TightenUp && v < st.Default:
		return fmt.Errorf("%s: %g %s would loosen the rule (%s, %s): at least %g", st.Name, v, st.Unit, kind, Cite(st.Section), st.Default)
	case v < st.Min || v > st.Max:
		return fmt.Errorf("%s: %g %s outside the allowed %g-%g (%s)", st.Name, v, st.Unit, st.Min, st.Max, Cite(st.Section))
	case st.Unit == "1" || st.Unit == "d":
		if v != float64(int(v)) {
			return fmt.Errorf("%s: %g is not a whole number of %s (%s)", st.Name, v, map[string]string{"1": "molecules", "d": "days"}[st.Unit], Cite(st.Section))
		}
	}
	return nil
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case uint64:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

func settingNames() []string {
	out := []string{SettingTimeZone, SettingFacilityType, SettingPracticeSetting}
	for _, s := range Settings {
		out = append(out, s.Name)
	}
	return out
}

var inEffect atomic.Pointer[Site]

// Use makes site the values in effect for the whole process (the gateway calls it
// once at start, before serving); nil restores the defaults. It returns the values
// in effect before, so that tests can restore them.
func Use(site *Site) *Site {
	return inEffect.Swap(site)
}

// InEffect returns the values in effect (the defaults when no rules file was given).
func InEffect() *Site {
	if s := inEffect.Load(); s != nil {
		return s
	}
	return &Site{}
}

// Zone is the care site's time zone in effect (Europe/Paris by default).
func Zone() *time.Location { return InEffect().Zone() }
