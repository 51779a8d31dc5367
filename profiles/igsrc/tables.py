"""Clinical and terminology tables of the AIT guide, each row with its seed section
(cited as "000 §V": document number and section). gen.py turns them into conformance resources."""
from fhirbuild import CS, LOINC, ATC, UCUM, SNOMED, EDQM

# Local codes: what has no standard code. (code, display, seed section)
LOCAL = [
    # the ten pathway steps (000 §III)
    ("indication", "Step 1: indication", "000 §IV"), ("dossier", "Step 2: referral dossier", "000 §V"),
    ("rcp", "Step 3: multidisciplinary decision (RCP)", "000 §VI"),
    ("preop-consultation", "Step 4: pre-operative consultations", "000 §VII"),
    ("planning", "Step 5: planning of the intervention", "000 §VIII"), ("prescription", "Step 6: prescription and preparation", "000 §IX"),
    ("hospitalisation", "Step 7: hospitalisation and implantation", "000 §X"),
    ("discharge", "Step 8: discharge consultation", "000 §XI"), ("follow-up", "Step 9: follow-up consultation", "000 §XII"),
    ("refill", "Step 10: refills", "000 §XIII"),
    # RCP
    ("accepted", "RCP decision: accepted", "000 §VI"), ("refused", "RCP decision: refused", "000 §VI"),
    ("deferred", "RCP decision: deferred", "000 §VI"),
    ("implanted-pump", "Implanted intrathecal pump (life expectancy > 3 months)", "000 §VI"),
    ("catheter-port-external-pump", "Intrathecal catheter, subcutaneous port and external syringe driver (life expectancy < 3 months)", "000 §VI"),
    ("rcp-review", "Multidisciplinary review of an AIT referral", "000 §VI"),
    ("rcp-participant", "RCP participant", "000 §VI"), ("rcp-decision", "RCP decision", "000 §VI"),
    ("rcp-technique", "Technique decided", "000 §VI"), ("rcp-life-expectancy-basis", "Life expectancy the technique rests on", "000 §VI"),
    ("rcp-report", "RCP report", "000 §VI"),
    # centres
    ("implanting-centre", "Implanting centre (établissement poseur)", "000 §III"),
    ("refill-centre", "Refill centre (établissement remplisseur)", "000 §III"),
    # dossier
    ("ait-referral", "Referral for intrathecal analgesia", "000 §V"),
    ("oncology-opinion", "Last organ RCP report (oncology opinion)", "000 §V"),
    ("palliative-care-plan", "Palliative care plan (PPS)", "000 §V"),
    ("life-expectancy", "Estimated life expectancy", "000 §V"),
    ("oral-morphine-equivalent", "Current daily oral morphine equivalent", "000 §IV"),
    ("pain-type", "Pain type", "000 §V"), ("pain-etiology", "Pain etiology", "000 §V"),
    ("treatment-tried", "Analgesic treatment already tried", "000 §V"),
    ("nociceptive", "Nociceptive pain", "000 §V"), ("neuropathic", "Neuropathic pain", "000 §V"), ("mixed", "Mixed pain", "000 §V"),
    ("ct-tap-spine", "CT thorax-abdomen-pelvis including the spine", "000 §V"),
    ("brain-ct-mri", "Brain CT or MRI", "000 §V"),
    # device and acts
    ("intrathecal-pump", "Implantable intrathecal drug delivery pump", "001"),
    ("reservoir-volume", "Reservoir volume", "000 §XIII"), ("catheter-tip-level", "Catheter tip vertebral level", "000 §XIII"),
    ("patient-bolus-remote", "Patient bolus remote", "000 §X"), ("mri-conditional", "MR conditional", "000 §XIII"),
    ("pump-implantation", "Implantation of an intrathecal pump or catheter", "000 §X"),
    ("pump-refill", "Refill of an implanted intrathecal pump", "000 §XIII"),
    ("ait-pathway", "AIT care pathway", "000 §III"),
    # IR (003): families and techniques
    ("consolidation", "Consolidation", "003"), ("cimentoplasty", "Cimentoplasty / vertebroplasty", "003"),
    ("vertebral-augmentation", "Vertebral augmentation", "003"), ("osteosynthesis", "Percutaneous osteosynthesis", "003"),
    ("percutaneous-destruction", "Percutaneous destruction", "003"), ("radiofrequency-ablation", "Radiofrequency ablation", "003"),
    ("cryoablation", "Cryotherapy", "003"), ("laser-ablation", "Laser ablation", "003"), ("microwave-ablation", "Microwave ablation", "003"),
    ("focused-ultrasound", "Focused ultrasound", "003"), ("neurolysis", "Neurolysis", "003"), ("embolisation", "Embolisation", "003"),
    ("combined-technique", "Combined techniques", "003"), ("tunnelled-drainage", "Tunnelled drainage", "003"),
    ("mirels-score", "Mirels score", "003 annex 4"), ("mirels-site", "Mirels: site", "003 annex 4"),
    ("mirels-pain", "Mirels: pain", "003 annex 4"), ("mirels-size", "Mirels: size", "003 annex 4"),
    ("mirels-lesion", "Mirels: lesion", "003 annex 4"),
    ("sins-score", "SINS score", "003 annex 4"), ("sins-location", "SINS: location", "003 annex 4"),
    ("sins-pain", "SINS: pain", "003 annex 4"), ("sins-lesion", "SINS: bone lesion", "003 annex 4"),
    ("sins-alignment", "SINS: radiographic alignment", "003 annex 4"), ("sins-collapse", "SINS: vertebral body collapse", "003 annex 4"),
    ("sins-posterior", "SINS: posterolateral involvement", "003 annex 4"),
    # milestones (notifications)
    ("referral-received", "Referral received", "000 §V"), ("dossier-incomplete", "Dossier incomplete", "000 §VI"),
    ("rcp-decision-sent", "RCP decision sent", "000 §VI"), ("intervention-planned", "Intervention planned", "000 §VIII"),
    ("discharge-letter", "Discharge letter", "000 §XI"), ("refill-letter", "Refill letter", "000 §XIII"),
    ("complication", "Complication (reported, or the event a step resource records)", "000 §X"),
    ("planned-ait-care", "Planned AIT care (the GP is told)", "000 §V.1"),
    ("implantation-done", "Implantation done (the GP is told: device, mixture, first refill)", "000 §X"),
    ("trial-result", "Trial period result", "002"),
    ("ir-rcp-decision", "IR RCP decision", "003"), ("ir-procedure-done", "IR procedure done", "003"),
    ("deadline-overdue", "A deadline of the pathway is overdue", "000 §VI, §VII"),
    ("pump-dry-before-refill", "The pump would run dry before the next scheduled refill", "000 §XIII"),
    ("refill-overdue", "A scheduled refill date passed without a refill", "000 §XIII"),
    # step facts: what a step resource records when the guide has no profile for it (000 §VI-§XI; 002)
    ("consent", "The patient's informed consent to AIT", "000 §VI, §VIII"),
    ("algology-consultation", "Pre-operative algology consultation", "000 §VII"),
    ("anaesthesia-consultation", "Pre-operative anaesthesia consultation", "000 §VII"),
    ("admission", "Admission for the implantation", "000 §X"),
    ("trial-start", "Start of the trial period with an external pump", "002"),
    ("trial-positive", "Positive trial: pain relief of at least 50 % and less medication", "002"),
    ("trial-negative", "Negative trial: less than 50 % pain relief, or the medication not reduced; no definitive pump", "002"),
    ("insurer-approval", "Insurer's approval of the definitive pump", "002"),
    # qualifiers of a step resource
    ("consent-given", "The patient gave consent (validation of the RCP decision)", "000 §VI"),
    ("on-methadone", "The patient is on methadone: admission 48 h before implantation", "000 §X"),
    ("refill-centre-differs", "The refill centre is not the implanting centre: letter to the refill-centre physician", "000 §XI"),
    # control of a condition (Condition.stage.summary): brain metastases contraindicate AIT
    # only when uncontrolled (000 §IV); without this qualifier the gateway takes them as uncontrolled
    ("controlled", "Controlled (Condition.stage.summary): e.g. brain metastases treated and stable", "000 §IV"),
    ("uncontrolled", "Uncontrolled (Condition.stage.summary)", "000 §IV"),
    # dossier codes for senders without LOINC (the profiles still pin LOINC 89247-1 and 72514-3)
    ("who-performance-status", "WHO performance status", "000 §V"),
    ("pain-assessment", "Pain assessment", "000 §V"),
    # the IR pathway (003): category and the five steps
    ("ir-pathway", "IR care pathway for cancer pain", "003"),
    ("ir-request", "IR step 1: request", "003"), ("ir-rcp", "IR step 2: RCP complex pain or bone metastases", "003"),
    ("ir-consultation", "IR step 3: pre-interventional consultation", "003"), ("ir-procedure", "IR step 4: procedure", "003"),
    ("ir-follow-up", "IR step 5: follow-up at 1 month", "003"),
]
IR_FAMILY = {"cimentoplasty": "consolidation", "vertebral-augmentation": "consolidation", "osteosynthesis": "consolidation",
             "radiofrequency-ablation": "percutaneous-destruction", "cryoablation": "percutaneous-destruction",
             "laser-ablation": "percutaneous-destruction", "microwave-ablation": "percutaneous-destruction",
             "focused-ultrasound": "percutaneous-destruction"}
