#!/usr/bin/env python3
"""Generates the AIT implementation guide (profiles/package/*.json).

The JSON files are the package (embedded by the Go code and served as they are);
this script is their source: edit the tables here, run `python3 gen.py`, commit both.
Every clinical rule row carries its seed section (see ../../../shared/domain/pathways.md).
"""
import json
import os
import shutil

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "package")
PKG = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "package.json")))
CANON = PKG["canonical"]  # the ONE place the canonical base is defined
VERSION = PKG["version"]
CS = CANON + "/CodeSystem/ait"
CS_LEVEL = CANON + "/CodeSystem/ait-vertebral-level"
CS_SEED = CANON + "/CodeSystem/ait-seed-section"
SEED_EXT = CANON + "/StructureDefinition/ait-seed-section"
REQUIRED_CODE_EXT = CANON + "/StructureDefinition/ait-required-code"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ATC = "http://www.whocc.no/atc"
EDQM = "http://standardterms.edqm.eu"
UCUM = "http://unitsofmeasure.org"
RPPS = "https://rpps.esante.gouv.fr"
FINESS = "https://finess.esante.gouv.fr"
INS_NIR = "urn:oid:1.2.250.1.213.1.4.8"
INS_NIA = "urn:oid:1.2.250.1.213.1.4.9"
R4 = "http://hl7.org/fhir/StructureDefinition/"

resources = []
seeds_used = {}


def sd_url(i):
    return CANON + "/StructureDefinition/" + i


def vs_url(i):
    return CANON + "/ValueSet/" + i


def coding(system, code, display=None):
    c = {"system": system, "code": code}
    if display:
        c["display"] = display
    return c


def cc(system, code, display=None):
    return {"coding": [coding(system, code, display)]}


def seed_ext(seed):
    seeds_used[seed] = True
    return [{"url": SEED_EXT, "valueString": seed}]


def inv(key, human, expr, seed=None, severity="error"):
    """An invariant; clinical ones name their seed section in `human` and in an extension."""
    c = {"key": key, "severity": severity, "human": human + (" (%s)" % seed if seed else ""), "expression": expr}
    if seed:
        c["extension"] = seed_ext(seed)
    return c


def required_code(key, human, pool, element, system, code, seed):
    """A "required code" rule: some target of the references in `pool` has `code` in its
    CodeableConcept `element`. The FHIRPath says it to any validator; the extension says it
    to ours, which checks at load that both agree and then resolves the pool once for all
    the rows of a table instead of once per row."""
    c = inv(key, human, "%s.resolve().where(%s.coding.where(system='%s' and code='%s').exists()).exists()"
            % (pool, element, system, code), seed)
    c["extension"].append({"url": REQUIRED_CODE_EXT, "extension": [
        {"url": "pool", "valueString": pool}, {"url": "element", "valueString": element},
        {"url": "code", "valueCoding": coding(system, code)}]})
    return c


def el(path, mn=None, mx=None, types=None, fixed=None, pattern=None, vs=None, cons=None,
       slicing=None, seed=None, short=None):
    # id keeps slice names; path drops them; sliceName names the slice an element opens
    e = {"id": path}
    segs = path.split(".")
    e["path"] = ".".join(s.split(":")[0] for s in segs)
    if ":" in segs[-1]:
        e["sliceName"] = segs[-1].split(":")[1]
    if short:
        e["short"] = short
    if seed:
        e["extension"] = seed_ext(seed)
    if slicing:
        e["slicing"] = slicing
    if mn is not None:
        e["min"] = mn
    if mx is not None:
        e["max"] = mx
    if types:
        e["type"] = types
    if fixed:
        e["fixed" + fixed[0]] = fixed[1]
    if pattern:
        e["pattern" + pattern[0]] = pattern[1]
    if vs:
        e["binding"] = {"strength": "required", "valueSet": vs_url(vs)}
    if cons:
        e["constraint"] = cons
    return e


def ref(*targets):
    return [{"code": "Reference", "targetProfile": [t if t.startswith("http") else sd_url(t) if t.startswith("ait-") else R4 + t for t in targets]}]


def by_pattern(path, rules="open"):
    return {"discriminator": [{"type": "pattern", "path": path}], "rules": rules}


def coded_slice(path, disc, code, mn, mx, seed=None):
    """A slice recognised by a coded child, the R4 way: the parent is sliced with a pattern
    discriminator on `disc` (see by_pattern) and the slice's `disc` child carries
    patternCodeableConcept (R4 has no BackboneElement pattern)."""
    return [el(path, mn, mx, seed=seed), el("%s.%s" % (path, disc), pattern=("CodeableConcept", cc(CS, code)))]


BY_URL = {"discriminator": [{"type": "value", "path": "url"}], "rules": "open"}
BY_PROFILE = {"discriminator": [{"type": "profile", "path": "resolve()"}], "rules": "open"}


def ext_slice(base, name, ext_id, mn, mx):
    return el("%s.extension:%s" % (base, name), mn, mx, types=[{"code": "Extension", "profile": [sd_url(ext_id)]}])


