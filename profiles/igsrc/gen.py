#!/usr/bin/env python3
"""Generates the AIT implementation guide (profiles/package/*.json).

The JSON files are the package (embedded by the Go code and served as they are);
these scripts are their source: edit the tables (tables.py), run `python3 gen.py`,
commit both. Every clinical rule row carries its seed section (cited as "000 §V":
document number and section). fhirbuild.py holds the writer, examples.py the examples.
"""
from fhirbuild import *
from tables import *

from terminology import CS_ROLE, CS_SCORE  # noqa: E402  (writes the CodeSystems and ValueSets)


# ---------------------------------------------------------------- extensions
extension("ait-implant-date", "AITImplantDate", "Date the pump was implanted (001).", "dateTime", ["Device"])
extension("ait-molecule", "AITMolecule", "The molecule a dosage line's daily dose is for (000 §IX).", "CodeableConcept", ["Dosage"])
extension("ait-off-label", "AITOffLabel", "The prescription is off-label (000 §IX: ropivacaine is).", "boolean", ["MedicationRequest"])
extension("ait-prescription", "AITPrescriptionUsed", "The intrathecal prescription a refill used (000 §XIII).", "Reference", ["Procedure"])
extension("ait-volume-instilled", "AITVolumeInstilled", "Volume instilled at a refill (000 §XIII).", "Quantity", ["Procedure"])
extension("ait-residual-volume", "AITResidualVolume", "Residual volume found in the reservoir (000 §XIII).", "Quantity", ["Procedure"])
extension("ait-flow-rate", "AITFlowRate", "Flow programmed after the refill (000 §XII).", "Quantity", ["Procedure"])
extension("ait-next-refill-date", "AITNextRefillDate", "Date of the next refill (000 §XI, §XIII).", "dateTime",
          ["Procedure", "Encounter", "Appointment", "CarePlan.activity.detail"])
extension("ait-computed-next-refill-date", "AITComputedNextRefillDate",
          "Next refill date the gateway computed from the reservoir volume and the daily flow, within 3 weeks to 3 months "
          "(000 §XIII, 001); kept beside the date the EHR sent (ait-next-refill-date) when they differ.", "dateTime",
          ["Procedure", "Encounter", "CarePlan.activity.detail"], seed="000 §XIII, 001")
extension("ait-double-check", "AITPharmacyDoubleCheck", "The pharmacy double-checked the preparation (000 §XIII).", "boolean", ["Procedure"])
extension("ait-assay", "AITPharmacyAssay", "The pharmacy assayed the preparation's content (000 §XIII).", "boolean", ["Procedure"])
# What the gateway writes (mapping/): normalised lab values, the pathway CarePlan's state and
# deadlines, score answers, the planned implantation date.
extension("ait-normalised-value", "AITNormalisedValue",
          "A dossier lab value converted to the lab's canonical UCUM unit (e.g. creatinine in umol/L); the submitted value "
          "stays where it was (000 §V).", "Quantity", ["Observation"], seed="000 §V")
extension("ait-activity-overdue", "AITActivityOverdue",
          "The step's deadline has passed: the coordinating algologist is told (000 §VI, §VII).", "boolean",
          ["CarePlan.activity.detail"], seed="000 §VI, §VII")
extension("ait-deadline-section", "AITDeadlineSection",
          "The deadline of a step and the seed section it comes from, e.g. 'RCP within 15 days of the complete dossier (000 §VI)'.",
          "string", ["CarePlan.activity.detail"])
extension("ait-score-answer", "AITScoreAnswer", "The answer of a Mirels or SINS item; the component's value is its points (003 annex 4).",
          "Coding", ["Observation.component"], seed=SCORE_SEED, vs="ait-score-answer")
extension("ait-planned-implantation", "AITPlannedImplantation",
          "The implantation date set at planning, with the operating room and the PUI (000 §VIII).", "dateTime",
          ["DomainResource"], seed="000 §VIII")
extension("ait-pathway-state", "AITPathwayState",
          "The gateway's state of the pathway (facts with their dates, flags), JSON in a string: the stored CarePlan is the "
          "whole state the gateway resumes from. Written by the gateway only; clients read the activities (000 §III).",
          "string", ["CarePlan"])
resources.append({"resourceType": "StructureDefinition", "id": "ait-seed-section", "url": SEED_EXT, "version": VERSION,
                  "name": "AITSeedSection", "title": "AITSeedSection", "status": "active",
                  "description": "The section of the source referential a clinical rule comes from (e.g. 000 §IX).",
                  "fhirVersion": "4.0.1", "kind": "complex-type", "abstract": False,
                  "context": [{"type": "element", "expression": "ElementDefinition"}, {"type": "element", "expression": "ElementDefinition.constraint"}],
                  "type": "Extension", "baseDefinition": R4 + "Extension", "derivation": "constraint",
                  "differential": {"element": [{"id": "Extension", "path": "Extension"},
                                               {"id": "Extension.url", "path": "Extension.url", "fixedUri": SEED_EXT},
                                               {"id": "Extension.value[x]", "path": "Extension.value[x]", "min": 1, "type": [{"code": "string"}]}]}})
