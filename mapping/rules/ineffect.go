package rules

// The tables as a site runs them: each accessor returns a table row with the site's
// override applied (InEffect); a value the site did not set keeps the referential's
// own unit ("1 month" stays a calendar month, an override counts days).

// daysOr returns def unless the site overrides the setting, then N days.
func daysOr(name string, def Span) Span {
	s := InEffect()
	if !s.Overridden(name) {
		return def
	}
	return Span{Days: int(s.Value(name))}
}

// deadlineSettings maps a deadline row to the setting that may shorten its maximum.
var deadlineSettings = map[string]string{
	"rcp-15d":         SettingRCPDays,
	"algology-7d":     SettingAlgologyDays,
	"surgery-48h-15d": SettingSurgeryMaxDays,
	"ir-follow-up-1m": SettingIRFollowUpDays,
}

// DeadlinesInEffect returns the Deadlines with the site's overrides applied.
func DeadlinesInEffect() []Deadline {
	out := make([]Deadline, len(Deadlines))
	for i, d := range Deadlines {
		if name, ok := deadlineSettings[d.Name]; ok {
			d.Max = daysOr(name, d.Max)
		}
		out[i] = d
	}
	return out
}

// RefillWindow is the refill interval in effect (000 §XIII, 001).
func RefillWindow() Window {
	w := RefillInterval
	w.Min = daysOr(SettingRefillMinDays, w.Min)
	w.Max = daysOr(SettingRefillMaxDays, w.Max)
	return w
}

// ImagingFreshnessInEffect is the dossier imaging freshness in effect (000 §V.2.d).
func ImagingFreshnessInEffect() Window {
	w := ImagingFreshness
	w.Max = daysOr(SettingImagingFreshDays, w.Max)
	return w
}

// LabFreshnessInEffect is the dossier lab freshness in effect (000 §V.2.c).
func LabFreshnessInEffect() Window {
	w := LabFreshness
	w.Max = daysOr(SettingLabFreshDays, w.Max)
	return w
}

// MaxMoleculesInEffect is the largest mixture in effect (000 §IX.1): 3, or fewer.
func MaxMoleculesInEffect() Threshold {
	t := MaxMolecules
	t.Value = InEffect().Value(SettingMaxMolecules)
	return t
}

// OMEThresholdInEffect is the refractory threshold in effect (000 §IV; 001 says 200).
func OMEThresholdInEffect() Threshold {
	t := OMEThresholdDefault
	s := InEffect()
	t.Value = s.Value(SettingOMEThreshold)
	if s.Overridden(SettingOMEThreshold) {
		t.Section = "000 §IV, 001"
	}
	return t
}