def profile(pid, name, base, title, description, elements, root_cons=None):
    root = {"id": base, "path": base}
    if root_cons:
        root["constraint"] = root_cons
    resources.append({
        "resourceType": "StructureDefinition", "id": pid, "url": sd_url(pid), "version": VERSION,
        "name": name, "title": title, "status": "active", "description": description,
        "fhirVersion": "4.0.1", "kind": "resource", "abstract": False, "type": base,
        "baseDefinition": R4 + base, "derivation": "constraint",
        "differential": {"element": [root] + elements}})


def extension(eid, name, description, value_type, context, seed=None, cons=None):
    root = {"id": "Extension", "path": "Extension", "short": description}
    if seed:
        root["extension"] = seed_ext(seed)
    if cons:
        root["constraint"] = cons
    resources.append({
        "resourceType": "StructureDefinition", "id": eid, "url": sd_url(eid), "version": VERSION,
        "name": name, "title": name, "status": "active", "description": description,
        "fhirVersion": "4.0.1", "kind": "complex-type", "abstract": False,
        "context": [{"type": "element", "expression": c} for c in context],
        "type": "Extension", "baseDefinition": R4 + "Extension", "derivation": "constraint",
        "differential": {"element": [
            root,
            {"id": "Extension.extension", "path": "Extension.extension", "max": "0"},
            {"id": "Extension.url", "path": "Extension.url", "fixedUri": sd_url(eid)},
            {"id": "Extension.value[x]", "path": "Extension.value[x]", "min": 1, "type": [{"code": value_type}]}]}})


# ---------------------------------------------------------------- terminology
# Local codes: what has no standard code. (code, display, seed section)
LOCAL = [
    # the ten pathway steps (000 §III)
    ("indication", "Step 1: indication", "000 §IV"), ("dossier", "Step 2: referral dossier", "000 §V"),
    ("rcp", "Step 3: multidisciplinary decision (RCP)", "000 §VI"),
    ("preop-consultation", "Step 4: pre-operative consultations", "000 §VII"),
    ("planning", "Step 5: planning", "000 §VIII"), ("prescription", "Step 6: prescription and preparation", "000 §IX"),
    ("hospitalisation", "Step 7: hospitalisation and implantation", "000 §X"),
    ("discharge", "Step 8: discharge consultation", "000 §XI"), ("follow-up", "Step 9: follow-up", "000 §XII"),
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
    ("complication", "Complication reported", "000 §X"),
]
IR_FAMILY = {"cimentoplasty": "consolidation", "vertebral-augmentation": "consolidation", "osteosynthesis": "consolidation",
             "radiofrequency-ablation": "percutaneous-destruction", "cryoablation": "percutaneous-destruction",
             "laser-ablation": "percutaneous-destruction", "microwave-ablation": "percutaneous-destruction",
             "focused-ultrasound": "percutaneous-destruction"}
LEVELS = ["C%d" % i for i in range(1, 8)] + ["D%d" % i for i in range(1, 13)] + ["L%d" % i for i in range(1, 6)] + ["S%d" % i for i in range(1, 6)]

# Dossier labs (000 §V): LOINC code, display.
LABS = [("751-8", "Neutrophils [#/volume] in Blood by Automated count"),
        ("777-3", "Platelets [#/volume] in Blood by Automated count"), ("718-7", "Hemoglobin [Mass/volume] in Blood"),
        ("5902-2", "Prothrombin time (PT)"), ("3173-2", "aPTT in Blood by Coagulation assay"),
        ("2160-0", "Creatinine [Mass/volume] in Serum or Plasma"), ("2345-7", "Glucose [Mass/volume] in Serum or Plasma"),
        ("2951-2", "Sodium [Moles/volume] in Serum or Plasma"), ("2823-3", "Potassium [Moles/volume] in Serum or Plasma"),
        ("2075-0", "Chloride [Moles/volume] in Serum or Plasma"), ("17861-6", "Calcium [Mass/volume] in Serum or Plasma"),
        ("2777-1", "Phosphate [Mass/volume] in Serum or Plasma")]
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
MIRELS = [("mirels-site", [1, 2, 3]), ("mirels-pain", [1, 2, 3]), ("mirels-size", [1, 2, 3]), ("mirels-lesion", [1, 2, 3])]
SINS = [("sins-location", [0, 1, 2, 3]), ("sins-pain", [0, 1, 3]), ("sins-lesion", [0, 1, 2]), ("sins-alignment", [0, 2, 4]),
        ("sins-collapse", [0, 1, 2, 3]), ("sins-posterior", [0, 1, 3])]

resources.append({"resourceType": "CodeSystem", "id": "ait", "url": CS, "version": VERSION, "name": "AITCodes",
                  "title": "AIT pathway codes", "status": "active", "content": "complete", "caseSensitive": True,
                  "description": "Codes of the AIT and IR pathways that have no standard code: steps, decisions, techniques, milestones.",
                  "hierarchyMeaning": "is-a",
                  "concept": [dict({"code": c, "display": d, "definition": "%s (%s)" % (d, s)},
                                   **({"property": [{"code": "parent", "valueCode": IR_FAMILY[c]}]} if c in IR_FAMILY else {}))
                              for c, d, s in LOCAL],
                  "property": [{"code": "parent", "type": "code"}]})
