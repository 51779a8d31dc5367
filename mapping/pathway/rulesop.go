package pathway

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/aitgw/aitgw/fhir/rest"
	"github.com/aitgw/aitgw/mapping/rules"
)

// Rules is GET [base]/$ait-rules: the site-adjustable values of the clinical rules as
// this gateway runs them (rules.InEffect), as a Parameters with one parameter per
// setting: its value in effect, unit, default, allowed range, whether the site's
// rules file overrode it, whether it is a safety limit a site may only tighten, and
// its source by document title and section (rules.Cite). The site's time zone comes
// first. It reads nothing of the patients and writes nothing.
func Rules() Operation {
	return func(ctx context.Context, req *rest.Request) (*rest.Response, error) {
		return ok(RulesParameters(rules.InEffect())), nil
	}
}

// RulesParameters renders the values in effect of a site (see Rules).
func RulesParameters(site *rules.Site) []byte {
	params := []any{map[string]any{"name": rules.SettingTimeZone, "part": []any{
		map[string]any{"name": "value", "valueString": site.ZoneName()},
		map[string]any{"name": "default", "valueString": "Europe/Paris"},
		map[string]any{"name": "overridden", "valueBoolean": site.Overridden(rules.SettingTimeZone)},
		map[string]any{"name": "description", "valueString": "time zone of the care site: day-based deadlines count its calendar days"},
	}}}
	for _, x := range []struct {
		name, what string
		code       rules.XDSCode
	}{
		{rules.SettingFacilityType, "type of the facility the letters come from (ANS JDV_J02-XdsHealthcareFacilityTypeCode-CISIS)", site.HealthcareFacilityType()},
		{rules.SettingPracticeSetting, "practice setting of the letters' author (ANS JDV_J04-XdsPracticeSettingCode-CISIS)", site.PracticeSetting()},
	} {
		params = append(params, map[string]any{"name": x.name, "part": []any{
			map[string]any{"name": "value", "valueCoding": map[string]any{"system": "urn:oid:" + x.code.System, "code": x.code.Code, "display": x.code.Display}},
			map[string]any{"name": "overridden", "valueBoolean": site.Overridden(x.name)},
			map[string]any{"name": "description", "valueString": x.what},
		}})
	}
	for _, s := range rules.Settings {
		params = append(params, map[string]any{"name": s.Name, "part": []any{
			map[string]any{"name": "value", "valueDecimal": json.Number(formatFloat(site.Value(s.Name)))},
			map[string]any{"name": "unit", "valueCode": s.Unit},
			map[string]any{"name": "default", "valueDecimal": json.Number(formatFloat(s.Default))},
			map[string]any{"name": "min", "valueDecimal": json.Number(formatFloat(s.Min))},
			map[string]any{"name": "max", "valueDecimal": json.Number(formatFloat(s.Max))},
			map[string]any{"name": "direction", "valueCode": string(s.Direction)},
			map[string]any{"name": "safety", "valueBoolean": s.Safety},
			map[string]any{"name": "overridden", "valueBoolean": site.Overridden(s.Name)},
			map[string]any{"name": "description", "valueString": s.Display},
			map[string]any{"name": "source", "valueString": rules.Cite(s.Section)},
		}})
	}
	b, _ := json.Marshal(map[string]any{"resourceType": "Parameters", "parameter": params})
	return b
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
