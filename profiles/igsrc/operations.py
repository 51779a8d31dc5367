"""The guide's custom operations (OperationDefinition): the contract of what the gateway
serves beyond the FHIR RESTful API. Each names its parameters; the gateway registers
each operation under the canonical written here (cmd/aitgw: operationBase + code)."""
from fhirbuild import CANON, VERSION, resources


def param(name, use, mn, mx, typ, doc=""):
    return {"name": name, "use": use, "min": mn, "max": mx, "type": typ, "documentation": doc}


def operation(code, title, desc, system, types, instance, params, affects_state=False, kind_type=False):
    resources.append({
        "resourceType": "OperationDefinition", "id": code, "url": CANON + "/OperationDefinition/" + code,
        "version": VERSION, "name": "".join(w.capitalize() for w in code.split("-")), "title": title,
        "status": "active", "kind": "operation", "description": desc, "affectsState": affects_state,
        "code": code, "system": system, "type": kind_type, "instance": instance,
        **({"resource": types} if types else {}), "parameter": params})


operation("ait-referral", "AIT or IR referral intake",
          "Takes a referral transaction Bundle (a ServiceRequest coded ait-referral or ir-request, its patient and, for AIT, "
          "its dossier, 000 §V.2; 003): checks the patient's identity (INS, else IPP + birth date + family name) before any "
          "match, assigns the guide's profiles, normalises lab values, makes every entry conditional on its identifier and the "
          "patient, links the dossier and opens the AIT or IR pathway CarePlan, in one transaction. A transaction Bundle posted "
          "to the base that carries such a ServiceRequest gets the same intake. Posting it again, by either door, creates "
          "nothing twice. An identity conflict is a 409 naming both identities; nothing is written.",
          True, None, False,
          [param("resource", "in", 1, "1", "Bundle", "the referral, a transaction Bundle"),
           param("transaction-response", "out", 1, "1", "Bundle", "the transaction-response of the committed intake"),
           param("outcome", "out", 1, "1", "OperationOutcome", "what was mapped, derived, kept as sent, and the write's warnings")],
          affects_state=True)
operation("ait-dossier-status", "Is the AIT dossier complete?",
          "Reads a referral's dossier (ServiceRequest.supportingInfo) and says whether it is complete (000 §V.2): one issue per "
          "missing, stale (labs 1 month, imaging 6 weeks before the referral) or out-of-range element, each with its seed section. "
          "The checklist is the AITReferral profile's (one rule per dossier element).",
          False, ["ServiceRequest"], True,
          [param("complete", "out", 1, "1", "boolean", "true when nothing is missing, stale or out of range"),
           param("outcome", "out", 1, "1", "OperationOutcome", "the missing, stale or out-of-range elements")])
for code, name, section, questions in [("mirels", "Mirels", "003 annex 4", "site, pain, size, lesion"),
                                       ("sins", "SINS", "003 annex 4", "location, pain, lesion, alignment, collapse, posterior")]:
    operation(code, "%s score" % name,
              "Computes the %s score (%s) from the answers (%s) given as a Parameters (one parameter per question, "
              "valueCode the answer; optional subject and effective) or an Observation with one component per question, and "
              "returns the score Observation with its interpretation band. Stores nothing." % (name, section, questions),
              False, ["Observation"], False,
              [param(q.strip(), "in", 0, "1", "code", "answer code (CodeSystem ait-score)") for q in questions.split(",")] +
              [param("subject", "in", 0, "1", "Reference", "the patient"),
               param("effective", "in", 0, "1", "dateTime", "when the answers were given"),
               param("return", "out", 1, "1", "Observation", "the score Observation")], kind_type=True)
operation("ait-dead-letters", "Notifications that could not be delivered",
          "Lists the notifications (letters of the pathway's milestones) whose delivery failed for good: visibly dead-lettered, "
          "to be replayed with $ait-replay.",
          True, None, False,
          [param("deadLetter", "out", 1, "1", "string", "the dead letters as a JSON array (number, Communication, recipient, last error)")])
operation("ait-replay", "Replay dead-lettered notifications",
          "Queues the dead letters named by seq (or all) for delivery again.",
          True, None, False,
          [param("seq", "in", 0, "*", "integer", "the dead letters' numbers; none: all"),
           param("replayed", "out", 1, "1", "string", "how many were queued again (a number, as text)")], affects_state=True)
operation("ait-rules", "Clinical rule values in effect",
          "Returns the site-adjustable values of the clinical rules as this gateway applies them (serve --rules FILE): the "
          "oral morphine equivalent threshold (000 §IV; 001), the refill window (000 §XIII), the deadlines a site may tighten "
          "(000 §VI, §VII), the safety limits that can only be tightened (ziconotide, number of molecules, 000 §IX) and the "
          "care site's time zone. One parameter per setting, its parts: value, unit, default, min, max, direction, safety, "
          "overridden, description, source (the document by title and section).",
          True, None, False,
          [param("setting", "out", 0, "*", "string", "one per setting, named by the setting, with the parts listed above")])