resources.append({"resourceType": "CodeSystem", "id": "ait-vertebral-level", "url": CS_LEVEL, "version": VERSION,
                  "name": "AITVertebralLevel", "title": "Vertebral levels (French notation, D for thoracic)", "status": "active",
                  "content": "complete", "caseSensitive": True, "description": "Vertebral levels for the catheter tip (000 §XIII: C4, D5, D9).",
                  "concept": [{"code": l, "display": l} for l in LEVELS]})


def valueset(vid, name, includes, description):
    resources.append({"resourceType": "ValueSet", "id": vid, "url": vs_url(vid), "version": VERSION, "name": name,
                      "title": name, "status": "active", "description": description,
                      "compose": {"include": [{"system": s, "concept": [{"code": c, "display": d} if d else {"code": c} for c, d in cs]}
                                              for s, cs in includes]}})


def local(*codes):
    d = {c: disp for c, disp, _ in LOCAL}
    return (CS, [(c, d[c]) for c in codes])


valueset("ait-pathway-step", "AITPathwayStep", [local("indication", "dossier", "rcp", "preop-consultation", "planning", "prescription",
                                                     "hospitalisation", "discharge", "follow-up", "refill")], "The ten steps of the AIT pathway (000 §III).")
valueset("ait-rcp-decision", "AITRCPDecision", [local("accepted", "refused", "deferred")], "RCP decisions (000 §VI).")
valueset("ait-technique", "AITTechnique", [local("implanted-pump", "catheter-port-external-pump")], "AIT techniques (000 §VI).")
valueset("ait-centre-role", "AITCentreRole", [local("implanting-centre", "refill-centre")], "Roles of a centre in the network (000 §III).")
valueset("ait-pain-type", "AITPainType", [local("nociceptive", "neuropathic", "mixed")], "Pain types (000 §V).")
valueset("ait-opinion-type", "AITOpinionType", [local("oncology-opinion", "palliative-care-plan")], "Oncology or palliative opinion (000 §V).")
valueset("ait-dossier-imaging", "AITDossierImaging", [local("ct-tap-spine", "brain-ct-mri")], "Imaging of the dossier (000 §V).")
valueset("ait-dossier-labs", "AITDossierLabs", [(LOINC, LABS)], "Laboratory results of the dossier (000 §V).")
valueset("ait-intrathecal-molecules", "AITIntrathecalMolecules", [(ATC, MOLECULES)], "Molecules given intrathecally (000 §IX; 001).")
valueset("ait-vertebral-level", "AITVertebralLevel", [(CS_LEVEL, [(l, None) for l in LEVELS])], "Vertebral levels (000 §XIII).")
valueset("ait-ir-technique", "AITIRTechnique", [local(*[c for c, _, s in LOCAL if s == "003" and c not in ("consolidation", "percutaneous-destruction")])],
         "IR techniques for cancer pain (003).")
valueset("ait-daily-dose-unit", "AITDailyDoseUnit", [(UCUM, [("mg/d", "milligram per day"), ("ug/d", "microgram per day")])], "Units of an intrathecal daily dose (000 §IX).")
valueset("ait-mirels-score", "AITMirelsItems", [local("mirels-site", "mirels-pain", "mirels-size", "mirels-lesion")], "Mirels items (003 annex 4).")
valueset("ait-sins-score", "AITSINSItems", [local(*[c for c, _ in SINS])], "SINS items (003 annex 4).")


