package rules

// ReferralCode is a ServiceRequest code that makes a ServiceRequest the referral
// that opens a pathway, whatever door it comes in by ($ait-referral, a transaction
// posted to the base).
type ReferralCode struct {
	// Code is an "alias|code" key (AliasAIT, AliasLOINC).
	Code string
	// Pathway is the pathway the referral opens: "ait" or "ir".
	Pathway string
	// Fact is the first fact the referral records in that pathway.
	Fact    string
	Display string
	Section string
}

// ReferralCodes are the referral codes of the guide. An AIT referral carries its
// dossier (000 §V); an IR request comes from the oncologist, surgeon,
// radiotherapist, radiologist or algologist for bone-metastasis pain, complex pain
// or a cimentoplasty, and goes to the RCP "douleur complexe" or "métastases osseuses"
// (003, 004).
var ReferralCodes = []ReferralCode{
	{AliasAIT + "|ait-referral", "ait", FactReferral, "Referral for intrathecal analgesia", "000 §V"},
	{AliasAIT + "|" + FactIRRequest, "ir", FactIRRequest, "Interventional radiology request (bone-metastasis pain, complex pain, cimentoplasty)", "003"},
}

// RepeatableFacts are the steps a pathway records more than once: each refill and
// its follow-up, complications, prescriptions (dose changes), consents. Any other
// step posted again as a new resource is a duplicate and is refused; the resource
// that recorded it is corrected by an update instead (000 §III, 003).
var RepeatableFacts = map[string]bool{
	FactRefill: true, FactFollowUp: true, FactComplication: true, FactPrescription: true, FactConsent: true,
	FactAdmission: true, FactIRFollowUp: true,
}
