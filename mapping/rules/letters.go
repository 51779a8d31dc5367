package rules

// Letter is the letter of one milestone of the notification matrix (Milestones) or
// one of the gateway's alerts to the coordinator: what the recipient reads, in French,
// with the facts he needs to act. Body is a text/template: {{f "key"}} prints a fact
// gathered from the pathway's resources or, when the data does not give it, the
// fact's missing phrase (LetterFacts), never an empty phrase.
type Letter struct {
	// Milestone is the code of the matrix row (Milestones) or of the alert.
	Milestone string
	// Subject is the letter's "Objet".
	Subject string
	Body    string
	// DocType is the LOINC document type the letter is stored under
	// (DocumentReference.type, CDA ClinicalDocument.code).
	DocType DocType
	Section string
}

// DocType is a LOINC document type code, with the French name the letter's header
// gives it.
type DocType struct{ Code, Display, French string }

// LOINC document types of the letters (FHIR R4 value set c80-doc-typecodes; the
// discharge summary is the code the French framework gives the liaison letter).
var (
	DocNote          = DocType{"34109-9", "Note", "courrier"}
	DocConsult       = DocType{"11488-4", "Consult note", "compte rendu de consultation"}
	DocPlanOfCare    = DocType{"18776-5", "Plan of care note", "plan de soins"}
	DocOperation     = DocType{"34874-8", "Surgery Surgical operation note", "compte rendu opératoire"}
	DocDischarge     = DocType{"11490-0", "Physician Discharge summary", "lettre de liaison à la sortie"}
	DocProgress      = DocType{"11506-3", "Provider-unspecified Progress note", "courrier de suivi"}
	DocProcedureNote = DocType{"11504-8", "Provider-unspecified Operation note", "compte rendu de geste"}
)

// Codes of the gateway's own alerts to the coordinator (not rows of the matrix:
// the notification service raises them).
const (
	AlertMissingRecipient = "alert-missing-recipient"
	AlertDeadLetter       = "alert-dead-letter"
)

// Alerts are the alert codes that have a letter without being a matrix row.
var Alerts = []string{AlertMissingRecipient, AlertDeadLetter}

// LetterFact names one fact a letter may print and what the letter says when the
// pathway's resources do not give it.
type LetterFact struct {
	Key, Missing string
}

// LetterFacts are the facts of the letters with their missing phrase.
var LetterFacts = []LetterFact{
	{"referrer", "médecin adresseur non transmis"},
	{"referralDate", "date de la demande non transmise"},
	{"dossierStatus", "état du dossier non évalué"},
	{"dossierGaps", "aucun élément manquant signalé"},
	{"gp", "médecin traitant non renseigné"},
	{"rcpDate", "date de la RCP non transmise"},
	{"decision", "décision non transmise"},
	{"technique", "technique non transmise"},
	{"techniqueWhy", "justification de la technique non transmise"},
	{"participants", "participants non transmis"},
	{"algologyDeadline", "échéance de la consultation non calculable"},
	{"surgeryWindow", "fenêtre opératoire non calculable"},
	{"algologyConsultation", "consultation d'algologie non programmée"},
	{"anaesthesiaConsultation", "consultation d'anesthésie non programmée"},
	{"admission", "date d'admission non transmise"},
	{"surgery", "date d'intervention non transmise"},
	{"drugsToStop", "aucun traitement à arrêter signalé (revue médicamenteuse non transmise)"},
	{"implantDate", "date de pose non transmise"},
	{"implanter", "médecin poseur non transmis"},
	{"pump", "modèle de pompe non transmis"},
	{"reservoir", "volume du réservoir non transmis"},
	{"catheterTip", "niveau de l'extrémité du cathéter non transmis"},
	{"molecules", "molécules, concentrations et doses non transmises"},
	{"flow", "débit non transmis"},
	{"firstRefill", "date du premier remplissage non transmise"},
	{"refillCentre", "centre de remplissage non transmis"},
	{"refillCentreContact", "coordonnées du centre de remplissage non transmises"},
	{"hotline", "ligne d'astreinte non transmise"},
	{"dischargeDate", "date de sortie non transmise"},
	{"refillDate", "date du remplissage non transmise"},
	{"volume", "volume instillé non transmis"},
	{"nextRefill", "date du prochain remplissage non transmise"},
	{"doseChanges", "évolution des doses non transmise"},
	{"complication", "nature de la complication non transmise"},
	{"complicationDate", "date de la complication non transmise"},
	{"what", "motif de l'alerte non transmis"},
	{"since", "date de début non transmise"},
	{"who", "intervenant non désigné"},
	{"trialResult", "résultat de la période d'essai non transmis"},
	{"trialFigures", "scores de douleur et traitements avant et pendant l'essai non transmis"},
	{"trialDecision", "décision après essai non transmise"},
	{"irDecision", "décision de la RCP non transmise"},
	{"irAct", "geste non transmis"},
	{"irDate", "date du geste non transmise"},
	{"irFollowUp", "date du suivi à 1 mois non calculable"},
	{"role", "rôle non précisé"},
	{"expression", "élément non précisé"},
	{"milestone", "notification non précisée"},
	{"channel", "canal non précisé"},
	{"attempts", "nombre de tentatives inconnu"},
	{"error", "motif du refus non transmis"},
}