# ---------------------------------------------------------------- extensions
extension("ait-implant-date", "AITImplantDate", "Date the pump was implanted (001).", "dateTime", ["Device"])
extension("ait-molecule", "AITMolecule", "The molecule a dosage line's daily dose is for (000 §IX).", "CodeableConcept", ["Dosage"])
extension("ait-off-label", "AITOffLabel", "The prescription is off-label (000 §IX: ropivacaine is).", "boolean", ["MedicationRequest"])
extension("ait-prescription", "AITPrescriptionUsed", "The intrathecal prescription a refill used (000 §XIII).", "Reference", ["Procedure"])
extension("ait-volume-instilled", "AITVolumeInstilled", "Volume instilled at a refill (000 §XIII).", "Quantity", ["Procedure"])
extension("ait-residual-volume", "AITResidualVolume", "Residual volume found in the reservoir (000 §XIII).", "Quantity", ["Procedure"])
extension("ait-flow-rate", "AITFlowRate", "Flow programmed after the refill (000 §XII).", "Quantity", ["Procedure"])
extension("ait-next-refill-date", "AITNextRefillDate", "Date of the next refill (000 §XI, §XIII).", "dateTime", ["Procedure"])
extension("ait-double-check", "AITPharmacyDoubleCheck", "The pharmacy double-checked the preparation (000 §XIII).", "boolean", ["Procedure"])
extension("ait-assay", "AITPharmacyAssay", "The pharmacy assayed the preparation's content (000 §XIII).", "boolean", ["Procedure"])
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
                  "description": "States an invariant as a required-code rule: some target of the references in `pool` has `code` in its "
                                 "CodeableConcept `element` (the invariant's expression says the same in FHIRPath).",
                  "fhirVersion": "4.0.1", "kind": "complex-type", "abstract": False,
                  "context": [{"type": "element", "expression": "ElementDefinition.constraint"}],
                  "type": "Extension", "baseDefinition": R4 + "Extension", "derivation": "constraint",
                  "differential": {"element": [
                      {"id": "Extension", "path": "Extension"},
                      {"id": "Extension.extension", "path": "Extension.extension", "slicing": BY_URL, "min": 3},
                      *[e for n, t in [("pool", "string"), ("element", "string"), ("code", "Coding")] for e in [
                          {"id": "Extension.extension:" + n, "path": "Extension.extension", "sliceName": n, "min": 1, "max": "1"},
                          {"id": "Extension.extension:%s.url" % n, "path": "Extension.extension.url", "fixedUri": n},
                          {"id": "Extension.extension:%s.value[x]" % n, "path": "Extension.extension.value[x]", "min": 1, "type": [{"code": t}]}]],
                      {"id": "Extension.url", "path": "Extension.url", "fixedUri": REQUIRED_CODE_EXT},
                      {"id": "Extension.value[x]", "path": "Extension.value[x]", "max": "0"}]}})

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
        [inv("ait-lab-1", "neutrophils above 500/mm3 (0.5 10*3/uL); below is a relative contraindication needing a benefit/risk assessment",
             "code.coding.where(system='http://loinc.org' and code='751-8').exists() and value.code='10*3/uL' implies value.value > 0.5", "000 §IV", "warning"),
         inv("ait-lab-2", "platelets above 80 000/mm3 (80 10*3/uL); below is a relative contraindication needing a benefit/risk assessment",
             "code.coding.where(system='http://loinc.org' and code='777-3').exists() and value.code='10*3/uL' implies value.value > 80", "000 §IV", "warning")])
profile("ait-imaging-report", "AITImagingReport", "DiagnosticReport", "Dossier imaging",
        "Imaging of the dossier: CT thorax-abdomen-pelvis with the spine, brain CT or MRI, less than %s old (000 §V)." % IMAGING_MAX_AGE,
        [el("DiagnosticReport.status", 1, "1"),
         el("DiagnosticReport.code", 1, "1", vs="ait-dossier-imaging", seed="000 §V"),
         el("DiagnosticReport.subject", 1, "1", types=ref("ait-patient")),
         el("DiagnosticReport.effective[x]", 1, "1", types=[{"code": "dateTime"}]),
         el("DiagnosticReport.conclusion", 1, "1")])
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

DOSSIER = [("oncologyOpinion", "ait-oncology-opinion", 1, "1"), ("performanceStatus", "ait-performance-status", 1, "1"),
           ("lifeExpectancy", "ait-life-expectancy", 1, "1"), ("painAssessment", "ait-pain-assessment", 1, "*"),
           ("labs", "ait-lab-result", len(LABS), "*"), ("imaging", "ait-imaging-report", 2, "*"),
           ("medicationReview", "ait-medication-review", 1, "*"), ("oralMorphineEquivalent", "ait-oral-morphine-equivalent", 1, "1")]
ref_els = [el("ServiceRequest.status", 1, "1"), el("ServiceRequest.intent", 1, "1", fixed=("Code", "order")),
           el("ServiceRequest.code", 1, "1", pattern=("CodeableConcept", cc(CS, "ait-referral"))),
           el("ServiceRequest.subject", 1, "1", types=ref("ait-patient")),
           el("ServiceRequest.authoredOn", 1, "1"),
           el("ServiceRequest.requester", 1, "1", types=ref("ait-practitioner", "PractitionerRole"), seed="000 §V",
              short="the referring physician (oncologist or palliative-care physician)"),
           el("ServiceRequest.performer", 0, "*", types=ref("ait-organization")),
           el("ServiceRequest.supportingInfo", 1, "*", slicing=BY_PROFILE, seed="000 §V")]
ref_els += [el("ServiceRequest.supportingInfo:" + n, mn, mx, types=ref(p), seed="000 §V") for n, p, mn, mx in DOSSIER]
ref_cons = [required_code("ait-ref-lab-" + c, "the dossier has %s (LOINC %s)" % (d, c), "supportingInfo", "code", LOINC, c, "000 §V")
            for c, d in LABS]
ref_cons += [required_code("ait-ref-img-" + c, "the dossier has %s" % d, "supportingInfo", "code", CS, c, "000 §V")
             for c, d in local("ct-tap-spine", "brain-ct-mri")[1]]
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
         el("MedicationRequest.dosageInstruction.route", 1, "1", pattern=("CodeableConcept", cc(SNOMED, "372452007")), seed="000 §IX"),
         el("MedicationRequest.dosageInstruction.doseAndRate", 1, "*"),
         el("MedicationRequest.dosageInstruction.doseAndRate.rate[x]", 1, "1", types=[{"code": "Quantity"}], vs="ait-daily-dose-unit", seed="000 §IX")],
        rx_cons)

