package rules

// Role is an actor of the pathways (pathways.md, "Actors").
type Role string

// Roles of the pathway actors.
const (
	RolePatient              Role = "patient"
	RoleReferringPhysician   Role = "referring-physician"
	RoleGP                   Role = "general-practitioner"
	RoleAlgologist           Role = "algologist" // coordinating pain specialist
	RoleImplantingPhysician  Role = "implanting-physician"
	RolePharmacist           Role = "pharmacist"
	RoleRefillCentre         Role = "refill-centre-physician"
	RoleAnaesthetist         Role = "anaesthetist"
	RolePsychologist         Role = "psychologist" // psychologist or psychiatrist, at the RCP (000 §VI)
	RoleInterventionalRadiol Role = "interventional-radiologist"
	RolePhysician            Role = "physician" // any other physician
	RoleNurse                Role = "nurse"
)

// Physicians are the roles that count as "a trained physician" (000 §XIII).
var Physicians = map[Role]bool{
	RoleReferringPhysician: true, RoleGP: true, RoleAlgologist: true, RoleImplantingPhysician: true,
	RoleRefillCentre: true, RoleAnaesthetist: true, RoleInterventionalRadiol: true, RolePhysician: true,
}

// Facts are what the posted step resources establish, each with a date.
const (
	FactReferral         = "referral"
	FactDossierComplete  = "dossier-complete"
	FactRCPDecision      = "rcp-decision"
	FactRCPAccepted      = "rcp-accepted"
	FactConsent          = "consent"
	FactAlgologyConsult  = "algology-consultation"
	FactAnaesthesiaVisit = "anaesthesia-consultation"
	FactPlanning         = "planning"
	FactPrescription     = "prescription"
	FactAdmission        = "admission"
	FactImplantation     = "implantation"
	FactDischarge        = "discharge"
	FactFollowUp         = "follow-up"
	FactRefill           = "refill"
	FactRefillDue        = "refill-due"
	FactTrialStart       = "trial-start"
	FactTrialPositive    = "trial-positive"
	FactInsurerApproval  = "insurer-approval"
	FactComplication     = "complication"
	FactIRRequest        = "ir-request"
	FactIRRCP            = "ir-rcp"
	FactIRConsultation   = "ir-consultation"
	FactIRProcedure      = "ir-procedure"
	FactIRFollowUp       = "ir-follow-up"
)

// FactTrialNegative is the trial's result when the pain scores and the medication
// posted show less than 50 % relief or no reduction of the medication: no definitive
// pump (002). The gateway computes the result: the step must agree with it.
const FactTrialNegative = "trial-negative"

// Step is one step of a pathway, rendered as one CarePlan activity.
type Step struct {
	Number  int
	Code    string
	Display string
	Section string
	// StartedBy: the first of these facts puts the step in progress.
	StartedBy []string
	// DoneBy: all these facts complete the step; none means the step stays in
	// progress for the rest of the pathway (follow-up, refills).
	DoneBy []string
	// Deadline names the Deadlines row that gives the step's scheduled window.
	Deadline string
}

// AITSteps are the ten steps of the AIT pathway (000 §III).
var AITSteps = []Step{
	{1, "indication", "Indication", "000 §IV", nil, []string{FactReferral}, ""},
	{2, "dossier", "Patient AIT dossier", "000 §V", []string{FactReferral}, []string{FactDossierComplete}, ""},
	{3, "rcp", "Multidisciplinary decision (RCP)", "000 §VI", nil, []string{FactRCPDecision}, "rcp-15d"},
	{4, "preop-consultation", "Pre-operative consultations (algology, anaesthesia)", "000 §VII",
		[]string{FactAlgologyConsult, FactAnaesthesiaVisit}, []string{FactAlgologyConsult, FactConsent, FactAnaesthesiaVisit}, "algology-7d"},
	{5, "planning", "Planning of the intervention", "000 §VIII", nil, []string{FactPlanning}, ""},
	{6, "prescription", "Prescription and preparation", "000 §IX", nil, []string{FactPrescription}, ""},
	{7, "hospitalisation", "Hospitalisation and implantation", "000 §X", []string{FactAdmission}, []string{FactImplantation}, "surgery-48h-15d"},
	{8, "discharge", "Discharge consultation", "000 §XI", nil, []string{FactDischarge}, ""},
	{9, "follow-up", "Follow-up", "000 §XII", []string{FactDischarge}, nil, ""},
	{10, "refill", "Pump refills", "000 §XIII", []string{FactRefill}, nil, "refill-due"},
}