resources.append({"resourceType": "StructureDefinition", "id": "ait-required-code", "url": REQUIRED_CODE_EXT, "version": VERSION,
                  "name": "AITRequiredCode", "title": "AITRequiredCode", "status": "active",
                  "description": "States an invariant as a required-code rule: some target of the references in `pool` has one of the "
                                 "`code`s in its CodeableConcept `element` (the invariant's expression says the same in FHIRPath).",
                  "fhirVersion": "4.0.1", "kind": "complex-type", "abstract": False,
                  "context": [{"type": "element", "expression": "ElementDefinition.constraint"}],
                  "type": "Extension", "baseDefinition": R4 + "Extension", "derivation": "constraint",
                  "differential": {"element": [
                      {"id": "Extension", "path": "Extension"},
                      {"id": "Extension.extension", "path": "Extension.extension", "slicing": BY_URL, "min": 3},
                      *[e for n, t, mx in [("pool", "string", "1"), ("element", "string", "1"), ("code", "Coding", "*")] for e in [
                          {"id": "Extension.extension:" + n, "path": "Extension.extension", "sliceName": n, "min": 1, "max": mx},
                          {"id": "Extension.extension:%s.url" % n, "path": "Extension.extension.url", "fixedUri": n},
                          {"id": "Extension.extension:%s.value[x]" % n, "path": "Extension.extension.value[x]", "min": 1, "type": [{"code": t}]}]],
                      {"id": "Extension.url", "path": "Extension.url", "fixedUri": REQUIRED_CODE_EXT},
                      {"id": "Extension.value[x]", "path": "Extension.value[x]", "max": "0"}]}})

# ---------------------------------------------------------------- identifier systems
def naming_system(nid, name, uri, description):
    resources.append({"resourceType": "NamingSystem", "id": nid, "name": name, "status": "active", "kind": "identifier",
                      "date": "2026-01-01", "description": description,
                      "uniqueId": [{"type": "uri", "value": uri, "preferred": True}]})


naming_system("ait-intake", "AITIntakeIdentifier", NS_INTAKE,
              "Identifiers the gateway derives from the content of a referral's resource sent without one (a UUID), so that "
              "a referral posted twice creates nothing twice.")
naming_system("ait-careplan", "AITCarePlanIdentifier", NS_CAREPLAN,
              "Business identifier of a pathway CarePlan, derived from the referral's, one pathway per referral (000 §III).")

# ---------------------------------------------------------------- actors
profile("ait-patient", "AITPatient", "Patient", "AIT patient",
        "A patient of the AIT or IR pathway: FR Core identifiers (INS-NIR, INS-NIA, local IPP) and the GP, who is told of every step (000 §V).",
        # $this: the IPP slice is recognised by its type, the INS slices by their system.
        [el("Patient.identifier", 1, "*", slicing=by_pattern("$this")),
         el("Patient.identifier:insNir", 0, "1", pattern=("Identifier", {"system": INS_NIR}), short="INS-NIR",
            cons=[inv("ait-pat-1", "INS-NIR is 15 characters: 13 digits (2A/2B allowed for Corsica) and a 2-digit key", "value.matches('^[0-9]{5}[0-9AB][0-9]{9}$')")]),
         el("Patient.identifier:insNia", 0, "1", pattern=("Identifier", {"system": INS_NIA}), short="INS-NIA"),
         el("Patient.identifier:ipp", 0, "*", pattern=("Identifier", {"type": cc("http://terminology.hl7.org/CodeSystem/v2-0203", "PI")}), short="local IPP"),
         el("Patient.name", 1, "*"),
         el("Patient.birthDate", 1, "1"),
         el("Patient.generalPractitioner", 1, "*", types=ref("ait-practitioner", "PractitionerRole"), seed="000 §V",
            short="the GP, informed of the planned AIT care")])

profile("ait-practitioner", "AITPractitioner", "Practitioner", "AIT practitioner",
        "A physician or pharmacist of the pathway, identified by RPPS.",
        [el("Practitioner.identifier", 1, "*", slicing=by_pattern("system")),
         el("Practitioner.identifier:rpps", 1, "1", pattern=("Identifier", {"system": RPPS}),
            cons=[inv("ait-prac-1", "an RPPS number is 11 digits", "value.matches('^[0-9]{11}$')")]),
         el("Practitioner.name", 1, "*")])

profile("ait-organization", "AITOrganization", "Organization", "AIT centre",
        "An implanting centre (poseur) or a refill centre (remplisseur), identified by FINESS (000 §III).",
        [el("Organization.identifier", 1, "*", slicing=by_pattern("system")),
         el("Organization.identifier:finess", 1, "1", pattern=("Identifier", {"system": FINESS}),
            cons=[inv("ait-org-2", "a FINESS number is 9 characters", "value.matches('^[0-9]{2}[0-9AB][0-9]{6}$')")]),
         el("Organization.type", 1, "*"),
         el("Organization.name", 1, "1")],
        [inv("ait-org-1", "a centre has the role implanting centre or refill centre",
             "type.coding.where(system='%s' and (code='implanting-centre' or code='refill-centre')).exists()" % CS, "000 §III")])

# ---------------------------------------------------------------- the dossier (000 §V)
def obs(pid, name, title, desc, code, value_types, extra=None, cons=None, category=None):
    els = [el("Observation.status", 1, "1"),
           el("Observation.code", 1, "1", pattern=("CodeableConcept", {"coding": [{"system": code["system"], "code": code["code"]}]})),
           el("Observation.subject", 1, "1", types=ref("ait-patient")),
           el("Observation.effective[x]", 1, "1", types=[{"code": "dateTime"}])]
    if category:
        els.insert(1, el("Observation.category", 1, "*", pattern=("CodeableConcept", category)))
    if value_types:
        els.append(el("Observation.value[x]", 1, "1", types=[{"code": t} for t in value_types]))
    profile(pid, name, "Observation", title, desc, els + (extra or []), cons)


obs("ait-performance-status", "AITPerformanceStatus", "WHO/ECOG performance status",
    "WHO (ECOG) performance status of the dossier (000 §V).", coding(LOINC, "89247-1", "ECOG Performance Status score"),
    ["integer"], cons=[inv("ait-ps-1", "the WHO performance status is 0 to 4", "value.all($this >= 0 and $this <= 4)", "000 §V")])
obs("ait-life-expectancy", "AITLifeExpectancy", "Life expectancy estimate",
    "Life-expectancy estimate; the technique rests on it (000 §V, §VI).", coding(CS, "life-expectancy"), ["Quantity"],
    cons=[inv("ait-le-1", "life expectancy is a UCUM duration (d, wk, mo, a)",
              "value.system='%s' and (value.code in ('d' | 'wk' | 'mo' | 'a'))" % UCUM, "000 §VI")])