# ---------------------------------------------------------------- refill (000 §XIII)
refill_exts = [("prescription", "ait-prescription", 1), ("volumeInstilled", "ait-volume-instilled", 1),
               ("residualVolume", "ait-residual-volume", 1), ("flowRate", "ait-flow-rate", 1),
               ("nextRefillDate", "ait-next-refill-date", 1), ("doubleCheck", "ait-double-check", 1), ("assay", "ait-assay", 1)]
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

# ---------------------------------------------------------------- care plan (000 §III)
profile("ait-careplan", "AITCarePlan", "CarePlan", "AIT pathway",
        "The AIT pathway of one patient: one activity per step (000 §III) with its status and scheduled window.",
        [el("CarePlan.status", 1, "1"), el("CarePlan.intent", 1, "1"),
         el("CarePlan.category", 1, "*", slicing=by_pattern("$this")),
         el("CarePlan.category:pathway", 1, "1", pattern=("CodeableConcept", cc(CS, "ait-pathway"))),
         el("CarePlan.subject", 1, "1", types=ref("ait-patient")),
         el("CarePlan.author", 1, "1", types=ref("ait-practitioner", "PractitionerRole"), short="the coordinating algologist"),
         el("CarePlan.basedOn", 0, "*", types=ref("ait-referral")),
         el("CarePlan.activity", 1, "*"),
         el("CarePlan.activity.detail", 1, "1"),
         el("CarePlan.activity.detail.code", 1, "1", vs="ait-pathway-step", seed="000 §III"),
         el("CarePlan.activity.detail.status", 1, "1"),
         el("CarePlan.activity.detail.scheduled[x]", 1, "1", types=[{"code": "Period"}], short="scheduled window")],
        [inv("ait-cp-1", "each pathway step appears once", "activity.detail.code.coding.code.isDistinct()", "000 §III")])

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
    els = [el("Observation.component", len(items), "*", slicing=by_pattern("code"))]
    cons = [inv("%s-sum" % pid, "the %s total is the sum of its items" % title, "value = component.value.sum()", "003 annex 4"),
            inv("%s-range" % pid, "the %s total is %d to %d" % (title, lo, hi), "value >= %d and value <= %d" % (lo, hi), "003 annex 4")]
    for c, allowed in items:
        n = c.split("-")[1]
        els += coded_slice("Observation.component:" + n, "code", c, 1, "1")
        els.append(el("Observation.component:%s.value[x]" % n, 1, "1", types=[{"code": "integer"}]))
        cons.append(inv("%s-%s" % (pid, n), "%s scores %s" % (c, " or ".join(map(str, allowed))),
                        "component.where(code.coding.code='%s').value.all(%s)" % (c, " or ".join("$this = %d" % a for a in allowed)), "003 annex 4"))
    obs(pid, name, title, "%s score with its items (003 annex 4)." % title, coding(CS, code), ["integer"], els, cons)


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

# ---------------------------------------------------------------- examples
examples = []
PAT = {"reference": "Patient/ait-patient-example"}


def example(r, prof):
    r["meta"] = {"profile": [sd_url(prof)]} if prof else r.get("meta")
    if r["meta"] is None:
        del r["meta"]
    examples.append(r)


def R(t, i):
    return {"reference": "%s/%s" % (t, i)}


example({"resourceType": "Patient", "id": "ait-patient-example",
         "identifier": [{"system": INS_NIR, "value": "255081416802538"},
                        {"type": cc("http://terminology.hl7.org/CodeSystem/v2-0203", "PI"), "system": "urn:oid:1.2.250.1.71.4.2.1", "value": "IPP-0042"}],
         "name": [{"family": "Exemple", "given": ["Jeanne"]}], "gender": "female", "birthDate": "1955-08-14",
         "generalPractitioner": [R("Practitioner", "ait-gp-example")]}, "ait-patient")
for pid, given, rpps in [("ait-gp-example", "Paul", "10000000001"), ("ait-referrer-example", "Anne", "10000000002"),
                         ("ait-algologist-example", "Marc", "10000000003"), ("ait-implanter-example", "Lina", "10000000004"),
                         ("ait-pharmacist-example", "Hugo", "10000000005")]:
    example({"resourceType": "Practitioner", "id": pid, "identifier": [{"system": RPPS, "value": rpps}],
             "name": [{"family": "Docteur", "given": [given]}]}, "ait-practitioner")
for rid, prac, code in [("ait-role-algologist", "ait-algologist-example", "algologist"), ("ait-role-implanter", "ait-implanter-example", "implanting-physician"),
                        ("ait-role-pharmacist", "ait-pharmacist-example", "pui-pharmacist")]:
    example({"resourceType": "PractitionerRole", "id": rid, "practitioner": R("Practitioner", prac),
             "organization": R("Organization", "ait-implanting-centre-example"), "code": [{"text": code}]}, None)
