"""Terminology of the AIT guide: its CodeSystems and ValueSets, from tables.py."""
from fhirbuild import *
from tables import *

CS_ROLE = CANON + "/CodeSystem/ait-practitioner-role"
CS_SCORE = CANON + "/CodeSystem/ait-score"


def concept(c, d, s, **props):
    """A concept whose definition names its seed section; props become concept properties."""
    out = {"code": c, "display": d, "definition": "%s (%s)" % (d, s)}
    p = []
    for k, v in props.items():
        if v is None:
            continue
        key = {"int": "valueInteger", "bool": "valueBoolean"}.get(type(v).__name__, "valueCode")
        p.append({"code": k, key: v})
    if p:
        out["property"] = p
    return out


def codesystem(cid, url, name, title, description, concepts, properties=None, **extra):
    r = {"resourceType": "CodeSystem", "id": cid, "url": url, "version": VERSION, "name": name, "title": title,
         "status": "active", "content": "complete", "caseSensitive": True, "description": description}
    r.update(extra)
    r["concept"] = concepts
    if properties:
        r["property"] = [{"code": c, "type": t, "description": d} for c, t, d in properties]
    resources.append(r)


codesystem("ait", CS, "AITCodes", "AIT pathway codes",
           "Codes of the AIT and IR pathways that have no standard code: steps, step facts and qualifiers, decisions, "
           "techniques, dossier elements, contraindications, milestones.",
           [concept(c, d, s, parent=IR_FAMILY.get(c)) for c, d, s in LOCAL] +
           [concept(c, d, CONTRAINDICATION_SEED, contraindication="absolute" if a else "relative") for c, d, a in CONTRAINDICATIONS],
           [("parent", "code", "The family of an IR technique (003)."),
            ("contraindication", "code", "absolute (blocks the indication) or relative (needs a documented benefit/risk assessment), 000 §IV.")],
           hierarchyMeaning="is-a")
codesystem("ait-vertebral-level", CS_LEVEL, "AITVertebralLevel", "Vertebral levels (French notation, D for thoracic)",
           "Vertebral levels for the catheter tip (000 §XIII: C4, D5, D9).", [{"code": l, "display": l} for l in LEVELS])
codesystem("ait-practitioner-role", CS_ROLE, "AITPractitionerRole", "Roles of the pathway actors",
           "Roles of the physicians, pharmacists and others of the AIT and IR pathways (PractitionerRole.code); the pathway "
           "reads who may record a step from them (000 §IX: the algologist prescribes; 000 §I.2: a refill is a medical act).",
           [concept(c, d, s) for c, d, s in ROLES])
codesystem("ait-score", CS_SCORE, "AITScore", "Mirels and SINS answers and interpretation bands",
           "Answers of the Mirels and SINS items with their points, and the interpretation bands of the totals (003 annex 4).",
           [concept("%s-%s" % (q, a), d, SCORE_SEED, question=q, points=p) for q, a, d, p in SCORE_ANSWERS] +
           [concept("%s-%s" % (s, b), d, SCORE_SEED, low=lo, high=hi) for s, b, d, lo, hi in SCORE_BANDS],
           [("question", "code", "The item (component code of the AIT CodeSystem) an answer answers."),
            ("points", "integer", "The points of an answer."),
            ("low", "integer", "Lowest total of a band (inclusive)."), ("high", "integer", "Highest total of a band (inclusive).")])


def valueset(vid, name, includes, description):
    resources.append({"resourceType": "ValueSet", "id": vid, "url": vs_url(vid), "version": VERSION, "name": name,
                      "title": name, "status": "active", "description": description,
                      "compose": {"include": [{"system": s, "concept": [{"code": c, "display": d} if d else {"code": c} for c, d in cs]}
                                              for s, cs in includes]}})


def local(*codes):
    d = {c: disp for c, disp, _ in LOCAL}
    return (CS, [(c, d[c]) for c in codes])


def by_system(rows):
    """(system, code, display) rows grouped into ValueSet includes, in order."""
    out = []
    for s, c, d in rows:
        if not out or out[-1][0] != s:
            out.append((s, []))
        out[-1][1].append((c, d))
    return out