// MissingPhrase is what a letter prints for a fact the data does not give.
func MissingPhrase(key string) string {
	for _, f := range LetterFacts {
		if f.Key == key {
			return f.Missing
		}
	}
	return key + " non transmis"
}

// Letters is the table of letters, one per row of the notification matrix
// (Milestones) and per alert; TestLettersCoverTheMatrix checks both ways.
var Letters = []Letter{
	{"referral-received", "Demande d'analgésie intrathécale reçue",
		`Nous avons bien reçu le {{f "referralDate"}} la demande de prise en charge en analgésie intrathécale (AIT) de votre patient(e), adressée par {{f "referrer"}}.
État du dossier : {{f "dossierStatus"}}.
Éléments manquants ou périmés : {{f "dossierGaps"}}.
Le dossier est examiné en réunion de concertation pluridisciplinaire (RCP) dans les 15 jours suivant sa complétude (bilan biologique de moins d'un mois, imagerie de moins de six semaines).`,
		DocNote, "000 §V-VI"},
	{MilestoneDossierIncomplete, "Dossier AIT incomplet",
		`Le dossier de demande d'analgésie intrathécale de votre patient(e), reçu le {{f "referralDate"}}, est incomplet ; la RCP ne peut être programmée qu'à dossier complet.
Éléments manquants ou périmés :
{{f "dossierGaps"}}
Rappel : bilan biologique de moins d'un mois, imagerie de moins de six semaines.`,
		DocNote, "000 §V-VI"},
	{"planned-ait-care", "Prise en charge en analgésie intrathécale envisagée",
		`Votre patient(e) nous a été adressé(e) le {{f "referralDate"}} par {{f "referrer"}} pour une analgésie intrathécale d'une douleur cancéreuse réfractaire.
État du dossier : {{f "dossierStatus"}}.
Nous vous tiendrons informé(e) de la décision de la RCP et, le cas échéant, de la date de l'intervention.`,
		DocNote, "000 §V.1, §V.2"},
	{"rcp-decision-sent", "Décision de la RCP d'analgésie intrathécale",
		`La réunion de concertation pluridisciplinaire du {{f "rcpDate"}} a rendu la décision suivante : {{f "decision"}}.
Technique retenue : {{f "technique"}}.
Justification : {{f "techniqueWhy"}}.
Participants : {{f "participants"}}.
Prochaines étapes :
- consultation d'algologie (information, consentement) : {{f "algologyDeadline"}} ;
- pose : {{f "surgeryWindow"}}.
La validation définitive est soumise au consentement du patient lors de la consultation d'algologie.`,
		DocConsult, "000 §VI"},
	{"intervention-planned", "Programmation de la pose du dispositif intrathécal",
		`La pose du dispositif intrathécal ({{f "technique"}}) est programmée.
Consultation d'algologie : {{f "algologyConsultation"}}.
Consultation d'anesthésie : {{f "anaesthesiaConsultation"}}.
Admission : {{f "admission"}}.
Intervention : {{f "surgery"}}.
Traitements à arrêter ou relayer avant la pose :
{{f "drugsToStop"}}`,
		DocPlanOfCare, "000 §VII, §VIII"},
	{"implantation-done", "Pose d'une pompe intrathécale",
		`La pose a été réalisée le {{f "implantDate"}} par {{f "implanter"}}.
Dispositif : {{f "pump"}}, réservoir de {{f "reservoir"}}.
Extrémité du cathéter : {{f "catheterTip"}}.
Mélange intrathécal prescrit :
{{f "molecules"}}
Débit : {{f "flow"}}.
Premier remplissage prévu le {{f "firstRefill"}} au centre de remplissage {{f "refillCentre"}} ({{f "refillCentreContact"}}).`,
		DocOperation, "000 §X, §XI"},
	{"discharge-letter", "Lettre de liaison : sortie après pose d'un dispositif intrathécal",
		`Votre patient(e) est sorti(e) le {{f "dischargeDate"}} après la pose du dispositif intrathécal le {{f "implantDate"}}.
Dispositif : {{f "pump"}}, réservoir de {{f "reservoir"}} ; extrémité du cathéter : {{f "catheterTip"}}.
Mélange intrathécal :
{{f "molecules"}}
Débit : {{f "flow"}}.
Premier remplissage prévu le {{f "firstRefill"}} au centre de remplissage {{f "refillCentre"}} ({{f "refillCentreContact"}}).
À surveiller : signes de surdosage (somnolence, bradypnée, myosis), infection ou écoulement de la cicatrice, céphalées posturales (fuite de liquide cérébrospinal), réapparition des douleurs (cathéter déplacé ou occlus), troubles psychiques sous ziconotide.
Ne pas reprendre les antalgiques antérieurs sans avis du centre.
En cas de problème, appeler : {{f "hotline"}} (24 h/24).`,
		DocDischarge, "000 §XI"},
	{"refill-letter", "Remplissage de la pompe intrathécale",
		`Le remplissage de la pompe de votre patient(e) a été réalisé le {{f "refillDate"}}.
Médicaments instillés :
{{f "molecules"}}
Volume instillé : {{f "volume"}} ; débit : {{f "flow"}}.
Évolution des doses : {{f "doseChanges"}}.
Prochain remplissage prévu le {{f "nextRefill"}}.`,
		DocProgress, "000 §XIII"},
	{"complication", "Complication de l'analgésie intrathécale",
		`Une complication a été constatée le {{f "complicationDate"}} : {{f "complication"}}.
Mélange en cours :
{{f "molecules"}}
Le centre d'implantation prend en charge la suite ; en cas d'aggravation, appeler : {{f "hotline"}}.`,
		DocProgress, "000 §X, §IX"},
	{MilestoneOverdue, "Délai du parcours AIT dépassé",
		`Un délai du parcours est dépassé : {{f "what"}}.
Échéance : {{f "since"}}.
À traiter par : {{f "who"}}.`,
		DocNote, "000 §VI, §VII"},
	{MilestonePumpDry, "Alerte : pompe vide avant le prochain remplissage",
		`Au débit programmé, la pompe intrathécale sera vide avant le remplissage prévu : {{f "what"}}.
Depuis le remplissage du {{f "since"}}.
À traiter par : {{f "who"}} (avancer le remplissage ou ajuster le débit).`,
		DocNote, "000 §XIII, 001"},
	{MilestoneRefillOverdue, "Alerte : remplissage de la pompe non réalisé à la date prévue",
		`Le remplissage prévu n'a pas été réalisé : {{f "what"}}.
Échéance : {{f "since"}}.
À traiter par : {{f "who"}} (programmer le remplissage sans délai : la pompe risque de se vider, avec un syndrome de sevrage).`,
		DocNote, "000 §XIII"},
	{"trial-result", "Résultat de la période d'essai intrathécale",
		`Résultat de la période d'essai : {{f "trialResult"}}.
Chiffres : {{f "trialFigures"}}.
Décision : {{f "trialDecision"}}.
Un essai est positif si le soulagement atteint au moins 50 % avec une réduction des traitements ; la pompe définitive suit l'accord de l'assurance.`,
		DocProgress, "002"},
	{"ir-rcp-decision", "Décision de la RCP de radiologie interventionnelle",
		`La RCP du {{f "rcpDate"}} a rendu la décision suivante : {{f "irDecision"}}.
Geste retenu : {{f "irAct"}}.
Une consultation pré-interventionnelle aura lieu au moins 48 h avant le geste.`,
		DocConsult, "003"},
	{"ir-procedure-done", "Geste de radiologie interventionnelle réalisé",
		`Le geste suivant a été réalisé le {{f "irDate"}} : {{f "irAct"}}.
Suivi à 1 mois prévu vers le {{f "irFollowUp"}}.`,
		DocProcedureNote, "003"},
	{AlertMissingRecipient, "Alerte : destinataire introuvable",
		`Le {{f "role"}} n'est pas renseigné ({{f "expression"}}) : la notification « {{f "milestone"}} » n'a pas pu lui être adressée.
Merci de compléter le dossier.`,
		DocNote, "000 §III"},
	{AlertDeadLetter, "Alerte : notification non délivrée",
		`La notification « {{f "milestone"}} » adressée au {{f "role"}} n'a pas pu être délivrée par {{f "channel"}} après {{f "attempts"}} tentative(s) : {{f "error"}}.
Merci de la transmettre par un autre moyen puis de la rejouer si besoin.`,
		DocNote, "000 §III"},
}