for oid, name, role, finess in [("ait-implanting-centre-example", "CHU Exemple", "implanting-centre", "590780193"),
                                ("ait-refill-centre-example", "CH Proximité", "refill-centre", "590000212")]:
    example({"resourceType": "Organization", "id": oid, "identifier": [{"system": FINESS, "value": finess}],
             "type": [cc(CS, role)], "name": name}, "ait-organization")
example({"resourceType": "DocumentReference", "id": "ait-oncology-opinion-example", "status": "current",
         "type": cc(CS, "oncology-opinion"), "subject": PAT, "date": "2026-03-02T10:00:00+01:00",
         "content": [{"attachment": {"contentType": "application/pdf", "url": "Binary/rcp-onco-1", "title": "RCP digestive"}}]}, "ait-oncology-opinion")
example({"resourceType": "Observation", "id": "ait-performance-status-example", "status": "final",
         "code": cc(LOINC, "89247-1", "ECOG Performance Status score"), "subject": PAT, "effectiveDateTime": "2026-03-02", "valueInteger": 2}, "ait-performance-status")
example({"resourceType": "Observation", "id": "ait-life-expectancy-example", "status": "final", "code": cc(CS, "life-expectancy"),
         "subject": PAT, "effectiveDateTime": "2026-03-02", "valueQuantity": {"value": 6, "unit": "months", "system": UCUM, "code": "mo"}}, "ait-life-expectancy")
example({"resourceType": "Observation", "id": "ait-ome-example", "status": "final", "code": cc(CS, "oral-morphine-equivalent"),
         "subject": PAT, "effectiveDateTime": "2026-03-02", "valueQuantity": {"value": 360, "unit": "mg/day", "system": UCUM, "code": "mg/d"}}, "ait-oral-morphine-equivalent")
example({"resourceType": "Observation", "id": "ait-pain-assessment-example", "status": "final",
         "code": cc(LOINC, "72514-3"), "subject": PAT, "effectiveDateTime": "2026-03-02", "valueInteger": 8,
         "bodySite": {"text": "upper abdomen, radiating to the back"},
         "component": [{"code": cc(CS, "pain-type"), "valueCodeableConcept": cc(CS, "mixed")},
                       {"code": cc(CS, "pain-etiology"), "valueString": "pancreatic adenocarcinoma, coeliac plexus invasion"},
                       {"code": cc(CS, "treatment-tried"), "valueString": "oxycodone up to 240 mg/d, pregabalin"}]}, "ait-pain-assessment")
LAB_VALUES = {"751-8": (3.2, "10*3/uL"), "777-3": (210, "10*3/uL"), "718-7": (11.2, "g/dL"), "5902-2": (12.5, "s"), "3173-2": (31, "s"),
              "2160-0": (0.8, "mg/dL"), "2345-7": (95, "mg/dL"), "2951-2": (139, "mmol/L"), "2823-3": (4.1, "mmol/L"),
              "2075-0": (101, "mmol/L"), "17861-6": (9.4, "mg/dL"), "2777-1": (3.5, "mg/dL")}
for c, d in LABS:
    v, u = LAB_VALUES[c]
    example({"resourceType": "Observation", "id": "ait-lab-%s-example" % c, "status": "final",
             "category": [cc("http://terminology.hl7.org/CodeSystem/observation-category", "laboratory")],
             "code": cc(LOINC, c, d), "subject": PAT, "effectiveDateTime": "2026-03-01",
             "valueQuantity": {"value": v, "unit": u, "system": UCUM, "code": u}}, "ait-lab-result")
for iid, code, concl in [("ait-imaging-ct-example", "ct-tap-spine", "Pancreatic mass, no spinal canal invasion."),
                         ("ait-imaging-brain-example", "brain-ct-mri", "No brain metastasis.")]:
    example({"resourceType": "DiagnosticReport", "id": iid, "status": "final", "code": cc(CS, code), "subject": PAT,
             "effectiveDateTime": "2026-02-20", "conclusion": concl}, "ait-imaging-report")
example({"resourceType": "MedicationStatement", "id": "ait-medication-review-example", "status": "active",
         "medicationCodeableConcept": cc(ATC, "N02AA05", "oxycodone"), "subject": PAT,
         "note": [{"text": "240 mg/d orally; constipation, drowsiness"}]}, "ait-medication-review")
dossier_refs = ["DocumentReference/ait-oncology-opinion-example", "Observation/ait-performance-status-example",
                "Observation/ait-life-expectancy-example", "Observation/ait-pain-assessment-example"] + \
               ["Observation/ait-lab-%s-example" % c for c, _ in LABS] + \
               ["DiagnosticReport/ait-imaging-ct-example", "DiagnosticReport/ait-imaging-brain-example",
                "MedicationStatement/ait-medication-review-example", "Observation/ait-ome-example"]
example({"resourceType": "ServiceRequest", "id": "ait-referral-example", "status": "active", "intent": "order",
         "code": cc(CS, "ait-referral"), "subject": PAT, "authoredOn": "2026-03-03",
         "requester": R("Practitioner", "ait-referrer-example"), "performer": [R("Organization", "ait-implanting-centre-example")],
         "supportingInfo": [{"reference": r} for r in dossier_refs]}, "ait-referral")
