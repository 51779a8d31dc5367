package rules

//go:generate env AITGW_UPDATE_CATALOGUE=1 go test -count=1 -run TestCatalogueIsUpToDate .

import (
	"fmt"
	"sort"
	"strings"
)

// Catalogue renders the rules catalogue (CATALOGUE.md) from the tables: every rule
// with its value and its source by document title and section (Cite). The defaults
// are shown; a site's overrides are read over FHIR with $ait-rules.
func Catalogue() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	cell := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	w("# Clinical rules catalogue\n\n")
	w("Generated from the rule tables of `mapping/rules` by `go generate ./mapping/rules`; do not edit.\n")
	w("A test fails when this file is stale. Sources are cited by document title and section.\n\n")

	w("## Sources\n\n| number | title | what it is |\n|---|---|---|\n")
	for _, s := range Sources {
		w("| %s | %s | %s |\n", s.ID, cell(s.Title), cell(s.Kind))
	}

	w("\n## Site settings (`serve --rules FILE`, read with `$ait-rules`)\n\n")
	w("| name | what | default | allowed | a site may | source |\n|---|---|---|---|---|---|\n")
	w("| `%s` | time zone of the care site: day-based deadlines count its calendar days | %s | an IANA zone | set it | %s |\n",
		SettingTimeZone, defaultTimeZone, "project convention")
	for _, x := range []struct {
		name, what, def string
		table           []XDSCode
	}{
		{SettingFacilityType, "type of the facility the letters come from (XDS healthcareFacilityTypeCode, CDA healthCareFacility code)", defaultFacilityType, HealthcareFacilityTypes},
		{SettingPracticeSetting, "practice setting of the letters' author (XDS practiceSettingCode)", defaultPracticeSetting, PracticeSettings},
	} {
		var codes []string
		for _, c := range x.table {
			codes = append(codes, c.Code)
		}
		w("| `%s` | %s | %s | %s | set it | ANS CI-SIS, Volet Partage de documents de santé; default by project convention |\n", x.name, cell(x.what), x.def, strings.Join(codes, ", "))
	}
	for _, s := range Settings {
		may := map[Direction]string{Either: "set it in range", TightenDown: "only lower it", TightenUp: "only raise it"}[s.Direction]
		if s.Safety {
			may += " (safety limit)"
		}
		w("| `%s` | %s | %g %s | %g-%g | %s | %s |\n", s.Name, cell(s.Display), s.Default, s.Unit, s.Min, s.Max, may, cell(Cite(s.Section)))
	}

	w("\n## Thresholds and windows\n\n| rule | value | source |\n|---|---|---|\n")
	for _, t := range []Threshold{OMEThresholdDefault, OMEThreshold001, ReservoirMin, ReservoirMax, TrialRelief, MaxMolecules, ZiconotideTypicalMax} {
		w("| %s | %g %s | %s |\n", cell(t.Name), t.Value, t.Unit, cell(Cite(t.Section)))
	}
	for _, x := range []Window{LabFreshness, ImagingFreshness, PumpLifeExpectancy, RefillInterval, TrialDuration, AntiAngiogenicDelay} {
		w("| %s | %s | %s |\n", cell(x.Name), windowText(x.Min, x.Max), cell(Cite(x.Section)))
	}

	w("\n## Deadlines\n\nDay-based deadlines count calendar days in the site's time zone; hour-based ones count hours.\n\n")
	w("| name | rule | window | source |\n|---|---|---|---|\n")
	for _, d := range Deadlines {
		w("| `%s` | %s | %s after %s | %s |\n", d.Name, cell(d.Why), windowText(d.Min, d.Max), d.After, cell(Cite(d.Section)))
	}

	w("\n## Order of the steps\n\n| step | needs | why | source |\n|---|---|---|---|\n")
	for _, r := range Requirements {
		w("| %s | %s | %s | %s |\n", r.Fact, r.Needs, cell(r.Why), cell(Cite(r.Section)))
	}
	w("\n## Who may record a step\n\n| step | roles | why | source |\n|---|---|---|---|\n")
	for _, r := range ActorRules {
		var roles []string
		for role := range r.Roles {
			roles = append(roles, string(role))
		}
		sort.Strings(roles)
		w("| %s | %s | %s | %s |\n", r.Fact, strings.Join(roles, ", "), cell(r.Why), cell(Cite(r.Section)))
	}

	w("\n## Contraindications\n\n| code | contraindication | kind | SNOMED CT | qualifier | source |\n|---|---|---|---|---|---|\n")
	for _, c := range Contraindications {
		kind, q := "relative", ""
		if c.Absolute {
			kind = "absolute"
		}
		if c.UnlessControlled {
			q = "only when not coded `controlled` in Condition.stage.summary"
		}
		w("| `%s` | %s | %s | %s | %s | %s |\n", c.Code, cell(c.Display), kind, strings.Join(c.SNOMED, ", "), q, cell(Cite(c.Section)))
	}
	w("\nConditions with clinicalStatus inactive, remission or resolved, or verificationStatus refuted or entered-in-error, are not contraindications.\n")

	w("\n## Oral morphine equivalent\n\n| molecule | route | daily dose in | factor to oral morphine mg/d | source |\n|---|---|---|---|---|\n")
	for _, c := range Conversions {
		w("| %s | %s | %s/d | %g | %s |\n", c.Molecule, c.Route, c.Unit, c.Factor, cell(Cite(c.Section)))
	}
	var nl []string
	for m := range NoLinearConversion {
		nl = append(nl, m)
	}
	sort.Strings(nl)
	for _, m := range nl {
		w("| %s | any | | not converted: %s | |\n", m, cell(NoLinearConversion[m]))
	}

	w("\n## Route codes\n\n| system | code | display | route |\n|---|---|---|---|\n")
	for _, r := range RouteCodes {
		w("| %s | %s | %s | %s |\n", r.System, r.Code, r.Display, r.Route)
	}

	w("\n## Intrathecal prescription\n\n| molecule | concentration | daily dose | start | steps | source |\n|---|---|---|---|---|---|\n")
	for _, l := range IntrathecalLimits {
		conc, dose, start, steps := "", "", "", ""
		if l.Concentration > 0 {
			conc = fmt.Sprintf("%g %s", l.Concentration, l.ConcUnit)
		}
		switch {
		case l.DoseMin > 0 || l.DoseMax > 0:
			dose = fmt.Sprintf("%g-%g %s", l.DoseMin, l.DoseMax, l.DoseUnit)
			if l.DoseMaxIsHard {
				dose = fmt.Sprintf("at most %g %s (hard limit)", l.DoseMax, l.DoseUnit)
			}
		default:
			dose = "in " + l.DoseUnit
		}
		if l.OffLabel {
			dose += ", off-label"
		}
		if l.Start > 0 {
			start = fmt.Sprintf("%g %s", l.Start, l.DoseUnit)
		}
		if l.StepMax > 0 {
			steps = fmt.Sprintf("< %g %s, at least %s apart", l.StepMax, l.DoseUnit, l.StepMinDelay)
		}
		w("| %s | %s | %s | %s | %s | %s |\n", l.Molecule, conc, dose, start, steps, cell(Cite(l.Section)))
	}

	w("\n## Dossier\n\n| element | kind | codes | source |\n|---|---|---|---|\n")
	for _, e := range DossierElements {
		w("| %s | %s | %s | %s |\n", cell(e.Display), e.Kind, cell(strings.Join(e.Codes, ", ")), cell(Cite(e.Section)))
	}
	w("\n| lab | LOINC | unit | acceptable | source |\n|---|---|---|---|---|\n")
	for _, l := range Labs {
		acc := ""
		if l.Low != nil {
			acc += fmt.Sprintf("> %g ", *l.Low)
		}
		if l.High != nil {
			acc += fmt.Sprintf("< %g ", *l.High)
		}
		if l.UsualRange {
			acc += "(the laboratory's own range wins)"
		}
		w("| %s | %s | %s | %s | %s |\n", cell(l.Display), strings.Join(l.LOINC, ", "), l.Unit, strings.TrimSpace(acc), cell(Cite(l.Section)))
	}

	w("\n## Imaging prerequisites\n\n| requirement | modality | body site | source |\n|---|---|---|---|\n")
	for _, r := range ImagingRequirements {
		mod := r.Modality
		if mod == "" {
			mod = "CT or MR"
		}
		w("| %s | %s | %s | %s |\n", cell(r.Display), mod, strings.Join(r.Regions, " + "), cell(Cite(r.Section)))
	}

	w("\n## Who is told what\n\n| milestone | on | recipients | source |\n|---|---|---|---|\n")
	for _, m := range Milestones {
		var to []string
		for _, r := range m.Recipients {
			to = append(to, string(r))
		}
		if m.RefillCentreIfDifferent {
			to = append(to, "refill-centre-physician when different")
		}
		w("| %s | %s | %s | %s |\n", cell(m.Display), strings.Join(m.On, ", "), strings.Join(to, ", "), cell(Cite(m.Section)))
	}

	for _, s := range []Score{Mirels, SINS} {
		w("\n## %s score\n\n| item | answer | points |\n|---|---|---|\n", s.Name)
		for _, it := range s.Items {
			w("| %s | %s | %d |\n", it.Question, cell(it.Display), it.Points)
		}
		w("\n| total | band | advice | source |\n|---|---|---|---|\n")
		for _, bd := range s.Bands {
			w("| %d-%d | %s | %s | %s |\n", bd.Min, bd.Max, cell(bd.Display), cell(bd.Advice), cell(Cite(s.Section)))
		}
	}
	return b.String()
}

func windowText(lo, hi Span) string {
	switch {
	case lo.IsZero() && hi.IsZero():
		return "by the scheduled date"
	case lo.IsZero():
		return "at most " + hi.String()
	case hi.IsZero():
		return "at least " + lo.String()
	}
	return lo.String() + " to " + hi.String()
}