// IRSteps are the interventional-radiology trajectory (003).
var IRSteps = []Step{
	{1, "ir-request", "IR request", "003", nil, []string{FactIRRequest}, ""},
	{2, "ir-rcp", "RCP complex pain or bone metastases", "003", []string{FactIRRequest}, []string{FactIRRCP}, ""},
	{3, "ir-consultation", "Pre-interventional consultation", "003", nil, []string{FactIRConsultation}, ""},
	{4, "ir-procedure", "Procedure", "003", nil, []string{FactIRProcedure}, "ir-48h"},
	{5, "ir-follow-up", "Follow-up at 1 month", "003", nil, []string{FactIRFollowUp}, "ir-follow-up-1m"},
}

// AITFacts are the facts a step resource may establish in the AIT pathway.
var AITFacts = []string{FactReferral, FactDossierComplete, FactRCPDecision, FactConsent, FactAlgologyConsult,
	FactAnaesthesiaVisit, FactPlanning, FactPrescription, FactAdmission, FactImplantation, FactDischarge,
	FactFollowUp, FactRefill, FactTrialStart, FactTrialPositive, FactTrialNegative, FactInsurerApproval, FactComplication}

// IRFacts are the facts a step resource may establish in the IR pathway.
var IRFacts = []string{FactIRRequest, FactIRRCP, FactIRConsultation, FactIRProcedure, FactIRFollowUp, FactComplication}

// Requirement: an event establishing Fact needs Needs to be recorded first.
type Requirement struct {
	Fact, Needs string
	// When limits the row to pathways where this fact is recorded ("" always).
	When    string
	Why     string
	Section string
}

// Requirements are the predecessor rules of both pathways.
var Requirements = []Requirement{
	{FactRCPDecision, FactDossierComplete, "", "the RCP decides on a complete dossier", "000 §VI"},
	{FactAlgologyConsult, FactRCPAccepted, "", "the algology consultation follows an accepted RCP decision", "000 §VII"},
	{FactPlanning, FactRCPAccepted, "", "planning needs an accepted RCP decision", "000 §VIII"},
	{FactPlanning, FactConsent, "", "planning needs the patient's written consent", "000 §VIII"},
	{FactPrescription, FactRCPAccepted, "", "the intrathecal prescription needs an accepted RCP decision", "000 §IX"},
	{FactAdmission, FactPlanning, "", "admission follows the planning of the intervention", "000 §X"},
	{FactImplantation, FactRCPAccepted, "", "implantation needs an accepted RCP decision", "000 §VI"},
	{FactImplantation, FactConsent, "", "implantation needs the patient's consent", "000 §VI, §VIII"},
	{FactImplantation, FactAlgologyConsult, "", "implantation follows the algology consultation", "000 §VII"},
	{FactImplantation, FactAnaesthesiaVisit, "", "implantation needs the anaesthesia consultation", "000 §VII"},
	{FactTrialPositive, FactTrialStart, "", "a trial's result follows the trial's start", "002"},
	{FactTrialNegative, FactTrialStart, "", "a trial's result follows the trial's start", "002"},
	{FactImplantation, FactTrialPositive, FactTrialStart, "after a trial, the definitive pump needs a positive trial", "002"},
	{FactImplantation, FactInsurerApproval, FactTrialStart, "after a trial, the definitive pump needs the insurer's approval", "002"},
	{FactDischarge, FactImplantation, "", "discharge follows implantation", "000 §XI"},
	{FactDischarge, FactRefillDue, "", "the first refill date is set before discharge", "000 §XI"},
	{FactFollowUp, FactDischarge, "", "follow-up starts after discharge", "000 §XII"},
	{FactRefill, FactDischarge, "", "refills follow discharge", "000 §XIII"},
	{FactIRRCP, FactIRRequest, "", "the RCP examines an IR request", "003"},
	{FactIRConsultation, FactIRRCP, "", "the pre-interventional consultation follows the RCP", "003"},
	{FactIRProcedure, FactIRConsultation, "", "the procedure follows the pre-interventional consultation", "003"},
	{FactIRFollowUp, FactIRProcedure, "", "follow-up follows the procedure", "003"},
}