example({"resourceType": "DocumentReference", "id": "ait-rcp-report-example", "status": "current",
         "type": cc(LOINC, "34794-8"), "subject": PAT, "date": "2026-03-12T18:00:00+01:00",
         "content": [{"attachment": {"contentType": "application/pdf", "url": "Binary/rcp-ait-1"}}]}, None)
example({"resourceType": "Task", "id": "ait-rcp-decision-example", "status": "completed", "intent": "order",
         "code": cc(CS, "rcp-review"), "basedOn": [R("ServiceRequest", "ait-referral-example")], "for": PAT,
         "executionPeriod": {"start": "2026-03-12T17:00:00+01:00", "end": "2026-03-12T18:00:00+01:00"},
         "owner": R("Practitioner", "ait-algologist-example"),
         "input": [{"type": cc(CS, "rcp-participant"), "valueReference": R("PractitionerRole", r)}
                   for r in ("ait-role-algologist", "ait-role-implanter", "ait-role-pharmacist")],
         "output": [{"type": cc(CS, "rcp-decision"), "valueCodeableConcept": cc(CS, "accepted")},
                    {"type": cc(CS, "rcp-technique"), "valueCodeableConcept": cc(CS, "implanted-pump")},
                    {"type": cc(CS, "rcp-life-expectancy-basis"), "valueReference": R("Observation", "ait-life-expectancy-example")},
                    {"type": cc(CS, "rcp-report"), "valueReference": R("DocumentReference", "ait-rcp-report-example")}]}, "ait-rcp-decision")
example({"resourceType": "Device", "id": "ait-pump-example",
         "extension": [{"url": sd_url("ait-implant-date"), "valueDateTime": "2026-04-02"}],
         "status": "active", "type": cc(CS, "intrathecal-pump"), "manufacturer": "Medtronic",
         "deviceName": [{"name": "SynchroMed II", "type": "model-name"}], "modelNumber": "8637-40", "serialNumber": "NGP123456H",
         "expirationDate": "2033-04-02", "patient": PAT, "owner": R("Organization", "ait-implanting-centre-example"),
         "safety": [cc(CS, "mri-conditional")],
         "property": [{"type": cc(CS, "reservoir-volume"), "valueQuantity": [{"value": 40, "unit": "mL", "system": UCUM, "code": "mL"}]},
                      {"type": cc(CS, "catheter-tip-level"), "valueCode": [cc(CS_LEVEL, "D5")]},
                      {"type": cc(CS, "patient-bolus-remote"), "valueCode": [cc("http://terminology.hl7.org/CodeSystem/v2-0136", "Y")]}]}, "ait-pump")
example({"resourceType": "Procedure", "id": "ait-implantation-example", "status": "completed", "code": cc(CS, "pump-implantation"),
         "subject": PAT, "basedOn": [R("ServiceRequest", "ait-referral-example")], "performedDateTime": "2026-04-02T09:30:00+02:00",
         "performer": [{"actor": R("Practitioner", "ait-implanter-example")}], "bodySite": [{"text": "left abdominal wall pocket; catheter tip D5"}],
         "focalDevice": [{"manipulated": R("Device", "ait-pump-example")}]}, "ait-implantation")
MIX = {"resourceType": "Medication", "id": "mix",
       "ingredient": [{"itemCodeableConcept": cc(ATC, "N02AA01", "morphine"),
                       "strength": {"numerator": {"value": 50, "unit": "mg", "system": UCUM, "code": "mg"}, "denominator": {"value": 1, "unit": "mL", "system": UCUM, "code": "mL"}}},
                      {"itemCodeableConcept": cc(ATC, "N02BG08", "ziconotide"),
                       "strength": {"numerator": {"value": 100, "unit": "ug", "system": UCUM, "code": "ug"}, "denominator": {"value": 1, "unit": "mL", "system": UCUM, "code": "mL"}}}]}
example(dict(MIX, id="ait-compounded-medication-example"), "ait-compounded-medication")


def dose(atc, name, v, unit):
    return {"extension": [{"url": sd_url("ait-molecule"), "valueCodeableConcept": cc(ATC, atc, name)}],
            "text": "%s %g %s" % (name, v, unit),
            "route": {"coding": [coding(SNOMED, "372452007", "Intrathecal route"), coding(EDQM, "20042000", "Intrathecal use")]},
            "doseAndRate": [{"rateQuantity": {"value": v, "unit": unit, "system": UCUM, "code": unit}}],
            "maxDosePerPeriod": {"numerator": {"value": 4, "unit": "bolus"}, "denominator": {"value": 1, "unit": "d", "system": UCUM, "code": "d"}}}


