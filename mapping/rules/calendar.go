package rules

import "time"

// Day-based rules (15 days, 7 days, 1 month, 6 weeks, 3 months) count calendar days
// in the care site's time zone (Zone): "within 15 days" of a referral received on
// 2 March at 18:00 ends on 17 March at 23:59:59 local time, whatever the hour of the
// step. Hour-based rules (48 h) count exact hours.

// hoursOnly reports whether the span counts exact hours (a "48 h" rule).
func (s Span) hoursOnly() bool { return s.Hours != 0 && s.Months == 0 && s.Days == 0 }

// DayOf returns the calendar date of t in the site's zone, as midnight UTC of that
// date: a value for comparing and counting days, not an instant.
func DayOf(t time.Time) time.Time {
	l := t.In(Zone())
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC)
}

// startOfLocalDay returns the first instant of the calendar day of t, shifted by the
// span's months and days, in the site's zone.
func (s Span) startOfLocalDay(t time.Time) time.Time {
	l := t.In(Zone())
	return time.Date(l.Year(), l.Month()+time.Month(s.Months), l.Day()+s.Days, 0, 0, 0, 0, Zone())
}

// Due returns the last instant a maximum delay counted from anchor allows: anchor
// plus the hours for an hour rule; otherwise the end of the local calendar day
// anchor + months + days (an empty span: the end of the anchor's own day).
func (s Span) Due(anchor time.Time) time.Time {
	if s.hoursOnly() {
		return anchor.Add(time.Duration(s.Hours) * time.Hour)
	}
	return s.startOfLocalDay(anchor).AddDate(0, 0, 1).Add(-time.Nanosecond)
}

// Earliest returns the first instant a minimum delay counted from anchor allows:
// anchor plus the hours for an hour rule; otherwise the start of the local calendar
// day anchor + months + days ("the day before": any hour of the next day).
func (s Span) Earliest(anchor time.Time) time.Time {
	if s.hoursOnly() || s.IsZero() {
		return anchor.Add(time.Duration(s.Hours) * time.Hour)
	}
	return s.startOfLocalDay(anchor)
}

// Fresh reports whether a dated value is "less than" the window's Max old at ref,
// counted in calendar days of the site's zone: a report dated 6 weeks before the
// referral's day is not less than 6 weeks old, one dated the day after is (whatever
// the hours, or their absence in a date-only value).
func (w Window) Fresh(dated, ref time.Time) bool {
	limit := DayOf(ref).AddDate(0, -w.Max.Months, -w.Max.Days)
	return DayOf(dated).After(limit)
}
