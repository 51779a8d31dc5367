// Package notify tells the physicians of a pathway what happened at each milestone
// ("Who is told what", pathways.md): it records one FHIR Communication per recipient
// in the very commit that raised the milestone, queues its deliveries in the store
// (a durable outbox), and a Worker delivers them at least once over FHIR
// Subscriptions (R4 Backport IG 1.1, rest-hook) and secure SMTP.
//
// Nothing here depends on the pathway engine: the caller turns its milestones into
// Milestone values.
package notify

import (
	"context"
	"time"

	"github.com/aitgw/aitgw/fhir"
)

// Milestone is one pathway event to tell recipients about, as the pathway engine
// raised it.
type Milestone struct {
	// Code is the milestone's code (MilestoneRules), Display its English label.
	Code, Display string
	// SeedSection is the referential's section that asks for the notification.
	SeedSection string
	// Patient is the subject, "Patient/id".
	Patient string
	// About lists the resources the notification is about ("Type/id").
	About []string
	// Recipients are the people to tell; a Reference left empty means the pathway
	// data does not name that recipient (a warning and an alert, never a silent skip).
	Recipients []Recipient
	// Coordinator is the coordinating algologist (CarePlan.author): told when a
	// recipient is missing or a delivery is dead-lettered.
	Coordinator string
	// Facts feed the letter (keys: see LetterRules).
	Facts map[string]string
	// EventTime is when the milestone happened.
	EventTime time.Time
}

// Recipient is someone to tell: their pathway role and the reference to their
// Practitioner, PractitionerRole or Organization.
type Recipient struct {
	Role, Reference string
}

// Pathway roles, spelled as the pathway engine spells them.
const (
	RoleGP                 = "general-practitioner"
	RoleReferringPhysician = "referring-physician"
	RoleAlgologist         = "algologist"
	RoleRefillCentre       = "refill-centre-physician"
)

// RoleSource says where the pathway data names a role, so that a missing recipient
// is reported at the element that should have named it (pathways.md, "Actors").
type RoleSource struct {
	Role string
	// Expression is the FHIRPath of the element naming the recipient.
	Expression string
	// Label is the role in French, as the letters name it.
	Label       string
	SeedSection string
}

// RoleSources is the table of where each role comes from (000 §III, pathways.md
// "Actors").
var RoleSources = []RoleSource{
	{RoleGP, "Patient.generalPractitioner", "médecin traitant", "000 §V.2"},
	{RoleReferringPhysician, "ServiceRequest.requester", "médecin adresseur", "000 §V"},
	{RoleAlgologist, "CarePlan.author", "algologue coordonnateur", "000 §VI"},
	{RoleRefillCentre, "CareTeam.participant.member", "médecin du centre remplisseur", "000 §XI, §XII"},
}

// roleSource returns the row of a role, or a generic one.
func roleSource(role string) RoleSource {
	for _, r := range RoleSources {
		if r.Role == role {
			return r
		}
	}
	return RoleSource{Role: role, Expression: "Communication.recipient", Label: role, SeedSection: "000 §III"}
}

// Writer writes resource versions inside one store transaction. *rest.Writer
// satisfies it, so that Communications are stamped, indexed and hooked like any write.
type Writer interface {
	Tx() fhir.Tx
	Now() time.Time
	Put(typ, id string, body []byte, method string, ifMatch int64) (*fhir.Record, bool, error)
	Match(typ, query string) ([]string, error)
}

// Updater runs fn in one store write transaction with a Writer over it, as a
// rest.Service does for an interaction. fn may run more than once.
type Updater interface {
	Update(ctx context.Context, fn func(Writer) error) error
}

// UpdaterFunc adapts a function to Updater.
type UpdaterFunc func(ctx context.Context, fn func(Writer) error) error

// Update calls f.
func (f UpdaterFunc) Update(ctx context.Context, fn func(Writer) error) error { return f(ctx, fn) }
