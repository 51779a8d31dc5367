package summary

// frLabels are the French names of the AIT guide's codes that a summary shows (the
// guide's displays are English). Each row names the seed section it comes from.
var frLabels = map[string]struct{ label, seed string }{
	"dossier":                     {"Constitution du dossier", "000 §V"},
	"rcp":                         {"Réunion de concertation pluridisciplinaire (RCP)", "000 §VI"},
	"preop-consultation":          {"Consultations préopératoires", "000 §VII"},
	"planning":                    {"Programmation de l'intervention", "000 §VIII"},
	"prescription":                {"Prescription et préparation du mélange", "000 §IX"},
	"hospitalisation":             {"Hospitalisation et implantation", "000 §X"},
	"discharge":                   {"Consultation de sortie", "000 §XI"},
	"follow-up":                   {"Suivi", "000 §XII"},
	"refill":                      {"Remplissages de la pompe", "000 §XIII"},
	"pump-implantation":           {"Implantation d'une pompe ou d'un cathéter intrathécal", "000 §X"},
	"pump-refill":                 {"Remplissage de la pompe intrathécale", "000 §XIII"},
	"intrathecal-pump":            {"Pompe intrathécale implantable", "001"},
	"ait-pathway":                 {"Parcours d'analgésie intrathécale (AIT)", "000 §III"},
	"ir-pathway":                  {"Parcours de radiologie interventionnelle de la douleur", "003"},
	"ir-request":                  {"Demande de radiologie interventionnelle", "003"},
	"ir-rcp":                      {"RCP douleur complexe ou métastases osseuses", "003"},
	"ir-consultation":             {"Consultation pré-interventionnelle", "003"},
	"ir-procedure":                {"Geste de radiologie interventionnelle", "003"},
	"ir-follow-up":                {"Suivi à 1 mois", "003"},
	"cimentoplasty":               {"Cimentoplastie / vertébroplastie", "003"},
	"radiofrequency-ablation":     {"Radiofréquence", "003"},
	"cryoablation":                {"Cryothérapie", "003"},
	"neurolysis":                  {"Neurolyse", "003"},
	"embolisation":                {"Embolisation", "003"},
	"implanted-pump":              {"Pompe implantée", "000 §VI"},
	"catheter-port-external-pump": {"Cathéter intrathécal avec chambre et pousse-seringue externe", "000 §VI"},
}

// frStatus are the French names of FHIR statuses shown in narratives.
var frStatus = map[string]string{
	"active": "en cours", "completed": "réalisé", "scheduled": "programmé", "not-started": "à venir",
	"in-progress": "en cours", "cancelled": "annulé", "on-hold": "suspendu", "stopped": "arrêté",
	"draft": "brouillon", "final": "validé", "amended": "modifié", "preliminary": "préliminaire",
	"resolved": "résolu", "inactive": "inactif", "remission": "en rémission", "recurrence": "récidive",
	"entered-in-error": "saisi par erreur", "unknown": "inconnu", "revoked": "révoqué",
}

// frUnits renders UCUM units as a French reader expects them.
var frUnits = map[string]string{"ug": "µg", "ug/d": "µg/j", "mg/d": "mg/j", "mL/d": "mL/j", "d": "j", "10*3/uL": "10³/µL", "10*9/L": "10⁹/L"}