// LetterFor returns the letter of a milestone or alert code.
func LetterFor(code string) (Letter, bool) {
	for _, l := range Letters {
		if l.Milestone == code {
			return l, true
		}
	}
	return Letter{}, false
}

// TechniqueLabels are the techniques of the RCP (TechniquePump, TechniquePort) as the
// letters name them, with the reason the referential gives for each (000 §VI).
var TechniqueLabels = map[string][2]string{
	TechniquePump.Code: {"pompe intrathécale implantée", "espérance de vie supérieure à 3 mois"},
	TechniquePort.Code: {"cathéter intrathécal relié à une chambre sous-cutanée et à un pousse-seringue externe, suivi avec une USP ou une HAD",
		"espérance de vie inférieure à 3 mois"},
}

// DossierLabels are the dossier elements (DossierElements) as the letters name them.
var DossierLabels = map[string]string{
	"oncology-opinion":         "avis oncologique ou palliatif (dernier compte rendu de RCP ou PPS)",
	"performance-status":       "état général (score OMS)",
	"life-expectancy":          "estimation de l'espérance de vie",
	"pain-assessment":          "évaluation de la douleur",
	"neutrophils":              "polynucléaires neutrophiles",
	"platelets":                "plaquettes",
	"haemoglobin":              "hémoglobine",
	"coagulation-pt":           "TP",
	"coagulation-aptt":         "TCA",
	"creatinine":               "créatinine",
	"glucose":                  "glycémie",
	"sodium":                   "natrémie",
	"potassium":                "kaliémie",
	"chloride":                 "chlorémie",
	"calcium":                  "calcémie",
	"phosphate":                "phosphorémie",
	"ct-thorax-abdomen-pelvis": "scanner thoraco-abdomino-pelvien avec le rachis",
	"brain-imaging":            "scanner ou IRM cérébral récent",
	"medication-review":        "revue médicamenteuse (antalgiques, anticoagulants)",
}