LEVELS = ["C%d" % i for i in range(1, 8)] + ["D%d" % i for i in range(1, 13)] + ["L%d" % i for i in range(1, 6)] + ["S%d" % i for i in range(1, 6)]

# Dossier labs (000 §V.2.c): one row per lab of the referential, with every LOINC code it is
# sent with (the first is the one the examples use; displays only where certain). The
# referential says "coagulation (TP, TCA)": TP in seconds, as % or as INR; TCA in seconds or
# as a ratio. Units and equivalents as in mapping/rules.Labs.
DOSSIER_LABS = [
    ("neutrophils", "Neutrophils", [("751-8", "Neutrophils [#/volume] in Blood by Automated count"), ("753-4", None), ("26499-4", None)]),
    ("platelets", "Platelets", [("777-3", "Platelets [#/volume] in Blood by Automated count"), ("26515-7", None), ("778-1", None)]),
    ("haemoglobin", "Haemoglobin", [("718-7", "Hemoglobin [Mass/volume] in Blood"), ("30313-1", None)]),
    ("prothrombin", "Prothrombin time (seconds, % or INR)", [("5902-2", "Prothrombin time (PT)"), ("5894-1", None), ("6301-6", None), ("34714-6", None)]),
    ("aptt", "aPTT (seconds or ratio)", [("3173-2", "aPTT in Blood by Coagulation assay"), ("14979-9", None), ("63561-5", None)]),
    ("creatinine", "Creatinine", [("2160-0", "Creatinine [Mass/volume] in Serum or Plasma"), ("14682-9", None), ("38483-4", None)]),
    ("glucose", "Glucose", [("2345-7", "Glucose [Mass/volume] in Serum or Plasma"), ("14749-6", None), ("15074-8", None), ("2339-0", None)]),
    ("sodium", "Sodium", [("2951-2", "Sodium [Moles/volume] in Serum or Plasma"), ("2947-0", None)]),
    ("potassium", "Potassium", [("2823-3", "Potassium [Moles/volume] in Serum or Plasma"), ("6298-4", None)]),
    ("chloride", "Chloride", [("2075-0", "Chloride [Moles/volume] in Serum or Plasma"), ("2069-3", None)]),
    ("calcium", "Calcium", [("17861-6", "Calcium [Mass/volume] in Serum or Plasma"), ("2000-8", None)]),
    ("phosphate", "Phosphate", [("2777-1", "Phosphate [Mass/volume] in Serum or Plasma"), ("14879-1", None)]),
]
LAB_SEED = "000 §V"
# The primary code of each lab (examples, keys of the required-code rules: ait-ref-lab-<code>).
LABS = [(codes[0][0], codes[0][1]) for _, _, codes in DOSSIER_LABS]
# Every LOINC code of the dossier labs (the ait-dossier-labs ValueSet).
LAB_CODES = [c for _, _, codes in DOSSIER_LABS for c in codes]
# Cell-count thresholds (000 §IV relative contraindications, 000 §V.2.c): per /mm3, and the
# UCUM units counts come in with their factor to /mm3 (1 uL = 1 mm3).
CELL_COUNT_MIN = [("ait-lab-1", "neutrophils", 500, "neutrophils above 500/mm3"),
                  ("ait-lab-2", "platelets", 80000, "platelets above 80 000/mm3")]