obs("ait-oral-morphine-equivalent", "AITOralMorphineEquivalent", "Daily oral morphine equivalent",
    "Current daily oral-morphine equivalent (OME), the refractoriness criterion (000 §IV).", coding(CS, "oral-morphine-equivalent"),
    ["Quantity"], cons=[inv("ait-ome-1", "the OME is in mg/d (UCUM)", "value.system='%s' and value.code='mg/d'" % UCUM, "000 §IV")])
obs("ait-pain-assessment", "AITPainAssessment", "Pain assessment",
    "Pain assessment: intensity (0-10), location, type, etiology and treatments already tried (000 §V).",
    coding(LOINC, "72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported"), ["integer"],
    [el("Observation.bodySite", 1, "1", short="pain location"),
     el("Observation.component", 3, "*", slicing=by_pattern("code")),
     *coded_slice("Observation.component:painType", "code", "pain-type", 1, "1"),
     el("Observation.component:painType.value[x]", 1, "1", types=[{"code": "CodeableConcept"}], vs="ait-pain-type", seed="000 §V"),
     *coded_slice("Observation.component:etiology", "code", "pain-etiology", 1, "1"),
     el("Observation.component:etiology.value[x]", 1, "1", types=[{"code": "string"}, {"code": "CodeableConcept"}]),
     *coded_slice("Observation.component:treatmentTried", "code", "treatment-tried", 1, "*"),
     el("Observation.component:treatmentTried.value[x]", 1, "1", types=[{"code": "string"}, {"code": "CodeableConcept"}])],
    [inv("ait-pain-1", "pain intensity is 0 to 10", "value.all($this >= 0 and $this <= 10)", "000 §V")])
profile("ait-lab-result", "AITLabResult", "Observation", "Dossier laboratory result",
        "A laboratory result of the dossier, less than %s old at referral (000 §V)." % LAB_MAX_AGE,
        [el("Observation.status", 1, "1"),
         el("Observation.category", 1, "*", pattern=("CodeableConcept", cc("http://terminology.hl7.org/CodeSystem/observation-category", "laboratory"))),
         el("Observation.code", 1, "1", vs="ait-dossier-labs", seed="000 §V"),
         el("Observation.subject", 1, "1", types=ref("ait-patient")),
         el("Observation.effective[x]", 1, "1", types=[{"code": "dateTime"}]),
         el("Observation.value[x]", 1, "1", types=[{"code": "Quantity"}])],
        [inv(key, "%s (%s); below is a relative contraindication needing a benefit/risk assessment"
             % (human, ", ".join("%g %s" % (mn / f, u) for u, f in CELL_COUNT_UNITS)),
             "code.coding.where(%s).exists() implies value.where(%s).empty()"
             % (code_match([(LOINC, c) for c, _ in dict((k, cs) for k, _, cs in DOSSIER_LABS)[lab]]),
                " or ".join("(code='%s' and value <= %g)" % (u, mn / f) for u, f in CELL_COUNT_UNITS)), "000 §IV", "warning")
         for key, lab, mn, human in CELL_COUNT_MIN])
profile("ait-imaging-report", "AITImagingReport", "DiagnosticReport", "Dossier imaging",
        "Imaging of the dossier: CT thorax-abdomen-pelvis with the spine, brain CT or MRI, less than %s old (000 §V)." % IMAGING_MAX_AGE,
        [el("DiagnosticReport.status", 1, "1"),
         el("DiagnosticReport.code", 1, "1", vs="ait-dossier-imaging", seed="000 §V"),
         el("DiagnosticReport.subject", 1, "1", types=ref("ait-patient")),
         el("DiagnosticReport.effective[x]", 1, "1", types=[{"code": "dateTime"}]),
         el("DiagnosticReport.conclusion", 1, "1")])
IMAGING_MATCH = code_match([(s, c) for _, _, rows in DOSSIER_IMAGING for s, c, _ in rows])
profile("ait-imaging-study", "AITImagingStudy", "ImagingStudy", "Dossier imaging study",
        "Imaging of the dossier sent as an ImagingStudy: CT thorax-abdomen-pelvis with the spine, brain CT or MRI, "
        "less than %s old at referral (000 §V)." % IMAGING_MAX_AGE,
        [el("ImagingStudy.status", 1, "1"),
         el("ImagingStudy.subject", 1, "1", types=ref("ait-patient")),
         el("ImagingStudy.started", 1, "1", short="date of the study: the dossier's imaging is less than %s old" % IMAGING_MAX_AGE,
            seed="000 §V"),
         el("ImagingStudy.procedureCode", 1, "*")],
        [inv("ait-is-1", "the study is a dossier imaging: CT thorax-abdomen-pelvis with the spine, or brain CT or MRI",
             "procedureCode.coding.where(%s).exists()" % IMAGING_MATCH, "000 §V")])
profile("ait-condition", "AITCondition", "Condition", "Condition of the indication",
        "A condition the AIT indication rests on (000 §IV): the cancer and its pain, or an absolute or relative "
        "contraindication (ValueSet ait-contraindication, or SNOMED CT). A contraindication counts unless its "
        "clinicalStatus is inactive, remission or resolved, or its verificationStatus refuted or entered-in-error. "
        "Brain metastases (SNOMED CT 94225005) contraindicate only when uncontrolled: code a controlled one with "
        "stage.summary = ait#controlled (ait#uncontrolled otherwise); without it the gateway takes them as uncontrolled.",
        [el("Condition.code", 1, "1"),
         el("Condition.subject", 1, "1", types=ref("ait-patient"))])
