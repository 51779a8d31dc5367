package mapping

import (
	"testing"
	"time"

	"github.com/aitgw/aitgw/mapping/rules"
)

func BenchmarkIntake(b *testing.B) {
	body := fixture(b, "referral-frcore.json")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Intake(body, IntakeOptions{Received: received}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkApplyAndRenderCarePlan(b *testing.B) {
	p := NewPathway(KindAIT, "Patient/p", "ServiceRequest/s", "x")
	d := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p, _, _ = Apply(p, Event{Fact: rules.FactReferral, At: d})
	b.ReportAllocs()
	for b.Loop() {
		q, _, err := Apply(p, Event{Fact: rules.FactDossierComplete, At: d})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := PathwayFromCarePlan(CarePlanJSON(q)); err != nil {
			b.Fatal(err)
		}
	}
}