CELL_COUNT_UNITS = [("/mm3", 1), ("/uL", 1), ("10*3/uL", 1000), ("10*3/mm3", 1000), ("10*9/L", 1000)]
# Dossier elements other than labs and imaging (000 §V.2.a, b, e), as the code's
# rules.DossierElements lists them: (key, display, [elements holding the code] or the
# resource type, [(system, code)], seed). mapping's TestReferralProfileIsTheChecklist
# compares both.
DOSSIER_ELEMENTS = [
    ("oncology-opinion", "an oncology or palliative-care opinion", ["type", "code"], [(CS, "oncology-opinion"), (LOINC, "11488-4")], "000 §V.2.a"),
    ("performance-status", "the WHO performance status", ["code"], [(LOINC, "89247-1"), (CS, "who-performance-status")], "000 §V.2.a"),
    ("life-expectancy", "a life-expectancy estimate", ["code"], [(CS, "life-expectancy")], "000 §V.2.a"),
    ("pain-assessment", "a pain assessment", ["code"], [(LOINC, "72514-3"), (LOINC, "38208-5"), (CS, "pain-assessment")], "000 §V.2.b"),
    ("medication-review", "a medication review", ["MedicationStatement"], [], "000 §V.2.e"),
]
# Dossier imaging (000 §V.2.d): (key, display, [(system, code, display)]).
DOSSIER_IMAGING = [
    ("ct-tap-spine", "CT thorax-abdomen-pelvis including the spine", [(CS, "ct-tap-spine", "CT thorax-abdomen-pelvis including the spine")]),
    ("brain-ct-mri", "Brain CT or MRI", [(CS, "brain-ct-mri", "Brain CT or MRI"), (LOINC, "24725-4", "CT Head"), (LOINC, "24590-2", "MR Brain")]),
]
# Intrathecal molecules (000 §IX; 001): ATC code, display.
MOLECULES = [("N02AA01", "morphine"), ("N02BG08", "ziconotide"), ("N01BB09", "ropivacaine"), ("N01BB01", "bupivacaine"),
             ("N02CX02", "clonidine"), ("N02AA03", "hydromorphone"), ("N02AB03", "fentanyl"), ("N01AH03", "sufentanil"),
             ("M03BX01", "baclofen")]