profile("ait-oncology-opinion", "AITOncologyOpinion", "DocumentReference", "Oncology or palliative opinion",
        "The last organ RCP report or the palliative care plan (PPS) (000 §V).",
        [el("DocumentReference.type", 1, "1", vs="ait-opinion-type", seed="000 §V"),
         el("DocumentReference.subject", 1, "1", types=ref("ait-patient")),
         el("DocumentReference.date", 1, "1"),
         el("DocumentReference.content", 1, "*")])
profile("ait-medication-review", "AITMedicationReview", "MedicationStatement", "Medication review line",
        "One line of the medication review: current or tried analgesic, palliative oncology treatment, antiplatelet or anticoagulant (000 §V).",
        [el("MedicationStatement.medication[x]", 1, "1", types=[{"code": "CodeableConcept"}]),
         el("MedicationStatement.subject", 1, "1", types=ref("ait-patient"))])

# The slices name the profile each dossier element is best sent in; they open no
# minimum. What a complete dossier holds is one definition, the gateway's checklist
# (DOSSIER_ELEMENTS, DOSSIER_LABS, DOSSIER_IMAGING: the code's rules.DossierElements),
# stated below as one rule per element, so that the profile, $ait-dossier-status and
# the intake agree on "complete" (000 §V.2).
DOSSIER = [("oncologyOpinion", "ait-oncology-opinion", 0, "1"), ("performanceStatus", "ait-performance-status", 0, "1"),
           ("lifeExpectancy", "ait-life-expectancy", 0, "1"), ("painAssessment", "ait-pain-assessment", 0, "*"),
           ("labs", "ait-lab-result", 0, "*"), ("imaging", "ait-imaging-report", 0, "*"),
           ("medicationReview", "ait-medication-review", 0, "*"), ("oralMorphineEquivalent", "ait-oral-morphine-equivalent", 0, "1")]
ref_els = [el("ServiceRequest.status", 1, "1"), el("ServiceRequest.intent", 1, "1", fixed=("Code", "order")),
           el("ServiceRequest.code", 1, "1", pattern=("CodeableConcept", cc(CS, "ait-referral"))),
           el("ServiceRequest.subject", 1, "1", types=ref("ait-patient")),
           el("ServiceRequest.authoredOn", 1, "1"),
           el("ServiceRequest.requester", 1, "1", types=ref("ait-practitioner", "PractitionerRole"), seed="000 §V",
              short="the referring physician (oncologist or palliative-care physician)"),
           el("ServiceRequest.performer", 0, "*", types=ref("ait-organization")),
           el("ServiceRequest.supportingInfo", 1, "*", slicing=BY_PROFILE, seed="000 §V")]
ref_els += [el("ServiceRequest.supportingInfo:" + n, mn, mx, types=ref(p), seed="000 §V") for n, p, mn, mx in DOSSIER]
ref_cons = [required_code("ait-ref-lab-" + codes[0][0], "the dossier has %s (LOINC %s)" % (d, " or ".join(c for c, _ in codes)),
                          "supportingInfo", "code", [(LOINC, c) for c, _ in codes], LAB_SEED)
            for _, d, codes in DOSSIER_LABS]
ref_cons += [required_code("ait-ref-img-" + k, "the dossier has %s (%s)" % (d, " or ".join(c for _, c, _ in rows)),
                           "supportingInfo", "code", [(s, c) for s, c, _ in rows], LAB_SEED)
             for k, d, rows in DOSSIER_IMAGING]
ref_cons += [inv("ait-ref-el-" + k, "the dossier has %s" % d,
                 "supportingInfo.resolve().where(%s).exists()" % " or ".join(
                     "%s.coding.where(%s).exists()" % (e, code_match(codes)) for e in elements) if codes else
                 "supportingInfo.resolve().ofType(%s).exists()" % elements[0], seed)
             for k, d, elements, codes, seed in DOSSIER_ELEMENTS]
ref_cons += [inv("ait-ref-fresh-lab", "labs are less than %s old at referral" % LAB_MAX_AGE,
                 "supportingInfo.resolve().where(category.coding.code='laboratory').all(effective.toDate() >= %%resource.authoredOn.toDate() - %s)" % LAB_MAX_AGE, "000 §V"),
             inv("ait-ref-fresh-img", "imaging is less than %s old at referral" % IMAGING_MAX_AGE,
                 "supportingInfo.resolve().ofType(DiagnosticReport).all(effective.toDate() >= %%resource.authoredOn.toDate() - %s)" % IMAGING_MAX_AGE, "000 §V")]
profile("ait-referral", "AITReferral", "ServiceRequest", "AIT referral and its dossier",
        "The referring physician's request for intrathecal analgesia. supportingInfo carries the dossier (000 §V), "
        "sliced by the profile of the resolved target; a complete dossier is the prerequisite of any referral.", ref_els, ref_cons)

# ---------------------------------------------------------------- RCP (000 §VI)
def task_io(kind, name, code, value_type, mn, mx, target=None, vs=None, seed="000 §VI"):
    base = "Task.%s:%s" % (kind, name)
    vt = [{"code": value_type}] if not target else ref(target)
    return coded_slice(base, "type", code, mn, mx, seed=seed) + [el(base + ".value[x]", 1, "1", types=vt, vs=vs)]


rcp_els = [el("Task.status", 1, "1"), el("Task.intent", 1, "1", fixed=("Code", "order")),
           el("Task.code", 1, "1", pattern=("CodeableConcept", cc(CS, "rcp-review"))),
           el("Task.basedOn", 1, "1", types=ref("ait-referral"), short="the referral reviewed"),
           el("Task.for", 1, "1", types=ref("ait-patient")),
           el("Task.executionPeriod", 1, "1", short="date of the RCP"),
           el("Task.owner", 1, "1", types=ref("ait-practitioner", "PractitionerRole"), short="the coordinating algologist"),
           el("Task.input", 2, "*", slicing=by_pattern("type"))]