// ActorRule: the event establishing Fact must be recorded by one of Roles.
type ActorRule struct {
	Fact    string
	Roles   map[Role]bool
	Why     string
	Section string
}

// ActorRules restrict who may record a step.
var ActorRules = []ActorRule{
	{FactRefill, Physicians, "a refill is done by a trained physician", "000 §XIII"},
	{FactPrescription, map[Role]bool{RoleAlgologist: true}, "the intrathecal mixture is prescribed by the algologist", "000 §IX.1"},
}

// Deadline: Of must come at least Min and at most Max after After. Min breaches are
// refused (a safety delay); Max breaches are flagged overdue (a service deadline).
// Calendar compares dates, not instants ("the day before").
type Deadline struct {
	Name      string
	Of, After string
	Min, Max  Span
	Calendar  bool
	// When / Unless limit the row to pathways with / without this condition.
	When, Unless string
	Why          string
	Section      string
	// Milestone is raised when the deadline passes ("" for MilestoneOverdue).
	Milestone string
}

// ConditionMethadone marks a patient on methadone (000 §X).
const ConditionMethadone = "methadone"

// Deadlines are the delays of 000 §VI-§XIII and 003.
var Deadlines = []Deadline{
	{Name: "rcp-15d", Of: FactRCPDecision, After: FactDossierComplete, Max: Span{Days: 15},
		Why: "RCP within 15 days of the complete dossier", Section: "000 §VI"},
	{Name: "algology-7d", Of: FactAlgologyConsult, After: FactRCPDecision, Max: Span{Days: 7},
		Why: "algology consultation within 7 days of the RCP validation", Section: "000 §VII"},
	{Name: "surgery-48h-15d", Of: FactImplantation, After: FactAlgologyConsult, Min: Span{Hours: 48}, Max: Span{Days: 15},
		Why: "surgery 48 h to 15 days after the algology consultation", Section: "000 §VII"},
	{Name: "anaesthesia-48h", Of: FactImplantation, After: FactAnaesthesiaVisit, Min: Span{Hours: 48},
		Why: "anaesthesia consultation at least 48 h before implantation", Section: "000 §VII"},
	{Name: "admission-d-1", Of: FactImplantation, After: FactAdmission, Min: Span{Days: 1}, Calendar: true,
		Unless: ConditionMethadone, Why: "admission the day before implantation", Section: "000 §X"},
	{Name: "admission-48h-methadone", Of: FactImplantation, After: FactAdmission, Min: Span{Days: 2}, Calendar: true,
		When: ConditionMethadone, Why: "admission 48 h before implantation for a patient on methadone", Section: "000 §X"},
	{Name: "refill-due", Of: FactRefill, After: FactRefillDue,
		Why: "refill by the scheduled date", Section: "000 §XIII", Milestone: MilestoneRefillOverdue},
	{Name: "ir-48h", Of: FactIRProcedure, After: FactIRConsultation, Min: Span{Hours: 48},
		Why: "pre-interventional consultation at least 48 h before the act", Section: "003"},
	{Name: "ir-follow-up-1m", Of: FactIRFollowUp, After: FactIRProcedure, Max: Span{Months: 1},
		Why: "follow-up at 1 month of the act", Section: "003"},
}

