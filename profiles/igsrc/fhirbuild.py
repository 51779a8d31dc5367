#!/usr/bin/env python3
"""The writer of the AIT guide: canonical URLs, FHIR building blocks (elements, invariants,
profiles, extensions, ValueSets) and the list of resources gen.py fills and writes.
No clinical rule lives here: they are in tables.py, each row with its seed section."""
import json
import os
import shutil

# AITGW_IG_OUT lets the freshness test (profiles/igfresh_test.go) write elsewhere.
OUT = os.environ.get("AITGW_IG_OUT") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "package")
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
# Identifier systems the gateway assigns (NamingSystem resources of the guide).
NS_INTAKE = CANON + "/NamingSystem/ait-intake"
NS_CAREPLAN = CANON + "/NamingSystem/ait-careplan"

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


def code_match(codes):
    """The FHIRPath test of a Coding against (system, code) pairs, as rules.go states it."""
    one = ["system='%s' and code='%s'" % sc for sc in codes]
    return one[0] if len(one) == 1 else " or ".join("(%s)" % o for o in one)


def required_code(key, human, pool, element, codes, seed):
    """A "required code" rule: some target of the references in `pool` has one of `codes`
    ((system, code) pairs: equivalents the referential accepts alike) in its CodeableConcept
    `element`. The FHIRPath says it to any validator; the extension says it to ours, which
    checks at load that both agree and then resolves the pool once for all the rows of a
    table instead of once per row."""
    c = inv(key, human, "%s.resolve().where(%s.coding.where(%s).exists()).exists()" % (pool, element, code_match(codes)), seed)
    c["extension"].append({"url": REQUIRED_CODE_EXT, "extension": [
        {"url": "pool", "valueString": pool}, {"url": "element", "valueString": element}] +
        [{"url": "code", "valueCoding": coding(s, k)} for s, k in codes]})
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


def extension(eid, name, description, value_type, context, seed=None, cons=None, vs=None):
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
            dict({"id": "Extension.value[x]", "path": "Extension.value[x]", "min": 1, "type": [{"code": value_type}]},
                 **({"binding": {"strength": "required", "valueSet": vs_url(vs)}} if vs else {}))]}})




# ---------------------------------------------------------------- examples and output
examples = []


def example(r, prof):
    r["meta"] = {"profile": [sd_url(prof)]} if prof else r.get("meta")
    if r["meta"] is None:
        del r["meta"]
    examples.append(r)


def R(t, i):
    return {"reference": "%s/%s" % (t, i)}


IG_ID = PKG["name"]
IG_URL = CANON + "/ImplementationGuide/" + IG_ID


def implementation_guide():
    """The guide's ImplementationGuide resource: its identity (url, packageId, FR
    jurisdiction, R4, license) and every conformance resource and example it holds."""
    listed = []
    for r in sorted(resources, key=lambda r: (r["resourceType"], r["id"])):
        listed.append({"reference": {"reference": "%s/%s" % (r["resourceType"], r["id"])},
                       "name": r.get("title") or r.get("name") or r["id"], "exampleBoolean": False})
    for r in sorted(examples, key=lambda r: (r["resourceType"], r["id"])):
        e = {"reference": {"reference": "%s/%s" % (r["resourceType"], r["id"])}, "name": r["id"]}
        prof = (r.get("meta") or {}).get("profile")
        if prof:
            e["exampleCanonical"] = prof[0]
        else:
            e["exampleBoolean"] = True
        listed.append(e)
    return {"resourceType": "ImplementationGuide", "id": IG_ID, "url": IG_URL, "version": VERSION,
            "name": "AITGateway", "title": PKG["title"], "status": "active", "publisher": PKG["author"],
            "description": PKG["description"],
            "jurisdiction": [{"coding": [{"system": "urn:iso:std:iso:3166", "code": "FR"}]}],
            "packageId": PKG["name"], "license": PKG["license"], "fhirVersion": PKG["fhirVersions"],
            "dependsOn": [{"id": "r4core", "uri": "http://hl7.org/fhir", "packageId": "hl7.fhir.r4.core", "version": "4.0.1"}],
            "definition": {"resource": listed}}


def write():
    """Writes the package: package.json, the conformance resources, the
    ImplementationGuide, example/."""
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    json.dump(dict(PKG), open(os.path.join(OUT, "package.json"), "w"), indent=2, ensure_ascii=False)
    for r in resources + [implementation_guide()]:
        json.dump(r, open(os.path.join(OUT, "%s-%s.json" % (r["resourceType"], r["id"])), "w"), indent=1, ensure_ascii=False)
    os.makedirs(os.path.join(OUT, "example"))
    for r in examples:
        json.dump(r, open(os.path.join(OUT, "example", "%s-%s.json" % (r["resourceType"], r["id"])), "w"), indent=1, ensure_ascii=False)
    print(len(resources), "resources,", len(examples), "examples")