rcp_els += task_io("input", "participant", "rcp-participant", None, 2, "*", target="PractitionerRole")
rcp_els += [el("Task.output", 3, "*", slicing=by_pattern("type"))]
rcp_els += task_io("output", "decision", "rcp-decision", "CodeableConcept", 1, "1", vs="ait-rcp-decision")
rcp_els += task_io("output", "technique", "rcp-technique", "CodeableConcept", 0, "1", vs="ait-technique")
rcp_els += task_io("output", "lifeExpectancyBasis", "rcp-life-expectancy-basis", None, 1, "1", target="ait-life-expectancy")
rcp_els += task_io("output", "report", "rcp-report", None, 1, "1", target="DocumentReference")
TECH = "output.where(type.coding.code='rcp-technique').value.coding.code"
LE = "output.where(type.coding.code='rcp-life-expectancy-basis').value.resolve().value"
# A UCUM duration in months: life expectancy is compared in months (000 §VI).
IN_MONTHS = [("mo", "value"), ("wk", "value / 4.35"), ("d", "value / 30.4"), ("a", "value * 12")]
# The basis is resolved once: gofhir evaluates every operand of a union or an implies.
LE_MONTHS = LE + ".select(%s)" % ("".join("iif(code='%s', %s, " % u for u in IN_MONTHS) + "{}" + ")" * len(IN_MONTHS))
profile("ait-rcp-decision", "AITRCPDecision", "Task", "RCP decision",
        "The multidisciplinary (RCP) decision on an AIT referral (000 §VI). Task fits best: the RCP is the implanting centre's "
        "work item on the referral (basedOn), with a lifecycle (status), a date (executionPeriod), an owner (the algologist), "
        "participants as inputs (PractitionerRole carries each role) and coded outputs (decision, technique) plus references "
        "to the life-expectancy basis and to the report (DocumentReference, LOINC 34794-8). A Composition would hold the "
        "report but cannot carry a coded decision; an Encounter holds participants but no decision.",
        rcp_els,
        [inv("ait-rcp-1", "an accepted referral states the technique", "output.where(type.coding.code='rcp-decision').value.coding.code='accepted' implies %s.exists()" % TECH, "000 §VI"),
         inv("ait-rcp-2", "life expectancy > %d months: implanted pump" % LIFE_EXPECTANCY_PUMP_MONTHS,
             "%s = 'catheter-port-external-pump' implies %s.all($this <= %d)" % (TECH, LE_MONTHS, LIFE_EXPECTANCY_PUMP_MONTHS), "000 §VI"),
         inv("ait-rcp-3", "life expectancy < %d months: intrathecal catheter with port and external syringe driver" % LIFE_EXPECTANCY_PUMP_MONTHS,
             "%s = 'implanted-pump' implies %s.all($this >= %d)" % (TECH, LE_MONTHS, LIFE_EXPECTANCY_PUMP_MONTHS), "000 §VI"),
         inv("ait-rcp-4", "the report is an RCP report (LOINC 34794-8)",
             "output.where(type.coding.code='rcp-report').value.resolve().all(type.coding.where(system='%s' and code='34794-8').exists())" % LOINC, "000 §VI")])

# ---------------------------------------------------------------- pump (001; 000 §XIII)
def prop(name, code, value, mn, mx, vs=None, seed="000 §XIII"):
    return coded_slice("Device.property:" + name, "type", code, mn, mx, seed=seed) + [
        el("Device.property:%s.%s" % (name, value), 1, "1", vs=vs)]


pump_els = [el("Device.extension", slicing=BY_URL), ext_slice("Device", "implantDate", "ait-implant-date", 1, "1"),
            el("Device.status", 1, "1"),
            el("Device.type", 1, "1", pattern=("CodeableConcept", cc(CS, "intrathecal-pump"))),
            el("Device.manufacturer", 1, "1"), el("Device.deviceName", 1, "*", short="model name"),
            el("Device.serialNumber", 1, "1"),
            el("Device.expirationDate", 1, "1", short="expected battery end (about 7 years)", seed="000 §XIII"),
            el("Device.patient", 1, "1", types=ref("ait-patient")),
            el("Device.owner", 1, "1", types=ref("ait-organization"), short="the implanting centre"),
            el("Device.safety", 1, "*", slicing=by_pattern("$this")),
            el("Device.safety:mri", 1, "1", pattern=("CodeableConcept", cc(CS, "mri-conditional")), seed="000 §XIII"),
            el("Device.property", 3, "*", slicing=by_pattern("type"))]
pump_els += prop("reservoirVolume", "reservoir-volume", "valueQuantity", 1, "1")
pump_els += prop("catheterTipLevel", "catheter-tip-level", "valueCode", 1, "1", vs="ait-vertebral-level")
pump_els += prop("patientBolusRemote", "patient-bolus-remote", "valueCode", 1, "1", seed="000 §X")
profile("ait-pump", "AITPump", "Device", "AIT implanted pump",
        "The implanted intrathecal pump (001; 000 §XIII): reservoir 20-40 mL, catheter tip level, MR conditional, battery about 7 years.",
        pump_els,
        [inv("ait-pump-1", "the reservoir holds %d to %d mL" % RESERVOIR_ML,
             "property.where(type.coding.code='reservoir-volume').valueQuantity.all(code='mL' and value >= %d and value <= %d)" % RESERVOIR_ML, "000 §XIII"),
         inv("ait-pump-2", "the battery end is expected about 7 years after implantation (between 5 and 10)",
             "expirationDate.exists() and extension('%s').exists() implies (expirationDate.toDate() >= extension('%s').value.toDate() + 5 years and expirationDate.toDate() <= extension('%s').value.toDate() + 10 years)"
             % ((sd_url("ait-implant-date"),) * 3), "000 §XIII", "warning")])

