"""Examples of the AIT guide: one or more per profile, referencing each other by Type/id."""
from fhirbuild import *
from tables import *
from terminology import CS_ROLE, CS_SCORE

PAT = {"reference": "Patient/ait-patient-example"}


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
                        ("ait-role-pharmacist", "ait-pharmacist-example", "pharmacist")]:
    example({"resourceType": "PractitionerRole", "id": rid, "practitioner": R("Practitioner", prac),
             "organization": R("Organization", "ait-implanting-centre-example"), "code": [dict(cc(CS_ROLE, code, dict((c, d) for c, d, _ in ROLES)[code]), text=code)]}, None)
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
    norm = [{"url": sd_url("ait-normalised-value"), "valueQuantity": {"value": 70.7, "unit": "umol/L", "system": UCUM, "code": "umol/L"}}] \
        if c == "2160-0" else []
    example(dict({"extension": norm} if norm else {}, **{"resourceType": "Observation", "id": "ait-lab-%s-example" % c, "status": "final",
             "category": [cc("http://terminology.hl7.org/CodeSystem/observation-category", "laboratory")],
             "code": cc(LOINC, c, d), "subject": PAT, "effectiveDateTime": "2026-03-01",
             "valueQuantity": {"value": v, "unit": u, "system": UCUM, "code": u}}), "ait-lab-result")
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
            "route": {"coding": [coding(SNOMED, "72607000", "Intrathecal route"), coding(EDQM, "20042000", "Intrathecal use")]},
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
         ("refill", "not-started", "2026-04-30", "2026-07-09"), ("follow-up", "not-started", None, None)]


def activity(code, status, start, end, system=CS, deadline=None, overdue=False):
    d = {"code": cc(system, code), "status": status}
    if start:
        d["scheduledPeriod"] = dict({"start": start}, **({"end": end} if end else {}))
    ext = ([{"url": sd_url("ait-activity-overdue"), "valueBoolean": True}] if overdue else []) + \
          ([{"url": sd_url("ait-deadline-section"), "valueString": deadline}] if deadline else [])
    if ext:
        d["extension"] = ext
    return {"detail": d}


example({"resourceType": "CarePlan", "id": "ait-careplan-example", "status": "active", "intent": "plan",
         "identifier": [{"system": NS_CAREPLAN, "value": "eb898daa-64cd-806d-b951-978e9546d9a5"}],
         "category": [cc(CS, "ait-pathway")], "subject": PAT, "author": R("Practitioner", "ait-algologist-example"),
         "supportingInfo": [dict(R("ServiceRequest", "ait-referral-example"), display="the referral that opened this pathway")],
         "activity": [activity(s, st, a, b, deadline="RCP within 15 days of the complete dossier (000 §VI)" if s == "rcp" else None)
                      for s, st, a, b in STEPS]}, "ait-careplan")
example({"resourceType": "CarePlan", "id": "ait-ir-careplan-example", "status": "active", "intent": "plan",
         "identifier": [{"system": NS_CAREPLAN, "value": "0b7e4a8e-2f0c-4d55-9d0e-3b1f6c2a9e11"}],
         "category": [cc(CS, "ir-pathway")], "subject": PAT,
         "activity": [activity("ir-request", "completed", "2026-01-20", None), activity("ir-rcp", "completed", "2026-01-22", None),
                      activity("ir-consultation", "completed", "2026-02-03", None),
                      activity("ir-procedure", "completed", "2026-02-05", None, deadline="consultation at least 48 h before the act (003)"),
                      activity("ir-follow-up", "scheduled", "2026-02-10", "2026-03-10", overdue=False,
                               deadline="follow-up at 1 month of the act (003)")]}, "ait-ir-careplan")
example({"resourceType": "ImagingStudy", "id": "ait-imaging-study-example", "status": "available", "subject": PAT,
         "started": "2026-02-20T11:00:00+01:00", "modality": [coding("http://dicom.nema.org/resources/ontology/DCM", "MR")],
         "procedureCode": [cc(LOINC, "24590-2", "MR Brain")]}, "ait-imaging-study")
example({"resourceType": "Condition", "id": "ait-condition-example",
         "clinicalStatus": cc("http://terminology.hl7.org/CodeSystem/condition-clinical", "active"),
         "code": cc(CS, "ascites-stomy-fistula", "Ascites, stomies, fistulas"), "subject": PAT,
         "note": [{"text": "relative contraindication: benefit/risk assessed at the RCP (000 §IV)"}]}, "ait-condition")
example({"resourceType": "Procedure", "id": "ait-ir-procedure-example", "status": "completed", "code": cc(CS, "cimentoplasty"),
         "subject": PAT, "performedDateTime": "2026-02-10T14:00:00+01:00",
         "performer": [{"actor": R("Practitioner", "ait-implanter-example")}], "bodySite": [{"text": "L2 vertebral body"}]}, "ait-ir-procedure")


def score_example(sid, prof, code, answers):
    prefix = code.split("-")[0]
    points = {"%s-%s" % (q, a): p for q, a, _, p in SCORE_ANSWERS}
    disp = {"%s-%s" % (q, a): d for q, a, d, _ in SCORE_ANSWERS}
    total = sum(points["%s-%s" % qa] for qa in answers)
    band = [(s, b, d) for s, b, d, lo, hi in SCORE_BANDS if s == prefix and lo <= total <= hi][0]
    example({"resourceType": "Observation", "id": sid, "status": "final", "code": cc(CS, code), "subject": PAT,
             "effectiveDateTime": "2026-02-01", "valueInteger": total,
             "interpretation": [cc(CS_SCORE, "%s-%s" % band[:2], band[2])],
             "component": [{"extension": [{"url": sd_url("ait-score-answer"), "valueCoding": coding(CS_SCORE, "%s-%s" % (q, a), disp["%s-%s" % (q, a)])}],
                            "code": cc(CS, q), "valueInteger": points["%s-%s" % (q, a)]} for q, a in answers]}, prof)


score_example("ait-mirels-example", "ait-mirels", "mirels-score", [("mirels-site", "proximal-femur"), ("mirels-pain", "moderate"),
                                                                   ("mirels-size", "1/3-2/3"), ("mirels-lesion", "lytic")])
score_example("ait-sins-example", "ait-sins", "sins-score", [("sins-location", "mobile"), ("sins-pain", "mechanical"), ("sins-lesion", "lytic"),
                                                             ("sins-alignment", "normal"), ("sins-collapse", "none-gt-50-involved"),
                                                             ("sins-posterior", "unilateral")])