// DeadlineByName returns the named deadline as the site runs it (DeadlinesInEffect).
func DeadlineByName(name string) (Deadline, bool) {
	for _, d := range DeadlinesInEffect() {
		if d.Name == name {
			return d, true
		}
	}
	return Deadline{}, false
}

// MilestoneRule is one row of "Who is told what": the facts that raise it and the
// roles told. RefillCentreIfDifferent adds the refill-centre physician when the refill
// centre is not the implanting centre.
type MilestoneRule struct {
	Code, Display           string
	On                      []string
	Recipients              []Role
	RefillCentreIfDifferent bool
	Section                 string
}

// Milestone codes that code raises without a posted fact.
const (
	MilestoneDossierIncomplete = "dossier-incomplete"
	MilestoneOverdue           = "deadline-overdue"
	// MilestonePumpDry: the pump would run dry before the next scheduled refill.
	MilestonePumpDry = "pump-dry-before-refill"
	// MilestoneRefillOverdue: a scheduled refill date passed without a refill.
	MilestoneRefillOverdue = "refill-overdue"
)

// Milestones is the notification matrix (pathways.md, "Who is told what").
var Milestones = []MilestoneRule{
	{"referral-received", "Referral received", []string{FactReferral}, []Role{RoleReferringPhysician}, false, "000 §V-VI"},
	{MilestoneDossierIncomplete, "Dossier incomplete (what is missing)", nil, []Role{RoleReferringPhysician}, false, "000 §V-VI"},
	{"planned-ait-care", "Planned AIT care", []string{FactReferral}, []Role{RoleGP}, false, "000 §V.1, §V.2"},
	{"rcp-decision-sent", "RCP decision and technique", []string{FactRCPDecision}, []Role{RoleReferringPhysician, RoleGP}, false, "000 §VI"},
	{"intervention-planned", "Intervention planned (date, modalities, treatment relay)", []string{FactPlanning},
		[]Role{RoleGP, RoleReferringPhysician}, false, "000 §VIII"},
	{"implantation-done", "Implantation done (device, mixture, first refill)", []string{FactImplantation},
		[]Role{RoleGP, RoleReferringPhysician}, false, "000 §X, §XI"},
	{"discharge-letter", "Discharge letter", []string{FactDischarge}, []Role{RoleGP, RoleReferringPhysician}, true, "000 §XI"},
	{"refill-letter", "Refill (drugs used)", []string{FactRefill}, []Role{RoleGP}, false, "000 §XIII"},
	{"complication", "Complication", []string{FactComplication}, []Role{RoleGP, RoleReferringPhysician, RoleAlgologist}, false, "000 §X, §IX"},
	{"trial-result", "Trial period result and decision", []string{FactTrialPositive, FactTrialNegative},
		[]Role{RoleGP, RoleReferringPhysician}, false, "002"},
	{"ir-rcp-decision", "IR RCP decision and act", []string{FactIRRCP}, []Role{RoleReferringPhysician, RoleGP}, false, "003"},
	{"ir-procedure-done", "IR act done, 1-month follow-up", []string{FactIRProcedure}, []Role{RoleGP, RoleReferringPhysician}, false, "003"},
	{MilestoneOverdue, "A deadline is overdue", nil, []Role{RoleAlgologist}, false, "000 §VI, §VII"},
	{MilestonePumpDry, "The pump would run dry before the next scheduled refill", nil,
		[]Role{RoleAlgologist, RoleRefillCentre}, false, "000 §XIII, 001"},
	{MilestoneRefillOverdue, "A scheduled refill date passed without a refill", nil,
		[]Role{RoleAlgologist, RoleRefillCentre}, false, "000 §XIII"},
}

// MilestoneByCode returns the matrix row of a milestone.
func MilestoneByCode(code string) (MilestoneRule, bool) {
	for _, m := range Milestones {
		if m.Code == code {
			return m, true
		}
	}
	return MilestoneRule{}, false
}