profile("ait-implantation", "AITImplantation", "Procedure", "AIT implantation",
        "Implantation of the pump or of the catheter and port (000 §X).",
        [el("Procedure.status", 1, "1"),
         el("Procedure.code", 1, "1", pattern=("CodeableConcept", cc(CS, "pump-implantation"))),
         el("Procedure.subject", 1, "1", types=ref("ait-patient")),
         el("Procedure.basedOn", 0, "*", types=ref("ait-referral")),
         el("Procedure.performed[x]", 1, "1", types=[{"code": "dateTime"}, {"code": "Period"}]),
         el("Procedure.performer", 1, "*"),
         el("Procedure.performer.actor", 1, "1", types=ref("ait-practitioner"), short="the implanting physician", seed="000 §X"),
         el("Procedure.bodySite", 1, "*"),
         el("Procedure.focalDevice", 1, "*"),
         el("Procedure.focalDevice.manipulated", 1, "1", types=ref("ait-pump"))])

# ---------------------------------------------------------------- prescription (000 §IX)
profile("ait-compounded-medication", "AITCompoundedMedication", "Medication", "Intrathecal mixture",
        "The compounded intrathecal mixture: at most %d molecules with their concentrations in UCUM (000 §IX)." % MAX_MOLECULES,
        [el("Medication.ingredient", 1, str(MAX_MOLECULES), seed="000 §IX"),
         el("Medication.ingredient.item[x]", 1, "1", types=[{"code": "CodeableConcept"}], vs="ait-intrathecal-molecules", seed="000 §IX"),
         el("Medication.ingredient.strength", 1, "1",
            cons=[inv("ait-med-1", "strength is in UCUM mg/mL or ug/mL",
                      "numerator.system='%s' and (numerator.code='mg' or numerator.code='ug') and denominator.system='%s' and denominator.code='mL'" % (UCUM, UCUM), "000 §IX")])])
rx_cons = [inv("ait-rx-1", "one dosage line per molecule of the mixture, each with its daily dose",
               "medication.resolve().ingredient.count() = dosageInstruction.count()", "000 §IX")]
for atc, unit, mx, sev, seed in DAILY_DOSE_LIMITS:
    name = dict(MOLECULES)[atc]
    rx_cons.append(inv("ait-rx-max-" + atc, "%s at most %g %s" % (name, mx, unit),
                       "dosageInstruction.where(extension('%s').value.coding.code='%s').doseAndRate.rate.all(code='%s' and value <= %g)"
                       % (sd_url("ait-molecule"), atc, unit, mx), seed, sev))
profile("ait-intrathecal-prescription", "AITIntrathecalPrescription", "MedicationRequest", "Intrathecal prescription",
        "The algologist's prescription of the intrathecal mixture (000 §IX): route intrathecal, a contained compounded Medication, "
        "one dosage line per molecule with its daily dose (rateQuantity mg/d or ug/d) and bolus settings (maxDosePerPeriod).",
        [el("MedicationRequest.extension", slicing=BY_URL), ext_slice("MedicationRequest", "offLabel", "ait-off-label", 0, "1"),
         el("MedicationRequest.status", 1, "1"), el("MedicationRequest.intent", 1, "1", fixed=("Code", "order")),
         el("MedicationRequest.medication[x]", 1, "1", types=ref("ait-compounded-medication")),
         el("MedicationRequest.subject", 1, "1", types=ref("ait-patient")),
         el("MedicationRequest.authoredOn", 1, "1"),
         el("MedicationRequest.requester", 1, "1", types=ref("ait-practitioner", "PractitionerRole"), short="the algologist", seed="000 §IX"),
         el("MedicationRequest.dosageInstruction", 1, str(MAX_MOLECULES), seed="000 §IX"),
         el("MedicationRequest.dosageInstruction.extension", slicing=BY_URL),
         ext_slice("MedicationRequest.dosageInstruction", "molecule", "ait-molecule", 1, "1"),
         el("MedicationRequest.dosageInstruction.route", 1, "1", vs="ait-intrathecal-route", seed="000 §IX",
            short="intrathecal: SNOMED CT 72607000 or EDQM 20042000"),
         el("MedicationRequest.dosageInstruction.doseAndRate", 1, "*"),
         el("MedicationRequest.dosageInstruction.doseAndRate.rate[x]", 1, "1", types=[{"code": "Quantity"}], vs="ait-daily-dose-unit", seed="000 §IX")],
        rx_cons)

# ---------------------------------------------------------------- refill (000 §XIII)
refill_exts = [("prescription", "ait-prescription", 1), ("volumeInstilled", "ait-volume-instilled", 1),
               ("residualVolume", "ait-residual-volume", 1), ("flowRate", "ait-flow-rate", 1),
               ("nextRefillDate", "ait-next-refill-date", 1), ("doubleCheck", "ait-double-check", 1), ("assay", "ait-assay", 1),
               # written by the gateway before storage, beside the EHR's nextRefillDate (000 §XIII, 001)
               ("computedNextRefillDate", "ait-computed-next-refill-date", 0)]