# Daily-dose limits per molecule: (ATC, unit, max per day, severity, seed). 000 §IX.
DAILY_DOSE_LIMITS = [("N02BG08", "ug/d", 21.6, "error", "000 §IX"),   # ziconotide maximum 21.6 µg/day
                     ("N01BB09", "mg/d", 8, "warning", "000 §IX")]     # ropivacaine 6-8 mg/day
# Dossier freshness relative to the referral date (000 §V).
LAB_MAX_AGE = "1 month"
IMAGING_MAX_AGE = "6 weeks"
LIFE_EXPECTANCY_PUMP_MONTHS = 3  # > 3 months: implanted pump; < 3 months: catheter + port (000 §VI)
RESERVOIR_ML = (20, 40)  # 000 §XIII
REFILL_INTERVAL = ("3 weeks", "3 months")  # 000 §XIII
MAX_MOLECULES = 3  # 000 §IX
# The intrathecal route (000 §IX): SNOMED CT 72607000 "Intrathecal route (qualifier value)"
# (R4 ValueSet route-codes) or EDQM Standard Terms 20042000 "Intrathecal use".
INTRATHECAL_ROUTE = [(SNOMED, [("72607000", "Intrathecal route")]), (EDQM, [("20042000", "Intrathecal use")])]

# Score answers (003 annex 4): (component code, answer code, display, points). Answer codes
# are the component code and the answer ("mirels-lesion-lytic"): Mirels and SINS score the
# same answer differently.
SCORE_ANSWERS = [
    ("mirels-site", "upper-limb", "Upper limb", 1), ("mirels-site", "lower-limb", "Lower limb", 2),
    ("mirels-site", "proximal-femur", "Proximal femur (trochanteric)", 3),
    ("mirels-pain", "mild", "Mild", 1), ("mirels-pain", "moderate", "Moderate", 2), ("mirels-pain", "functional", "Functional", 3),
    ("mirels-size", "lt-1/3", "< 1/3 of the cortex", 1), ("mirels-size", "1/3-2/3", "1/3 to 2/3 of the cortex", 2),
    ("mirels-size", "gt-2/3", "> 2/3 of the cortex", 3),
    ("mirels-lesion", "blastic", "Blastic", 1), ("mirels-lesion", "mixed", "Mixed", 2), ("mirels-lesion", "lytic", "Lytic", 3),
    ("sins-location", "junctional", "Junctional (C0-C2, C7-T2, T11-L1, L5-S1)", 3),
    ("sins-location", "mobile", "Mobile spine (C3-C6, L2-L4)", 2),
    ("sins-location", "semi-rigid", "Semi-rigid (T3-T10)", 1), ("sins-location", "rigid", "Rigid (S2-S5)", 0),
    ("sins-pain", "mechanical", "Mechanical pain", 3), ("sins-pain", "non-mechanical", "Occasional non-mechanical pain", 1),
    ("sins-pain", "none", "Pain-free", 0),
    ("sins-lesion", "lytic", "Lytic", 2), ("sins-lesion", "mixed", "Mixed", 1), ("sins-lesion", "blastic", "Blastic", 0),
    ("sins-alignment", "subluxation", "Subluxation or translation", 4), ("sins-alignment", "deformity", "De novo deformity", 2),
    ("sins-alignment", "normal", "Normal", 0),
    ("sins-collapse", "gt-50", "Collapse > 50 %", 3), ("sins-collapse", "lt-50", "Collapse < 50 %", 2),
    ("sins-collapse", "none-gt-50-involved", "No collapse, > 50 % of the body involved", 1), ("sins-collapse", "none", "None", 0),
    ("sins-posterior", "bilateral", "Bilateral", 3), ("sins-posterior", "unilateral", "Unilateral", 1), ("sins-posterior", "none", "None", 0),
]
SCORE_SEED = "003 annex 4"
# Interpretation bands (003 annex 4): (score prefix, band, display, low, high), inclusive.
SCORE_BANDS = [
    ("mirels", "low", "Fracture risk 4 %: observation or radiotherapy", 4, 7),
    ("mirels", "intermediate", "Fracture risk 15 %: case by case", 8, 8),
    ("mirels", "high", "Fracture risk > 33 %: prophylactic fixation", 9, 12),
    ("sins", "stable", "Stable", 0, 6),
    ("sins", "potentially-unstable", "Potentially unstable: surgical opinion", 7, 12),
    ("sins", "unstable", "Unstable: surgical opinion", 13, 18),
]


