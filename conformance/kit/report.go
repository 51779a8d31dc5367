package kit

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"html/template"

	"github.com/aitgw/aitgw/mapping/rules"
)

// JUnit renders the checks as a JUnit XML report: one testsuite per scenario, one
// testcase per check, the request and the response in system-out, a failure with
// its message.
func JUnit(checks []Check) []byte {
	type failure struct {
		Message string `xml:"message,attr"`
		Text    string `xml:",chardata"`
	}
	type testcase struct {
		Name      string   `xml:"name,attr"`
		Classname string   `xml:"classname,attr"`
		Time      string   `xml:"time,attr"`
		Failure   *failure `xml:"failure,omitempty"`
		SystemOut string   `xml:"system-out"`
	}
	type suite struct {
		Name     string     `xml:"name,attr"`
		Tests    int        `xml:"tests,attr"`
		Failures int        `xml:"failures,attr"`
		Cases    []testcase `xml:"testcase"`
	}
	var suites []*suite
	by := map[string]*suite{}
	for _, c := range checks {
		s := by[c.Scenario]
		if s == nil {
			s = &suite{Name: c.Scenario}
			by[c.Scenario] = s
			suites = append(suites, s)
		}
		tc := testcase{Name: c.Name + " (" + rules.Cite(c.Section) + ")", Classname: "aitgw.kit." + c.Scenario,
			Time: fmt.Sprintf("%.3f", c.Duration.Seconds()), SystemOut: c.Request + "\n\n" + c.Response}
		s.Tests++
		if !c.Passed {
			s.Failures++
			tc.Failure = &failure{Message: c.Message, Text: c.Request + "\n\n" + c.Response}
		}
		s.Cases = append(s.Cases, tc)
	}
	out := struct {
		XMLName xml.Name `xml:"testsuites"`
		Suites  []*suite `xml:"testsuite"`
	}{Suites: suites}
	b, _ := xml.MarshalIndent(out, "", "  ")
	return append([]byte(xml.Header), b...)
}

// HTML renders the checks as a readable report: one line per check with its verdict,
// the rule's source and section, the request and the response.
func HTML(checks []Check) []byte {
	passed := 0
	for _, c := range checks {
		if c.Passed {
			passed++
		}
	}
	var buf bytes.Buffer
	_ = reportTemplate.Execute(&buf, map[string]any{"Checks": checks, "Passed": passed, "Total": len(checks), "Cite": rules.Cite})
	return buf.Bytes()
}

var reportTemplate = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>AIT Gateway conformance kit</title>
<style>body{font-family:sans-serif}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em;vertical-align:top}.fail{background:#fdd}.pass{background:#dfd}pre{max-height:12em;overflow:auto;margin:0}</style>
</head><body><h1>AIT Gateway conformance kit</h1>
<p>{{.Passed}} of {{.Total}} checks passed.</p>
<table><tr><th>scenario</th><th>check</th><th>rule</th><th>verdict</th><th>request</th><th>response</th></tr>
{{range .Checks}}<tr class="{{if .Passed}}pass{{else}}fail{{end}}"><td>{{.Scenario}}</td><td>{{.Name}}</td><td>{{call $.Cite .Section}}</td>
<td>{{if .Passed}}passed{{else}}FAILED: {{.Message}}{{end}}</td><td><pre>{{.Request}}</pre></td><td><pre>{{.Response}}</pre></td></tr>
{{end}}</table></body></html>
`))