VOL = "extension('%s').value" % sd_url("ait-volume-instilled")
NEXT = "extension('%s').value" % sd_url("ait-next-refill-date")
profile("ait-refill", "AITRefill", "Procedure", "Pump refill",
        "A refill of the implanted pump (000 §XIII): a medical act done by a physician (000 §I.2) at a refill centre, with the "
        "prescription used, the volumes, the programmed flow, the next refill date and the pharmacy's checks.",
        [el("Procedure.extension", slicing=BY_URL)] + [ext_slice("Procedure", n, e, mn, "1") for n, e, mn in refill_exts] +
        [el("Procedure.status", 1, "1"),
         el("Procedure.code", 1, "1", pattern=("CodeableConcept", cc(CS, "pump-refill"))),
         el("Procedure.subject", 1, "1", types=ref("ait-patient")),
         el("Procedure.performed[x]", 1, "1", types=[{"code": "dateTime"}]),
         el("Procedure.performer", 1, "*"),
         el("Procedure.performer.actor", 1, "1", types=ref("ait-practitioner"), seed="000 §I.2", short="the physician who refilled"),
         el("Procedure.performer.onBehalfOf", 1, "1", types=ref("ait-organization"), short="the refill centre"),
         el("Procedure.focalDevice", 1, "1"),
         el("Procedure.focalDevice.manipulated", 1, "1", types=ref("ait-pump"))],
        [inv("ait-refill-1", "a refill is a medical act: the performer is a physician (Practitioner)",
             "performer.actor.all(reference.startsWith('Practitioner/') or reference.startsWith('urn:'))", "000 §I.2"),
         inv("ait-refill-2", "the volume instilled is in mL and fits the reservoir (at most %d mL)" % RESERVOIR_ML[1],
             "%s.all(code='mL' and value > 0 and value <= %d)" % (VOL, RESERVOIR_ML[1]), "000 §XIII"),
         inv("ait-refill-3", "the preparation was double-checked by the pharmacy",
             "extension('%s').value = true" % sd_url("ait-double-check"), "000 §XIII"),
         inv("ait-refill-4", "the next refill is %s to %s after this one" % REFILL_INTERVAL,
             "performed.exists() and %s.exists() implies (%s.toDate() >= performed.toDate() + %s and %s.toDate() <= performed.toDate() + %s)"
             % (NEXT, NEXT, REFILL_INTERVAL[0], NEXT, REFILL_INTERVAL[1]), "000 §XIII", "warning")])

# ---------------------------------------------------------------- care plans (000 §III; 003)
def careplan(pid, name, title, description, category, steps_vs, seed, key, extra_els=(), extra_cons=()):
    """A pathway CarePlan as the gateway writes it: one activity per step with its status,
    its window once the step is scheduled or started, its deadline and overdue flag."""
    els = [el("CarePlan.extension", slicing=BY_URL), ext_slice("CarePlan", "pathwayState", "ait-pathway-state", 0, "1"),
           el("CarePlan.identifier", slicing=by_pattern("system")),
           el("CarePlan.identifier:pathway", 0, "1", pattern=("Identifier", {"system": NS_CAREPLAN}),
              short="the pathway's business identifier (the gateway derives it from the referral's)"),
           el("CarePlan.status", 1, "1"), el("CarePlan.intent", 1, "1"),
           el("CarePlan.category", 1, "*", slicing=by_pattern("$this")),
           el("CarePlan.category:pathway", 1, "1", pattern=("CodeableConcept", cc(CS, category))),
           el("CarePlan.subject", 1, "1", types=ref("ait-patient"))] + list(extra_els) + [
           el("CarePlan.activity", 1, "*"),
           el("CarePlan.activity.detail", 1, "1"),
           el("CarePlan.activity.detail.extension", slicing=BY_URL),
           ext_slice("CarePlan.activity.detail", "overdue", "ait-activity-overdue", 0, "1"),
           ext_slice("CarePlan.activity.detail", "deadline", "ait-deadline-section", 0, "1"),
           ext_slice("CarePlan.activity.detail", "nextRefill", "ait-next-refill-date", 0, "1"),
           ext_slice("CarePlan.activity.detail", "computedNextRefill", "ait-computed-next-refill-date", 0, "1"),
           el("CarePlan.activity.detail.code", 1, "1", vs=steps_vs, seed=seed),
           el("CarePlan.activity.detail.status", 1, "1"),
           # A step without a deadline is not scheduled until its first fact (000 §III).
           el("CarePlan.activity.detail.scheduled[x]", 0, "1", types=[{"code": "Period"}], seed="000 §III",
              short="scheduled window, once the step is scheduled or started")]
    cons = [inv(key + "-1", "each pathway step appears once", "activity.detail.code.coding.code.isDistinct()", seed),
            inv(key + "-3", "a scheduled step has its window", "activity.detail.where(status='scheduled').all(scheduled.exists())", "000 §III")]
    profile(pid, name, "CarePlan", title, description, els, cons + list(extra_cons))


careplan("ait-careplan", "AITCarePlan", "AIT pathway",
         "The AIT pathway of one patient: one activity per step (000 §III) with its status and, once scheduled or started, "
         "its window. The coordinating algologist (author) is known from the RCP on (000 §VI).",
         "ait-pathway", "ait-pathway-step", "000 §III", "ait-cp",
         [el("CarePlan.author", 0, "1", types=ref("ait-practitioner", "PractitionerRole"), seed="000 §VI",
             short="the coordinating algologist, from the RCP on"),
          # R4's CarePlan.basedOn takes CarePlans only: the referral is in supportingInfo
          el("CarePlan.supportingInfo", 0, "*", short="the referral that opened the pathway (first), then the clinical issues raised on it")],
         [inv("ait-cp-2", "from the RCP decision on, the pathway names its coordinating algologist (author)",
              "activity.where(detail.code.coding.code='rcp' and detail.status='completed').exists() implies author.exists()",
              "000 §VI", "warning")])
careplan("ait-ir-careplan", "AITIRCarePlan", "IR pathway",
         "The interventional-radiology pathway of one patient (003): request, RCP, pre-interventional consultation, "
         "procedure, follow-up at 1 month, one activity per step.",
         "ir-pathway", "ait-ir-pathway-step", "003", "ait-ircp",
         [el("CarePlan.author", 0, "1", types=ref("ait-practitioner", "PractitionerRole")),
          el("CarePlan.supportingInfo", 0, "*", short="the IR request that opened the pathway (first), then the clinical issues raised on it")])