def score_items(prefix):
    """The components of a score and their allowed points, in table order."""
    items = []
    for comp, _, _, pts in SCORE_ANSWERS:
        if comp.startswith(prefix + "-"):
            if not items or items[-1][0] != comp:
                items.append((comp, []))
            if pts not in items[-1][1]:
                items[-1][1].append(pts)
    return [(c, sorted(p)) for c, p in items]


MIRELS = score_items("mirels")
SINS = score_items("sins")

# Contraindications to AIT (000 §IV): (code, display, absolute). The mapping recognises
# Conditions as these (mapping/rules.Contraindications).
CONTRAINDICATIONS = [
    ("intracranial-hypertension", "Intracranial hypertension", True),
    ("uncontrolled-brain-metastases", "Uncontrolled brain metastases", True),
    ("csf-flow-obstacle", "Obstacle to CSF flow (invasion or compressive fracture)", True),
    ("aplasia-neutropenia-thrombopenia", "Aplasia, neutropenia or thrombopenia", False),
    ("epiduritis-meningitis", "Epiduritis or carcinomatous meningitis", False),
    ("infection", "Infection", False),
    ("anti-angiogenic-15d", "Anti-angiogenic drug within 15 days (oncology opinion)", False),
    ("haemostasis-anomaly", "Haemostasis anomaly", False),
    ("ascites-stomy-fistula", "Ascites, stomies, fistulas", False),
    ("severe-malnutrition", "Severe malnutrition", False),
]
CONTRAINDICATION_SEED = "000 §IV"

