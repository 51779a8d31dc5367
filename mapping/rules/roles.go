package rules

// RoleCode recognises an actor's role from a code or text of PractitionerRole.code
// or Practitioner.qualification.code (pathways.md, "Actors"). System "" matches the
// text or a code of any system; the guide defines no role code system yet.
type RoleCode struct {
	System, Code string
	Role         Role
	Section      string
}

// Code systems of the role table.
const (
	systemSNOMED = "http://snomed.info/sct"
	systemV20360 = "http://terminology.hl7.org/CodeSystem/v2-0360" // degree/licence
)

// RoleCodes is the table the pathway reads an actor's role from: the roles of the
// referential in English and French, SNOMED CT occupations and HL7 v2 degrees. The
// first row that matches wins, so specific roles come before "physician".
var RoleCodes = []RoleCode{
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