example({"resourceType": "MedicationRequest", "id": "ait-prescription-example", "contained": [MIX],
         "extension": [{"url": sd_url("ait-off-label"), "valueBoolean": False}],
         "status": "active", "intent": "order", "medicationReference": {"reference": "#mix"}, "subject": PAT,
         "authoredOn": "2026-04-01", "requester": R("Practitioner", "ait-algologist-example"),
         "dosageInstruction": [dose("N02AA01", "morphine", 3, "mg/d"), dose("N02BG08", "ziconotide", 2.4, "ug/d")]}, "ait-intrathecal-prescription")
example({"resourceType": "Procedure", "id": "ait-refill-example",
         "extension": [{"url": sd_url("ait-prescription"), "valueReference": R("MedicationRequest", "ait-prescription-example")},
                       {"url": sd_url("ait-volume-instilled"), "valueQuantity": {"value": 38, "unit": "mL", "system": UCUM, "code": "mL"}},
                       {"url": sd_url("ait-residual-volume"), "valueQuantity": {"value": 2.5, "unit": "mL", "system": UCUM, "code": "mL"}},
                       {"url": sd_url("ait-flow-rate"), "valueQuantity": {"value": 0.6, "unit": "mL/d", "system": UCUM, "code": "mL/d"}},
                       {"url": sd_url("ait-next-refill-date"), "valueDateTime": "2026-06-30"},
                       {"url": sd_url("ait-double-check"), "valueBoolean": True}, {"url": sd_url("ait-assay"), "valueBoolean": True}],
         "status": "completed", "code": cc(CS, "pump-refill"), "subject": PAT, "performedDateTime": "2026-05-05T10:00:00+02:00",
         "performer": [{"actor": R("Practitioner", "ait-algologist-example"), "onBehalfOf": R("Organization", "ait-refill-centre-example")}],
         "focalDevice": [{"manipulated": R("Device", "ait-pump-example")}]}, "ait-refill")
STEPS = [("dossier", "completed", "2026-03-01", "2026-03-03"), ("rcp", "completed", "2026-03-03", "2026-03-18"),
         ("preop-consultation", "completed", "2026-03-13", "2026-03-19"), ("hospitalisation", "scheduled", "2026-04-01", "2026-04-09"),
         ("refill", "not-started", "2026-04-30", "2026-07-09")]
example({"resourceType": "CarePlan", "id": "ait-careplan-example", "status": "active", "intent": "plan",
         "category": [cc(CS, "ait-pathway")], "subject": PAT, "author": R("Practitioner", "ait-algologist-example"),
         "basedOn": [R("ServiceRequest", "ait-referral-example")],
         "activity": [{"detail": {"code": cc(CS, s), "status": st, "scheduledPeriod": {"start": a, "end": b}}} for s, st, a, b in STEPS]}, "ait-careplan")
example({"resourceType": "Procedure", "id": "ait-ir-procedure-example", "status": "completed", "code": cc(CS, "cimentoplasty"),
         "subject": PAT, "performedDateTime": "2026-02-10T14:00:00+01:00",
         "performer": [{"actor": R("Practitioner", "ait-implanter-example")}], "bodySite": [{"text": "L2 vertebral body"}]}, "ait-ir-procedure")


def score_example(sid, prof, code, values):
    example({"resourceType": "Observation", "id": sid, "status": "final", "code": cc(CS, code), "subject": PAT,
             "effectiveDateTime": "2026-02-01", "valueInteger": sum(v for _, v in values),
             "component": [{"code": cc(CS, c), "valueInteger": v} for c, v in values]}, prof)


score_example("ait-mirels-example", "ait-mirels", "mirels-score", [("mirels-site", 3), ("mirels-pain", 2), ("mirels-size", 2), ("mirels-lesion", 3)])
score_example("ait-sins-example", "ait-sins", "sins-score", [("sins-location", 2), ("sins-pain", 3), ("sins-lesion", 2),
                                                             ("sins-alignment", 0), ("sins-collapse", 1), ("sins-posterior", 1)])

# ---------------------------------------------------------------- seed sections used by the rules above
resources.append({"resourceType": "CodeSystem", "id": "ait-seed-section", "url": CS_SEED, "version": VERSION,
                  "name": "AITSeedSection", "title": "Sections of the source referentials", "status": "active",
                  "content": "complete", "caseSensitive": True,
                  "description": "Sections of the seed documents (000 AIT referential, 001 review, 003 IR referential) that clinical rules cite.",
                  "concept": [{"code": s, "display": s} for s in sorted(seeds_used)]})

if os.path.isdir(OUT):
    shutil.rmtree(OUT)
os.makedirs(OUT)
pkg = dict(PKG)
json.dump(pkg, open(os.path.join(OUT, "package.json"), "w"), indent=2, ensure_ascii=False)
for r in resources:
    json.dump(r, open(os.path.join(OUT, "%s-%s.json" % (r["resourceType"], r["id"])), "w"), indent=1, ensure_ascii=False)
os.makedirs(os.path.join(OUT, "example"))
for r in examples:
    json.dump(r, open(os.path.join(OUT, "example", "%s-%s.json" % (r["resourceType"], r["id"])), "w"), indent=1, ensure_ascii=False)
print(len(resources), "resources,", len(examples), "examples")