# ---------------------------------------------------------------- IR (003)
profile("ait-ir-procedure", "AITIRProcedure", "Procedure", "IR procedure for cancer pain",
        "An interventional-radiology act for cancer pain (003): consolidation, percutaneous destruction, neurolysis, "
        "embolisation, combined techniques or tunnelled drainage.",
        [el("Procedure.status", 1, "1"),
         el("Procedure.code", 1, "1", vs="ait-ir-technique", seed="003"),
         el("Procedure.subject", 1, "1", types=ref("ait-patient")),
         el("Procedure.performed[x]", 1, "1", types=[{"code": "dateTime"}, {"code": "Period"}]),
         el("Procedure.performer", 1, "*"),
         el("Procedure.performer.actor", 1, "1", types=ref("ait-practitioner")),
         el("Procedure.bodySite", 1, "*")])


def score(pid, name, title, code, items, lo, hi, vs):
    prefix = code.split("-")[0]
    ans = "extension('%s').value" % sd_url("ait-score-answer")
    els = [el("Observation.component", len(items), "*", slicing=by_pattern("code"))]
    cons = [inv("%s-sum" % pid, "the %s total is the sum of its items" % title, "value = component.value.sum()", SCORE_SEED),
            inv("%s-range" % pid, "the %s total is %d to %d" % (title, lo, hi), "value >= %d and value <= %d" % (lo, hi), SCORE_SEED)]
    for c, allowed in items:
        n = c.split("-")[1]
        els += coded_slice("Observation.component:" + n, "code", c, 1, "1")
        els += [el("Observation.component:%s.extension" % n, slicing=BY_URL),
                ext_slice("Observation.component:" + n, "answer", "ait-score-answer", 0, "1"),
                el("Observation.component:%s.value[x]" % n, 1, "1", types=[{"code": "integer"}])]
        cons.append(inv("%s-%s" % (pid, n), "%s scores %s" % (c, " or ".join(map(str, allowed))),
                        "component.where(code.coding.code='%s').value.all(%s)" % (c, " or ".join("$this = %d" % a for a in allowed)), SCORE_SEED))
    # An answer belongs to its item and scores its points: each answered component, as
    # "item|points|answer", is a row of the table (one pass; gofhir short-circuits nothing).
    rows = [r for r in SCORE_ANSWERS if r[0].startswith(prefix + "-")]
    cons.append(inv("%s-answer" % pid, "an item's answer is one of its own and the item scores the answer's points",
                    "component.select(code.coding.code.first() + '|' + value.toString() + '|' + extension.where(url='%s')"
                    ".value.code.first()).all($this in (%s))"
                    % (sd_url("ait-score-answer"), " | ".join("'%s|%d|%s-%s'" % (q, p, q, a) for q, a, _, p in rows)), SCORE_SEED))
    bands = [b for b in SCORE_BANDS if b[0] == prefix]
    cons.append(inv("%s-band" % pid, "the interpretation is the band of the total (%s)" % ", ".join("%d-%d %s" % (l, h, b) for _, b, _, l, h in bands),
                    " and ".join("((value >= %d and value <= %d) implies interpretation.coding.where(system='%s').all(code='%s-%s'))"
                                 % (l, h, CS_SCORE, s, b) for s, b, _, l, h in bands), SCORE_SEED))
    obs(pid, name, title, "%s score with its items, their answers and the interpretation band (003 annex 4)." % title,
        coding(CS, code), ["integer"], els, cons)


score("ait-mirels", "AITMirelsScore", "Mirels", "mirels-score", MIRELS, 4, 12, "ait-mirels-score")
score("ait-sins", "AITSINSScore", "SINS", "sins-score", SINS, 0, 18, "ait-sins-score")

# ---------------------------------------------------------------- search parameters
def searchparam(sid, code, base, typ, expr, desc):
    resources.append({"resourceType": "SearchParameter", "id": sid, "url": CANON + "/SearchParameter/" + sid, "version": VERSION,
                      "name": sid, "status": "active", "description": desc, "code": code, "base": [base], "type": typ,
                      "expression": expr})


searchparam("ait-catheter-tip-level", "catheter-tip-level", "Device", "token",
            "Device.property.where(type.coding.code='catheter-tip-level').valueCode", "Pumps by catheter tip level (000 §XIII).")
searchparam("ait-next-refill", "next-refill", "Procedure", "date",
            "Procedure.extension('%s').value" % sd_url("ait-next-refill-date"), "Refills by next refill date (000 §XIII).")
searchparam("ait-molecule", "molecule", "MedicationRequest", "token",
            "MedicationRequest.dosageInstruction.extension('%s').value" % sd_url("ait-molecule"), "Prescriptions by molecule (000 §IX).")
searchparam("ait-rcp-decision", "rcp-decision", "Task", "token",
            "Task.output.where(type.coding.code='rcp-decision').value", "RCP decisions by outcome (000 §VI).")
searchparam("ait-pathway-step", "pathway-step", "CarePlan", "token",
            "CarePlan.activity.detail.code", "Pathways by step (000 §III).")
# R4 gives Binary no search parameter: this one puts the PDFs of letters and summary
# documents in their patient's compartment, through the securityContext they carry
searchparam("ait-binary-security-context", "security-context", "Binary", "reference",
            "Binary.securityContext", "Binary content by the resource it belongs to: the patient of a letter's or summary's PDF.")

import operations  # noqa: E402,F401  (appends the OperationDefinitions)
import examples  # noqa: E402  (appends to fhirbuild.examples)

# ---------------------------------------------------------------- seed sections used by the rules above
resources.append({"resourceType": "CodeSystem", "id": "ait-seed-section", "url": CS_SEED, "version": VERSION,
                  "name": "AITSeedSection", "title": "Sections of the source referentials", "status": "active",
                  "content": "complete", "caseSensitive": True,
                  "description": "Sections of the seed documents (000 AIT referential, 001 review, 003 IR referential) that clinical rules cite.",
                  "concept": [{"code": s, "display": s} for s in sorted(seeds_used)]})

write()
