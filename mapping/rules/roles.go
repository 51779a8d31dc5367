package rules

// RoleCode recognises an actor's role from a code or text of PractitionerRole.code
// or Practitioner.qualification.code (pathways.md, "Actors"). System "" matches the
// text or a code of any system.
type RoleCode struct {
	System, Code string
	Role         Role
	Section      string
}

// Code systems of the role table.
const (
	// SystemPractitionerRole is the guide's role CodeSystem (its codes are the Role
	// values); mapping.CodeSystemRole is the same URL, checked against the guide.
	SystemPractitionerRole = "https://fhir.aitgw.org/ig/ait/CodeSystem/ait-practitioner-role"
	systemSNOMED           = "http://snomed.info/sct"
	systemV20360           = "http://terminology.hl7.org/CodeSystem/v2-0360" // degree/licence
)

// RoleCodes is the table the pathway reads an actor's role from: the guide's role
// codes, the roles of the referential in English and French, SNOMED CT occupations
// and HL7 v2 degrees. The first row that matches wins, so specific roles come before
// "physician".
var RoleCodes = []RoleCode{
	{SystemPractitionerRole, string(RoleAlgologist), RoleAlgologist, "000 §VII"},
	{SystemPractitionerRole, string(RoleImplantingPhysician), RoleImplantingPhysician, "000 §X"},
	{SystemPractitionerRole, string(RolePharmacist), RolePharmacist, "000 §IX"},
	{SystemPractitionerRole, string(RolePsychologist), RolePsychologist, "000 §VI"},
	{SystemPractitionerRole, string(RoleReferringPhysician), RoleReferringPhysician, "000 §V.2"},
	{SystemPractitionerRole, string(RoleGP), RoleGP, "000 §V.1"},
	{SystemPractitionerRole, string(RoleAnaesthetist), RoleAnaesthetist, "000 §VII"},
	{SystemPractitionerRole, string(RoleRefillCentre), RoleRefillCentre, "000 §XIII"},
	{SystemPractitionerRole, string(RoleInterventionalRadiol), RoleInterventionalRadiol, "003"},
	{SystemPractitionerRole, string(RolePhysician), RolePhysician, "000 §XIII"},
	{SystemPractitionerRole, string(RoleNurse), RoleNurse, "000 §XIII"},
	{"", "algologist", RoleAlgologist, "000 §VII"},
	{"", "algologue", RoleAlgologist, "000 §VII"},
	{"", "implanting-physician", RoleImplantingPhysician, "000 §X"},
	{"", "implanter", RoleImplantingPhysician, "000 §X"},
	{"", "médecin poseur", RoleImplantingPhysician, "000 §X"},
	{"", "neurosurgeon", RoleImplantingPhysician, "000 §X"},
	{"", "anaesthetist", RoleAnaesthetist, "000 §VII"},
	{"", "anesthesiologist", RoleAnaesthetist, "000 §VII"},
	{systemSNOMED, "88189002", RoleAnaesthetist, "000 §VII"},
	{"", "refill-centre-physician", RoleRefillCentre, "000 §XIII"},
	{"", "general-practitioner", RoleGP, "000 §V.1"},
	{"", "médecin traitant", RoleGP, "000 §V.1"},
	{"", "referring-physician", RoleReferringPhysician, "000 §V.2"},
	{"", "interventional-radiologist", RoleInterventionalRadiol, "003"},
	{"", "pharmacist", RolePharmacist, "000 §IX"},
	{"", "pharmacien", RolePharmacist, "000 §IX"},
	{systemSNOMED, "46255001", RolePharmacist, "000 §IX"},
	{systemV20360, "PharmD", RolePharmacist, "000 §IX"},
	{"", "nurse", RoleNurse, "000 §XIII"},
	{"", "infirmier", RoleNurse, "000 §XIII"},
	{"", "infirmière", RoleNurse, "000 §XIII"},
	{systemSNOMED, "106292003", RoleNurse, "000 §XIII"},
	{systemV20360, "RN", RoleNurse, "000 §XIII"},
	{"", "physician", RolePhysician, "000 §XIII"},
	{"", "médecin", RolePhysician, "000 §XIII"},
	{systemSNOMED, "309343006", RolePhysician, "000 §XIII"},
	{systemSNOMED, "158965000", RolePhysician, "000 §XIII"},
	{systemV20360, "MD", RolePhysician, "000 §XIII"},
}
