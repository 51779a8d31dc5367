// Package rules holds the clinical rules of the AIT and IR pathways as data: every
// threshold, window, conversion factor, limit, score item and notification of the
// referential lives in a table here, each row naming the seed section it comes from
// ("000 §V": document number and section; Sources has the documents' titles and Cite
// renders a citation by title). Code elsewhere reads these tables; it never repeats a
// number. A site adjusts the values of Settings with a rules file (ParseSite, Use);
// the *InEffect accessors return the tables as the site runs them. CATALOGUE.md is
// generated from the tables (go generate).
package rules

import "time"

// Span is a clinical delay. Months and Days are calendar units (a month is the
// calendar month, so "1 month before 31 March" is 28 or 29 February... as time.AddDate
// normalises it); Hours are exact hours.
type Span struct {
	Months, Days, Hours int
}

// AddTo returns t moved forward by the span.
func (s Span) AddTo(t time.Time) time.Time {
	return t.AddDate(0, s.Months, s.Days).Add(time.Duration(s.Hours) * time.Hour)
}

// SubFrom returns t moved back by the span.
func (s Span) SubFrom(t time.Time) time.Time {
	return t.AddDate(0, -s.Months, -s.Days).Add(-time.Duration(s.Hours) * time.Hour)
}

// IsZero reports whether the span is empty (an unbounded side of a window).
func (s Span) IsZero() bool { return s == Span{} }

// String renders the span the way the referential writes it ("15 days", "48 h").
func (s Span) String() string {
	switch {
	case s.Months != 0 && s.Days == 0 && s.Hours == 0:
		return plural(s.Months, "month")
	case s.Days != 0 && s.Months == 0 && s.Hours == 0:
		if s.Days%7 == 0 {
			return plural(s.Days/7, "week")
		}
		return plural(s.Days, "day")
	case s.Hours != 0 && s.Months == 0 && s.Days == 0:
		return itoa(s.Hours) + " h"
	case s.IsZero():
		return "0"
	}
	return plural(s.Months, "month") + " " + plural(s.Days, "day") + " " + itoa(s.Hours) + " h"
}

func plural(n int, unit string) string {
	if n == 1 || n == -1 {
		return itoa(n) + " " + unit
	}
	return itoa(n) + " " + unit + "s"
}

func itoa(n int) string {
	if n < 0 {
		return "-" + itoa(-n)
	}
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// Config holds the rules the seeds disagree on; the defaults are those of the
// regional referential (000).
type Config struct {
	// OMEThreshold is the daily oral-morphine equivalent (mg/day) above which pain is
	// refractory: 300 in 000 §IV, 200 in 001.
	OMEThreshold float64
	// RefillSafetyDays is how many days before the reservoir runs dry the next refill
	// is proposed. Local practice, not in the seeds; 0 proposes the dry date itself.
	RefillSafetyDays int
}

// DefaultConfig is the configuration in effect: the regional referential's (000 §IV)
// unless the site's rules file overrides it (Use).
func DefaultConfig() Config {
	s := InEffect()
	return Config{OMEThreshold: s.Value(SettingOMEThreshold), RefillSafetyDays: int(s.Value(SettingRefillSafetyDays))}
}

// Threshold is one numeric limit with its unit and seed section.
type Threshold struct {
	Name    string
	Value   float64
	Unit    string // UCUM
	Section string
}

// Window is one delay rule: an event must come at least Min and at most Max after its
// anchor (a zero side is unbounded).
type Window struct {
	Name     string
	Min, Max Span
	Section  string
}

// Indication, dossier freshness, technique and refill thresholds.
var (
	// OMEThresholdDefault: refractory above 300 mg/day oral morphine equivalent.
	OMEThresholdDefault = Threshold{"OME refractory threshold", 300, "mg/d", "000 §IV"}
	// OMEThreshold001 is the review article's lower threshold.
	OMEThreshold001 = Threshold{"OME refractory threshold (review)", 200, "mg/d", "001"}
	// LabFreshness: labs less than 1 month old, counted from the referral date.
	LabFreshness = Window{"labs less than 1 month old", Span{}, Span{Months: 1}, "000 §V.2.c"}
	// ImagingFreshness: imaging less than 6 weeks old, counted from the referral date.
	ImagingFreshness = Window{"imaging less than 6 weeks old", Span{}, Span{Days: 42}, "000 §V.2.d"}
	// PumpLifeExpectancy: life expectancy over 3 months selects the implanted pump.
	PumpLifeExpectancy = Window{"life expectancy for an implanted pump", Span{Months: 3}, Span{}, "000 §VI"}
	// RefillInterval: refills every 3 weeks to 3 months.
	RefillInterval = Window{"refill interval", Span{Days: 21}, Span{Months: 3}, "000 §XIII, 001"}
	// ReservoirMin and ReservoirMax: pump reservoirs hold 20 to 40 mL.
	ReservoirMin = Threshold{"pump reservoir minimum", 20, "mL", "001"}
	// ReservoirMax: see ReservoirMin.
	ReservoirMax = Threshold{"pump reservoir maximum", 40, "mL", "001"}
	// TrialDuration: the optional trial lasts 4 weeks with an external pump.
	TrialDuration = Window{"trial period", Span{}, Span{Days: 28}, "002"}
	// TrialRelief: a trial is positive with at least 50 % pain relief.
	TrialRelief = Threshold{"trial pain relief", 50, "%", "002"}
	// AntiAngiogenicDelay: an anti-angiogenic drug within 15 days is a relative
	// contraindication (oncology opinion).
	AntiAngiogenicDelay = Window{"anti-angiogenic drug", Span{}, Span{Days: 15}, "000 §IV"}
)

// TechniqueRule is one row of the technique choice (000 §VI).
type TechniqueRule struct {
	Code, Display string
	// FollowUp says who follows the patient with this technique.
	FollowUp string
	Section  string
}

// Techniques by life expectancy: strictly over 3 months gets the implanted pump; the
// seed writes "> 3 mois" and "< 3 mois", so exactly 3 months is not "over" and falls
// to the external device.
var (
	TechniquePump = TechniqueRule{"implanted-pump", "Intrathecal analgesia with implanted pump",
		"implanting centre algologist, then refill centre", "000 §VI"}
	TechniquePort = TechniqueRule{"catheter-port-external-pump",
		"Intrathecal catheter with subcutaneous port and external syringe driver",
		"palliative-care unit (USP) or home hospitalisation (HAD)", "000 §VI"}
)