// PreoperativeStop is what to do before implantation with a drug of the medication
// review, recognised by its ATC code prefix (000 §VII). The first matching row wins.
type PreoperativeStop struct {
	ATCPrefix, Action, Section string
}

// PreoperativeStops are the treatments stopped or relayed before implantation
// (000 §VII).
var PreoperativeStops = []PreoperativeStop{
	{"N07BC02", "arrêt 48 h avant la pose (admission 48 h avant)", "000 §VII, §X"},
	{"N02A", "arrêt la veille de la pose, relais par PCA intraveineuse", "000 §VII"},
	{"B01AC04", "arrêt 5 jours avant la pose (J-5)", "000 §VII"},
	{"B01AC06", "arrêt 5 jours avant la pose (J-5) si dose supérieure à 100 mg/j", "000 §VII"},
	{"B01A", "relais par HBPM, arrêt la veille de la pose (J-1)", "000 §VII"},
	{"H02AB", "arrêt ou diminution avant la pose", "000 §VII"},
	{"L01", "arrêt au moins 3 semaines avant (chimiothérapie) ; délai minimal fixé par l'oncologue pour les thérapies ciblées et anti-angiogéniques", "000 §VII"},
}

// DeadlineLabels are the deadlines (Deadlines, by name) as the overdue letter names
// them.
var DeadlineLabels = map[string]string{
	"rcp-15d":                 "RCP dans les 15 jours suivant le dossier complet",
	"algology-7d":             "consultation d'algologie dans les 7 jours suivant la validation en RCP",
	"surgery-48h-15d":         "pose entre 48 h et 15 jours après la consultation d'algologie",
	"anaesthesia-48h":         "consultation d'anesthésie au moins 48 h avant la pose",
	"admission-d-1":           "admission la veille de la pose",
	"admission-48h-methadone": "admission 48 h avant la pose (patient sous méthadone)",
	"refill-due":              "remplissage de la pompe à la date prévue",
	"ir-48h":                  "consultation pré-interventionnelle au moins 48 h avant le geste",
	"ir-follow-up-1m":         "suivi à 1 mois du geste de radiologie interventionnelle",
}

// IRActLabels are the interventional-radiology acts (003, 004) as letters name them.
var IRActLabels = map[string]string{
	"cimentoplasty":          "cimentoplastie",
	"vertebroplasty":         "vertébroplastie",
	"vertebral-augmentation": "augmentation vertébrale",
	"osteosynthesis":         "ostéosynthèse percutanée",
	"radiofrequency":         "radiofréquence",
	"cryotherapy":            "cryothérapie",
	"laser":                  "ablation laser",
	"microwave":              "ablation par micro-ondes",
	"focused-ultrasound":     "ultrasons focalisés",
	"neurolysis":             "neurolyse",
	"embolisation":           "embolisation",
	"tunnelled-drainage":     "drainage tunnelisé",
}