valueset("ait-pathway-step", "AITPathwayStep", [local(*AIT_STEPS)], "The ten steps of the AIT pathway (000 §III).")
valueset("ait-ir-pathway-step", "AITIRPathwayStep", [local(*IR_STEPS)], "The five steps of the IR pathway (003).")
valueset("ait-step-fact", "AITStepFact", [local(*STEP_FACTS)],
         "What a step resource records when the guide has no profile for it: consent, consultations, planning, admission, "
         "discharge, follow-up, complication, trial (002), IR steps (003) (000 §VI-§XII).")
valueset("ait-step-qualifier", "AITStepQualifier", [local(*STEP_QUALIFIERS)],
         "Qualifiers of a step resource: consent given (000 §VI), on methadone (000 §X), refill centre differs (000 §XI).")
valueset("ait-rcp-decision", "AITRCPDecision", [local("accepted", "refused", "deferred")], "RCP decisions (000 §VI).")
valueset("ait-technique", "AITTechnique", [local("implanted-pump", "catheter-port-external-pump")], "AIT techniques (000 §VI).")
valueset("ait-centre-role", "AITCentreRole", [local("implanting-centre", "refill-centre")], "Roles of a centre in the network (000 §III).")
valueset("ait-practitioner-role", "AITPractitionerRole", [(CS_ROLE, [(c, d) for c, d, _ in ROLES])],
         "Roles of the pathway actors (000 §V-§XIII; 003).")
valueset("ait-contraindication", "AITContraindication", [(CS, [(c, d) for c, d, _ in CONTRAINDICATIONS])],
         "Absolute and relative contraindications to AIT (000 §IV).")
valueset("ait-pain-type", "AITPainType", [local("nociceptive", "neuropathic", "mixed")], "Pain types (000 §V).")
valueset("ait-opinion-type", "AITOpinionType", [local("oncology-opinion", "palliative-care-plan")], "Oncology or palliative opinion (000 §V).")
valueset("ait-dossier-imaging", "AITDossierImaging", by_system([r for _, _, rows in DOSSIER_IMAGING for r in rows]),
         "Imaging of the dossier: CT thorax-abdomen-pelvis with the spine; brain CT or MRI (000 §V).")
valueset("ait-dossier-labs", "AITDossierLabs", [(LOINC, LAB_CODES)],
         "Laboratory results of the dossier, with the LOINC equivalents each is sent with (000 §V).")
valueset("ait-intrathecal-molecules", "AITIntrathecalMolecules", [(ATC, MOLECULES)], "Molecules given intrathecally (000 §IX; 001).")
valueset("ait-vertebral-level", "AITVertebralLevel", [(CS_LEVEL, [(l, None) for l in LEVELS])], "Vertebral levels (000 §XIII).")
valueset("ait-ir-technique", "AITIRTechnique", [local(*IR_TECHNIQUES)], "IR techniques for cancer pain (003).")
valueset("ait-intrathecal-route", "AITIntrathecalRoute", INTRATHECAL_ROUTE,
         "The intrathecal route (000 §IX): SNOMED CT 72607000 (Intrathecal route) or EDQM 20042000 (Intrathecal use); either coding suffices.")
valueset("ait-daily-dose-unit", "AITDailyDoseUnit", [(UCUM, [("mg/d", "milligram per day"), ("ug/d", "microgram per day")])], "Units of an intrathecal daily dose (000 §IX).")
valueset("ait-mirels-score", "AITMirelsItems", [local(*[c for c, _ in MIRELS])], "Mirels items (003 annex 4).")
valueset("ait-sins-score", "AITSINSItems", [local(*[c for c, _ in SINS])], "SINS items (003 annex 4).")
valueset("ait-score-answer", "AITScoreAnswer", [(CS_SCORE, [("%s-%s" % (q, a), d) for q, a, d, _ in SCORE_ANSWERS])],
         "Answers of the Mirels and SINS items (003 annex 4).")
valueset("ait-score-band", "AITScoreBand", [(CS_SCORE, [("%s-%s" % (s, b), d) for s, b, d, _, _ in SCORE_BANDS])],
         "Interpretation bands of the Mirels and SINS totals (003 annex 4).")