# Roles of the pathway actors (pathways.md, "Actors"): (code, display, seed). PractitionerRole.code.
ROLES = [
    ("algologist", "Algologist: pain specialist of the implanting centre, coordinates the pathway and prescribes", "000 §VI, §IX"),
    ("implanting-physician", "Implanting physician (neurosurgeon, anaesthetist or spine surgeon trained for it)", "000 §VI, §X"),
    ("pharmacist", "Hospital (PUI) pharmacist: validates, prepares and controls the intrathecal mixture", "000 §IX"),
    ("psychologist", "Psychologist or psychiatrist (strongly recommended at the RCP)", "000 §VI"),
    ("referring-physician", "Referring physician: oncologist or palliative-care physician", "000 §V.1"),
    ("general-practitioner", "General practitioner (médecin traitant)", "000 §V.1"),
    ("anaesthetist", "Anaesthetist of the pre-operative consultation", "000 §VII"),
    ("refill-centre-physician", "Trained physician of the refill centre: follow-up and refills", "000 §XII, §XIII"),
    ("interventional-radiologist", "Interventional radiologist", "003"),
    ("physician", "Other physician", "000 §I.2"),
    ("nurse", "Nurse (a refill is a medical act: not done by a nurse)", "000 §I.2"),
]

# The AIT pathway steps are the first ten LOCAL codes; the IR steps (003).
AIT_STEPS = ["indication", "dossier", "rcp", "preop-consultation", "planning", "prescription",
             "hospitalisation", "discharge", "follow-up", "refill"]
IR_STEPS = ["ir-request", "ir-rcp", "ir-consultation", "ir-procedure", "ir-follow-up"]
# Facts a step resource may record with a code of the AIT CodeSystem (000 §VI-§XIII; 002; 003).
STEP_FACTS = ["consent", "algology-consultation", "anaesthesia-consultation", "planning", "admission", "discharge",
              "follow-up", "complication", "trial-start", "trial-positive", "trial-negative", "insurer-approval"] + IR_STEPS
STEP_QUALIFIERS = ["consent-given", "on-methadone", "refill-centre-differs"]
IR_TECHNIQUES = ["cimentoplasty", "vertebral-augmentation", "osteosynthesis", "radiofrequency-ablation", "cryoablation",
                 "laser-ablation", "microwave-ablation", "focused-ultrasound", "neurolysis", "embolisation",
                 "combined-technique", "tunnelled-drainage"]
