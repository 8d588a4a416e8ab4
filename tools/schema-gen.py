#!/usr/bin/env python3
"""schema-gen.py: the format's table from libvirt's RelaxNG schemas.

Usage: schema-gen.py --overlay desired-state/schema-overlay
                     --output desired-state/schema-gen.c [--check]
                     [--schema /usr/share/libvirt/schemas/domain.rng]

Reads domain.rng with its includes, and storagevol.rng and storagepool.rng
beside it, and writes one C table of struct ds_field
(desired-state/schema.h) per element path, under three roots
(ds_schema_domain, ds_schema_volume, ds_schema_pool): every element
and attribute, where it may appear, whether it repeats, its enum values and
its data type. Where branches of a <choice> give an element different
content, the table holds their union, and the schema check of the rendered
XML decides. The hand-written overlay adds only what the schema does not
say (units, list identity, comparison rules, aliases); an overlay line that
matches no path stops the generator, so that a libvirt upgrade that moves
an element is seen.

Naming: a child element's key is its element name, repeated or not (a
repeated one takes a list); an attribute's key is its name; an element's
text beside attributes or children is `value`; where an attribute and a
child element share a name, the attribute keeps it and the element takes
`<name>_element`. An element of another namespace than its parent's
(qemu:commandline) is under a map keyed by the namespace's prefix, by its
local name (qemu.commandline); the table's XML paths name it
"prefix:name", and the prefixes' URIs are written out (ds_schema_ns).

The agent's own keys (`agent PATH KEY KIND ...` lines of the overlay) are
rows of no element (xml NULL) in the mapping at PATH, a root's or an
element's or another agent map's: scalars, maps of further agent keys
(PATH/KEY), and maps of another root's fields (table=volume: a disk's
volume).

Only the Python standard library is used, and only when regenerating: the
generated file is committed.
"""
import argparse
import difflib
import hashlib
import re
import json
import os
import sys
import xml.etree.ElementTree as ET
from collections import OrderedDict, defaultdict

RNG = "{http://relaxng.org/ns/structure/1.0}"
INF = float("inf")
NS_PREFIX = {
    "http://libvirt.org/schemas/domain/qemu/1.0": "qemu",
    "http://libvirt.org/schemas/domain/lxc/1.0": "lxc",
    "http://libvirt.org/schemas/domain/bhyve/1.0": "bhyve",
    "http://libvirt.org/schemas/domain/xen/1.0": "xen",
    "http://libvirt.org/schemas/domain/vmware/1.0": "vmware",
    "http://libvirt.org/schemas/storagepool/fs/1.0": "fs",
    "http://libvirt.org/schemas/storagepool/rbd/1.0": "rbd",
}
XSD_INT = {
    "integer": (None, None),
    "long": (-2**63, 2**63 - 1),
    "int": (-2**31, 2**31 - 1),
    "short": (-2**15, 2**15 - 1),
    "byte": (-128, 127),
    "nonNegativeInteger": (0, None),
    "positiveInteger": (1, None),
    "nonPositiveInteger": (None, 0),
    "negativeInteger": (None, -1),
    "unsignedLong": (0, 2**64 - 1),
    "unsignedInt": (0, 2**32 - 1),
    "unsignedShort": (0, 2**16 - 1),
    "unsignedByte": (0, 255),
}
XSD_NUM = {"double", "float", "decimal"}


def tag(n):
    return n.tag[len(RNG):] if n.tag.startswith(RNG) else n.tag


# ---------------------------------------------------------------- loading

class Grammar:
    def __init__(self, start_file):
        self.defines = defaultdict(list)  # name -> [(combine, node, file)]
        self.starts = []
        self.loaded = []
        self.ns_of = {}        # id(element pattern) -> namespace URI
        self.def_of = {}       # id(element pattern) -> enclosing define
        self.keep = []         # keep trees alive (ids stay valid)
        self._load(os.path.abspath(start_file))
        self.combined = {}

    def _load(self, path):
        if path in self.loaded:
            return
        self.loaded.append(path)
        root = ET.parse(path).getroot()
        self.keep.append(root)
        self._annotate(root, root.get("ns", ""), None)
        for child in root:
            t = tag(child)
            if t == "include":
                self._load(os.path.join(os.path.dirname(path),
                                        child.get("href")))
                # <include> bodies (overriding defines) are not used by
                # libvirt's domain schema; handle them anyway as overrides.
                for sub in child:
                    if tag(sub) == "define":
                        self.defines[sub.get("name")] = [
                            (sub.get("combine"), sub, path)]
            elif t == "define":
                self.defines[child.get("name")].append(
                    (child.get("combine"), child, path))
            elif t == "start":
                self.starts.append(child)
            elif t == "div":
                raise SystemExit("<div> not supported")

    def _annotate(self, node, ns, define):
        ns = node.get("ns", ns)
        t = tag(node)
        if t == "define":
            define = node.get("name")
        if t == "element":
            self.ns_of[id(node)] = ns
            self.def_of[id(node)] = define
        for c in node:
            self._annotate(c, ns, define)

    def define(self, name):
        """The combined body of a define: ('choice'|'group', [nodes])."""
        if name not in self.combined:
            entries = self.defines.get(name)
            if not entries:
                raise SystemExit(f"undefined ref {name}")
            combines = {c for c, _, _ in entries if c}
            how = combines.pop() if combines else "choice"
            self.combined[name] = (how, [n for _, n, _ in entries])
        return self.combined[name]


# ------------------------------------------------------- content summaries

class Summary:
    """What a pattern can contain, up to element boundaries."""
    __slots__ = ("attrs", "elems", "text", "any_attr", "any_elem")

    def __init__(self):
        self.attrs = OrderedDict()  # name -> [min, max, [attribute nodes]]
        self.elems = OrderedDict()  # qname -> [min, max, [element nodes]]
        self.text = []              # text/data/value nodes in content
        self.any_attr = False
        self.any_elem = []          # anyName/nsName element nodes

    def copy(self):
        s = Summary()
        s.attrs = OrderedDict((k, list(v)) for k, v in self.attrs.items())
        s.elems = OrderedDict((k, list(v)) for k, v in self.elems.items())
        s.text = list(self.text)
        s.any_attr = self.any_attr
        s.any_elem = list(self.any_elem)
        return s


NOT_ALLOWED = None  # a summary that matches nothing


def s_empty():
    return Summary()


def s_seq(a, b):
    if a is NOT_ALLOWED or b is NOT_ALLOWED:
        return NOT_ALLOWED
    r = a.copy()
    for field in ("attrs", "elems"):
        mine = getattr(r, field)
        for k, (lo, hi, nodes) in getattr(b, field).items():
            if k in mine:
                mine[k] = [mine[k][0] + lo, mine[k][1] + hi,
                           mine[k][2] + nodes]
            else:
                mine[k] = [lo, hi, list(nodes)]
    r.text += b.text
    r.any_attr |= b.any_attr
    r.any_elem += b.any_elem
    return r


def s_alt(a, b):
    if a is NOT_ALLOWED:
        return b
    if b is NOT_ALLOWED:
        return a
    r = Summary()
    for field in ("attrs", "elems"):
        x, y, out = getattr(a, field), getattr(b, field), getattr(r, field)
        for k in list(x) + [k for k in y if k not in x]:
            if k in x and k in y:
                out[k] = [min(x[k][0], y[k][0]), max(x[k][1], y[k][1]),
                          x[k][2] + y[k][2]]
            else:
                v = x.get(k) or y.get(k)
                out[k] = [0, v[1], list(v[2])]
    r.text = a.text + b.text
    r.any_attr = a.any_attr or b.any_attr
    r.any_elem = a.any_elem + b.any_elem
    return r


def s_opt(a):
    if a is NOT_ALLOWED:
        return s_empty()
    r = a.copy()
    for field in ("attrs", "elems"):
        for v in getattr(r, field).values():
            v[0] = 0
    return r


def s_more(a, zero):
    if a is NOT_ALLOWED:
        return s_empty() if zero else NOT_ALLOWED
    r = a.copy()
    for field in ("attrs", "elems"):
        for v in getattr(r, field).values():
            if zero:
                v[0] = 0
            if v[1] > 0:
                v[1] = INF
    return r


def name_class(node):
    """(kind, name) of an element/attribute pattern: kind 'name' or 'any'."""
    if node.get("name") is not None:
        return "name", node.get("name").strip()
    first = node[0]
    t = tag(first)
    if t == "name":
        return "name", first.text.strip()
    if t in ("anyName", "nsName"):
        return "any", t
    raise SystemExit(f"unsupported name class <{t}>")


def content_children(node):
    kids = list(node)
    if node.get("name") is None and kids and tag(kids[0]) in (
            "name", "anyName", "nsName", "choice"):
        kids = kids[1:]
    return kids


class Walker:
    def __init__(self, g):
        self.g = g
        self.memo = {}

    def qname(self, el):
        kind, name = name_class(el)
        ns = self.g.ns_of.get(id(el), "")
        if ns:
            return f"{NS_PREFIX.get(ns, ns)}:{name}"
        return name

    def group(self, nodes):
        s = s_empty()
        for n in nodes:
            s = s_seq(s, self.summ(n))
        return s

    def elem_allowed(self, n):
        """False for an element whose content is notAllowed (RelaxNG
        simplification: such an element is itself notAllowed)."""
        return self.can_match(n)

    def can_match(self, n):
        key = "ok:%d" % id(n)
        if key in self.memo:
            return self.memo[key]
        self.memo[key] = True  # assumed while computing (recursion)
        t = tag(n)
        if t == "notAllowed":
            r = False
        elif t in ("element", "attribute"):
            r = all(self.can_match(c) for c in content_children(n))
        elif t in ("group", "interleave", "oneOrMore", "mixed", "list"):
            r = all(self.can_match(c) for c in n)
        elif t == "choice":
            r = any(self.can_match(c) for c in n)
        elif t == "ref":
            how, bodies = self.g.define(n.get("name"))
            oks = [all(self.can_match(c) for c in b) for b in bodies]
            r = any(oks) if how == "choice" else all(oks)
        else:
            r = True
        self.memo[key] = r
        return r

    def summ_define(self, name):
        key = "define:" + name
        if key not in self.memo:
            self.memo[key] = "busy"
            how, bodies = self.g.define(name)
            parts = [self.group(list(b)) for b in bodies]
            r = parts[0]
            for p in parts[1:]:
                r = s_alt(r, p) if how == "choice" else s_seq(r, p)
            self.memo[key] = r
        elif self.memo[key] == "busy":
            raise SystemExit(f"ref cycle without element through {name}")
        return self.memo[key]

    def summ(self, n):
        t = tag(n)
        if t in ("group", "interleave", "mixed"):
            s = self.group(list(n))
            if t == "mixed":
                s.text.append(((), ET.Element(RNG + "text")))
            return s
        if t == "choice":
            r = NOT_ALLOWED
            for c in n:
                r = s_alt(r, self.summ(c))
            return r
        if t == "optional":
            return s_opt(self.group(list(n)))
        if t == "zeroOrMore":
            return s_more(self.group(list(n)), True)
        if t == "oneOrMore":
            return s_more(self.group(list(n)), False)
        if t == "ref":
            r = self.summ_define(n.get("name"))
            if r is not NOT_ALLOWED and r.text:
                r = r.copy()
                r.text = [((n.get("name"),) + via, x) for via, x in r.text]
            return r
        if t == "parentRef" or t == "externalRef":
            raise SystemExit(f"<{t}> not supported")
        if t == "empty":
            return s_empty()
        if t == "notAllowed":
            return NOT_ALLOWED
        if t in ("text", "data", "value", "list"):
            s = s_empty()
            s.text.append(((), n))
            return s
        if t == "attribute":
            s = s_empty()
            kind, name = name_class(n)
            if kind == "any":
                s.any_attr = True
            else:
                s.attrs[name] = [1, 1, [n]]
            return s
        if t == "element":
            s = s_empty()
            if not self.elem_allowed(n):
                return NOT_ALLOWED
            kind, name = name_class(n)
            if kind == "any":
                s.any_elem.append(n)
            else:
                s.elems[self.qname(n)] = [1, 1, [n]]
            return s
        if t in ("a", "documentation") or not n.tag.startswith(RNG):
            return s_empty()  # annotations
        raise SystemExit(f"unsupported pattern <{t}>")

    # ------------------------------------------------------------ types

    def type_of(self, nodes):
        """Reduce value patterns to {'enum','data','text','via','empty'}."""
        acc = {"enum": [], "data": [], "text": False, "via": [],
               "empty": False}
        seen = set()

        def visit(n, depth):
            t = tag(n)
            if t == "value":
                v = (n.text or "")
                if v not in acc["enum"]:
                    acc["enum"].append(v)
            elif t == "data":
                d = {"type": n.get("type")}
                for p in n:
                    if tag(p) == "param":
                        d.setdefault(p.get("name"), [])
                        d[p.get("name")].append(p.text)
                    elif tag(p) == "except":
                        d["except"] = [x.text for x in p.iter(RNG + "value")]
                if d not in acc["data"]:
                    acc["data"].append(d)
            elif t == "text":
                acc["text"] = True
            elif t == "empty":
                acc["empty"] = True
            elif t == "ref":
                name = n.get("name")
                if depth == 0 and name not in acc["via"]:
                    acc["via"].append(name)
                if name in seen:
                    return
                seen.add(name)
                for b in self.g.define(name)[1]:
                    for c in b:
                        visit(c, depth + 1)
            elif t in ("choice", "group", "optional", "oneOrMore",
                       "zeroOrMore", "list", "interleave"):
                for c in n:
                    visit(c, depth)
            elif t == "notAllowed":
                pass
            elif t in ("attribute", "element"):
                pass  # structure, not a value
            elif t in ("a", "documentation", "name", "anyName", "nsName"):
                pass

        for n in nodes:
            visit(n, 0)
        return acc

    def attr_type(self, attr_nodes):
        content = []
        for a in attr_nodes:
            kids = content_children(a)
            if not kids:
                content.append(ET.Element(RNG + "text"))
            content += kids
        return describe(self.type_of(content))


def int_range(d):
    lo, hi = XSD_INT[d["type"]]
    if "minInclusive" in d:
        lo = int(d["minInclusive"][0])
    if "maxInclusive" in d:
        hi = int(d["maxInclusive"][0])
    return lo, hi


def describe(acc):
    """A compact type description for the table."""
    out = OrderedDict()
    enum, data = acc["enum"], acc["data"]
    ints = [d for d in data if d["type"] in XSD_INT]
    nums = [d for d in data if d["type"] in XSD_NUM]
    strs = [d for d in data if d["type"] not in XSD_INT
            and d["type"] not in XSD_NUM]
    if enum and not data and not acc["text"]:
        if set(enum) in ({"yes", "no"}, {"on", "off"}):
            out["kind"] = "bool"
        elif set(enum) <= {"yes", "no", "on", "off"} and len(enum) == 1:
            out["kind"] = "enum"
        else:
            out["kind"] = "enum"
        out["values"] = enum
    elif ints and not strs and not nums and not acc["text"]:
        out["kind"] = "int"
    elif ints:
        out["kind"] = "int|string"
    elif nums:
        out["kind"] = "number"
    elif strs:
        out["kind"] = "string"
    elif acc["text"]:
        out["kind"] = "text"
    elif acc["empty"]:
        out["kind"] = "empty"
    else:
        out["kind"] = "text"
    if enum and out["kind"] != "enum" and out["kind"] != "bool":
        out["values"] = enum  # extra literal values alongside data
    if ints:
        los = [int_range(d)[0] for d in ints]
        his = [int_range(d)[1] for d in ints]
        out["min"] = None if None in los else min(los)
        out["max"] = None if None in his else max(his)
        out["int_types"] = sorted({d["type"] for d in ints})
    pats = [p for d in data for p in d.get("pattern", [])]
    if pats:
        out["pattern"] = pats
    if strs:
        out["string_types"] = sorted({d["type"] for d in strs})
    if acc["text"] and out["kind"] not in ("text",):
        out["also_text"] = True
    if len(data) > 1 or (data and (pats or enum)):
        # Facets of one <data> hold together; alternatives are a choice.
        alts = []
        for d in data:
            a = OrderedDict([("type", d["type"])])
            if d["type"] in XSD_INT:
                a["min"], a["max"] = int_range(d)
            if "pattern" in d:
                a["pattern"] = d["pattern"]
            if "except" in d:
                a["except"] = d["except"]
            alts.append(a)
        out["data"] = alts
    if acc["via"]:
        out["via"] = acc["via"]
    return out


# ------------------------------------------------------------ the tree

class Builder:
    def __init__(self, walker):
        self.w = walker
        self.flat = OrderedDict()   # path -> entry (without children)
        self.recursions = []
        self.raw = []

    def content(self, elem_nodes):
        r = NOT_ALLOWED
        for e in elem_nodes:
            r = s_alt(r, self.w.group(content_children(e)))
        return r

    def build(self, qname, elem_nodes, path, ancestors):
        key = frozenset(id(n) for n in elem_nodes)
        for k, p in ancestors:
            if k == key:
                self.recursions.append((path, p))
                return OrderedDict([("recursion", p)])
        # Dedupe identical nodes reached by several branches.
        uniq, ids = [], set()
        for n in elem_nodes:
            if id(n) not in ids:
                ids.add(id(n))
                uniq.append(n)
        s = self.content(uniq)
        if s is NOT_ALLOWED:
            s = s_empty()
        e = OrderedDict()
        e["path"] = path
        defs = sorted({self.w.g.def_of.get(id(n)) or "(inline)"
                       for n in uniq})
        e["defines"] = defs
        e["patterns"] = len(uniq)
        attrs = OrderedDict()
        for name, (lo, hi, nodes) in s.attrs.items():
            a = OrderedDict()
            a["required"] = lo >= 1
            a["type"] = self.w.attr_type(nodes)
            attrs[name] = a
        e["attributes"] = attrs
        if s.any_attr:
            e["any_attribute"] = True
        if s.text:
            acc = self.w.type_of([x for _, x in s.text])
            acc["via"] = []
            for via, _ in s.text:
                if via and via[0] not in acc["via"]:
                    acc["via"].append(via[0])
            e["text"] = describe(acc)
        if s.any_elem:
            e["raw_xml"] = True
            self.raw.append(path)
        # scaledInteger: a 'unit' attribute typed by the 'unit' define
        u = attrs.get("unit")
        if u and "unit" in u["type"].get("via", []):
            scaled = []
            if "text" in e and e["text"]["kind"].startswith("int"):
                scaled.append("")
            else:
                ints = [an for an, a in attrs.items() if an != "unit"
                        and a["type"]["kind"].startswith("int")]
                pick = [an for an in ints
                        if an in ("value", "memory", "size") or "memoryKB"
                        in attrs[an]["type"].get("via", [])]
                scaled += ["@" + an for an in (pick or ints)]
            e["scaled"] = OrderedDict([("unit_attr", "unit"),
                                       ("value", scaled)])
        self.flat[path] = e
        kids = OrderedDict()
        for name, (lo, hi, nodes) in s.elems.items():
            repeat = "list" if hi > 1 else ("once" if lo >= 1 else "optional")
            child = self.build(name, nodes, path + "/" + name,
                               ancestors + [(key, path)])
            c = OrderedDict([("repeat", repeat)])
            if lo >= 1 and hi > 1:
                c["min"] = lo
            if hi not in (INF,) and hi > 1:
                c["max"] = int(hi)
            c.update(child)
            kids[name] = c
        e_tree = OrderedDict(e)
        e_tree["children"] = kids
        return e_tree




# ------------------------------------------------------------ overlays

# settings an agent line gives as a bare word (other bare words are an
# enum's values, or the keys of an escape map)
AGENT_FLAGS = {"required", "optional", "filled", "generated", "open",
               "ordered", "whole", "empty_ok"}


class Overlay:
    """desired-state/schema-overlay: PATH SETTING... lines; '*' in a path
    matches one step, '**' any number. A path names an element
    (/domain/devices/disk), an attribute (…/target@dev) or an element's
    text (…/maxMemory#value).

    `agent PATH KEY KIND [VALUE|SETTING...]` lines add the agent's own
    keys, which render nothing (xml NULL), to the mapping at PATH: an
    element path of a root (/domain, /domain/devices/disk, /volume), or
    an agent map's (/domain/cloudInit). `agent KEY KIND [VALUE...]`, the
    older form, is PATH /domain."""

    def __init__(self, path):
        self.rules = []   # (regex, pattern text, {setting: value}, line)
        self.used = set()
        self.agent = []   # {path, key, kind, values, settings, line}
        self.agent_used = set()
        with open(path) as f:
            for no, line in enumerate(f, 1):
                line = line.split("#", 1)[0] if line.lstrip().startswith(
                    "#") else line
                words = line.split()
                if not words:
                    continue
                pat, settings = words[0], words[1:]
                if pat == "agent":
                    self.agent.append(self.agent_line(settings, no))
                    continue
                d = OrderedDict()
                for s in settings:
                    k, _, v = s.partition("=")
                    d[k] = v if _ else True
                rx = "^" + "".join(
                    "[^/@#]*" if p == "*" else ".*" if p == "**" else
                    re.escape(p) for p in re.split(r"(\*\*|\*)", pat)) + "$"
                self.rules.append((re.compile(rx), pat, d, no))

    @staticmethod
    def agent_line(words, no):
        path = "/domain"
        if words and words[0].startswith("/"):
            path, words = words[0].rstrip("/"), words[1:]
        if len(words) < 2:
            sys.exit(f"overlay line {no}: agent PATH KEY KIND [SETTING...]")
        key, kind = words[0], words[1]
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", key):
            sys.exit(f"overlay line {no}: agent key {key!r} is not a word")
        values, settings = [], OrderedDict()
        for w in words[2:]:
            k, eq, v = w.partition("=")
            if eq:
                settings[k] = v
            elif w in AGENT_FLAGS:
                settings[w] = True
            elif kind in ("enum", "escape"):
                values.append(w)
            else:
                sys.exit(f"overlay line {no}: {w}: not a setting of "
                         f"agent key {key}")
        return {"path": path, "key": key, "kind": kind, "values": values,
                "settings": settings, "line": no}

    def get(self, path):
        out = OrderedDict()
        for rx, pat, d, no in self.rules:
            if rx.match(path):
                self.used.add(no)
                out.update(d)
        return out

    def unused(self):
        return sorted([(no, pat) for rx, pat, d, no in self.rules
                       if no not in self.used] +
                      [(a["line"], f"agent {a['path']} {a['key']}")
                       for a in self.agent
                       if a["line"] not in self.agent_used])


# ------------------------------------------------------------ C table

INT64_MAX = 2**63 - 1
CHECKS = {"UUID": "DS_CHECK_UUID", "uniMacAddr": "DS_CHECK_MAC",
          "cpuset": "DS_CHECK_CPUSET", "absFilePath": "DS_CHECK_PATH"}
KINDS = {"str": "DS_STR", "uint": "DS_UINT", "int": "DS_INT",
         "bool": "DS_BOOL", "enum": "DS_ENUM", "size": "DS_SIZE",
         "presence": "DS_PRESENCE"}


def cstr(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def cname(path):
    return re.sub(r"[^A-Za-z0-9]", "_", path.strip("/"))


def prefix_of(name):
    """The namespace prefix of a qualified element name (qemu of
    qemu:commandline), or None."""
    return name.split(":", 1)[0] if ":" in name else None


def local(name):
    """An element's name without its namespace prefix: its key."""
    return name.split(":", 1)[-1]


class Row(OrderedDict):
    def c(self):
        parts = []
        for k, v in self.items():
            if v is True:
                v = "true"
            parts.append(f".{k} = {v}")
        return "{" + ", ".join(parts) + "}"


class Emitter:
    def __init__(self, overlay):
        self.ov = overlay
        self.decls = []      # forward declarations
        self.out = []
        self.values = OrderedDict()
        self.arrays = {}     # element path -> C name (for recursion)
        self.sizes = {}
        self.index = {}
        self.renamed = []
        self.skipped = []
        self.paths = 0
        self.prefixes = []   # the namespaces of elements in the table
        self.tables = []     # (overlay line, root) of table= maps

    def enum(self, vals, prefix="v"):
        key = tuple(vals)
        if key not in self.values:
            n = sum(1 for v in self.values.values() if v[0] == prefix)
            self.values[key] = f"{prefix}{n}"
        return self.values[key]

    # A scalar row from a schema type, then the overlay's settings.
    def scalar(self, ty, key, xml, path, required, text=False):
        r = Row()
        r["key"] = cstr(key)
        k = ty["kind"]
        via = ty.get("via", [])
        if k == "bool":
            vals = ty["values"]
            pair = ["yes", "no"] if "yes" in vals else ["on", "off"]
            r["kind"] = "DS_BOOL"
            r["xml"] = cstr(xml)
            r["values"] = self.enum(pair)
        elif k == "enum":
            r["kind"] = "DS_ENUM"
            r["xml"] = cstr(xml)
            r["values"] = self.enum(ty["values"])
        elif k == "int":
            lo, hi = ty.get("min"), ty.get("max")
            signed = lo is None or lo < 0
            r["kind"] = "DS_INT" if signed else "DS_UINT"
            r["xml"] = cstr(xml)
            r["min"] = "INT64_MIN" if lo is None or lo < -INT64_MAX else str(lo)
            r["max"] = "INT64_MAX" if hi is None or hi > INT64_MAX else str(hi)
        else:
            r["kind"] = "DS_STR"
            r["xml"] = cstr(xml)
            chk = next((CHECKS[v] for v in via if v in CHECKS), None)
            r["check"] = chk or ("DS_CHECK_NONE" if text else
                                 "DS_CHECK_LINE")
        if required:
            r["required"] = True
        return self.apply(r, path)

    LIST_KEYS = {"key", "alias", "identity", "ordered", "open", "required",
                 "optional", "filled", "generated"}

    def apply(self, r, path, only=None, without=()):
        return self.settle(r, self.ov.get(path), path, only, without)

    def settle(self, r, ov, path, only=None, without=()):
        """Row r with the settings ov (an overlay line's) applied."""
        for k, v in ov.items():
            if k in ("flatten", "skip", "size") or k in without or \
                    (only is not None and k not in only):
                continue
            if k == "kind":
                r["kind"] = KINDS[v]
                for drop in ("values", "check", "min", "max"):
                    r.pop(drop, None)
                if v == "str":
                    r["check"] = "DS_CHECK_LINE"
                elif v == "uint":
                    r["min"], r["max"] = "0", "INT64_MAX"
                elif v == "int":
                    r["min"], r["max"] = "INT64_MIN", "INT64_MAX"
            elif k == "key":
                self.renamed.append(f"{path}: {v}")
                r["key"] = cstr(v)
            elif k == "check":
                r["check"] = "DS_CHECK_" + v.upper()
            elif k in ("min", "max"):
                r[k] = v
            elif k == "values":
                r["values"] = self.enum(v.split(","))
            elif k == "canon":
                # numbered apart, so that the values' arrays keep theirs
                r["canon"] = self.enum(v.split(","), "c")
            elif k in ("none", "shorthand", "identity", "alias",
                       "unit_default"):
                r[k] = cstr(v)
            elif k == "optional":
                r.pop("required", None)
            elif k in ("required", "filled", "generated", "open",
                       "ordered", "whole", "empty_ok"):
                r[k] = True
            else:
                sys.exit(f"overlay: unknown setting {k} at {path}")
        if "generated" in r:
            r["filled"] = True
        return r

    def kids_of(self, e, path):
        """The rows of an element's mapping: its text as 'value', its
        attributes, then its child elements, in the schema's order."""
        self.paths += 1
        rows = []
        attrs = e["attributes"]
        scaled = e.get("scaled", {}).get("value", [])
        size_ok = self.ov.get(path).get("size") is not None
        unit_hidden = bool(scaled) and size_ok
        if "text" in e and (attrs or e["children"]):
            if "" in scaled and size_ok:
                r = self.scalar(e["text"], "value", "", path + "#value",
                                True, text=True)
                r["kind"] = "DS_SIZE"
                for drop in ("min", "max", "check"):
                    r.pop(drop, None)
            else:
                r = self.scalar(e["text"], "value", "", path + "#value",
                                False, text=True)
            rows.append(r)
        for a, v in attrs.items():
            if a == "unit" and unit_hidden:
                continue
            apath = f"{path}@{a}"
            if self.ov.get(apath).get("skip"):
                self.skipped.append(apath)
                continue
            r = self.scalar(v["type"], a, "@" + a, apath, v["required"])
            if "@" + a in scaled and size_ok:
                r["kind"] = "DS_SIZE"
                for drop in ("min", "max", "check"):
                    r.pop(drop, None)
            rows.append(r)
        groups = OrderedDict()  # prefix -> [(name, entry, path)]
        own = prefix_of(path.rsplit("/", 1)[-1])
        for c, ce in e["children"].items():
            cpath = f"{path}/{c}"
            ov = self.ov.get(cpath)
            if ov.get("skip"):
                self.skipped.append(cpath)
                continue
            if prefix_of(c) and prefix_of(c) != own:
                # an element of another namespace (qemu:commandline):
                # under its prefix, where its first is
                if prefix_of(c) not in groups:
                    groups[prefix_of(c)] = []
                    rows.append(prefix_of(c))
                groups[prefix_of(c)].append((c, ce, cpath))
                continue
            if ov.get("flatten"):
                rows += self.flatten(ce, c, cpath)
                continue
            r = self.child(ce, c, cpath)
            if r is not None:
                rows.append(r)
        rows = [self.group(path, x, groups[x]) if isinstance(x, str) else x
                for x in rows]
        root = path.count("/") == 1
        if root:
            # a file starts with what names the domain (the pool)
            first = [r for r in rows if r["key"] in ('"name"', '"uuid"')]
            rows = first + [r for r in rows if r not in first]
        keys = set()
        for r in rows:
            key = r["key"]
            if key in keys:
                # an attribute and a child element of one name: the
                # attribute keeps it, the element takes <name>_element
                el = next(x for x in rows[::-1] if x["key"] == key)
                el["key"] = cstr(key.strip('"') + "_element")
                self.renamed.append(f"{path}: {el['key']}")
                if el["key"] in keys:
                    sys.exit(f"{path}: two keys {el['key']}")
                keys.add(el["key"])
            keys.add(key)
        # the agent's keys: settings after what names the root, maps
        # (and settings below the root) at the end
        agent = self.agent_rows(path)
        for r in agent:
            if r["key"] in keys:
                sys.exit(f"overlay: agent key {r['key']} at {path}: the "
                         "schema has that key there")
            keys.add(r["key"])
        at = next((i + 1 for i, r in enumerate(rows)
                   if r["key"] == '"uuid"'), len(rows)) if root else len(rows)
        rows[at:at] = [r for r in agent if r["kind"] != "DS_MAP"]
        rows += [r for r in agent if r["kind"] == "DS_MAP"]
        return rows

    def flatten(self, ce, c, cpath):
        """A child element's text and attributes as fields of its parent
        (os.type, os.arch, os.machine for <os><type arch= machine=>)."""
        rows = []
        if "text" in ce:
            rows.append(self.scalar(ce["text"], local(c), c, cpath, True,
                                    text=True))
        for a, v in ce["attributes"].items():
            rows.append(self.scalar(v["type"], a, f"{c}@{a}",
                                    f"{cpath}@{a}", False))
        if ce["children"]:
            sys.exit(f"{cpath}: cannot flatten an element with children")
        return rows

    def group(self, path, prefix, members):
        """The map of the elements of namespace prefix under path: the
        key is the prefix, each element's key its local name, and the
        elements go into the parent's element (xml "")."""
        gpath = f"{path}/{prefix}:"
        rows = [r for r in (self.child(ce, c, cpath)
                            for c, ce, cpath in members) if r is not None]
        if prefix not in self.prefixes:
            self.prefixes.append(prefix)
        kids = self.emit_array("f_" + cname(gpath), gpath, rows)
        return self.with_index(Row(key=cstr(prefix), kind="DS_MAP",
                                   xml='""', kids=kids), kids)

    def array(self, e, path):
        if path in self.arrays:
            return self.arrays[path]
        name = "f_" + cname(path)
        self.arrays[path] = name
        rows = self.kids_of(e, path)
        return self.emit_array(name, path, rows)

    def emit_array(self, name, path, rows):
        self.sizes[name] = len(rows) + 1
        body = [f"/* {path} */",
                f"static const struct ds_field {name}[] = {{"]
        body += [f"\t{r.c()}," for r in rows]
        body += ["\t{0},", "};", ""]
        self.out.append("\n".join(body))
        # the fields held by child elements, by element name: the reader
        # finds an element's field with bsearch
        byname = sorted(
            (i for i, r in enumerate(rows)
             if r["xml"] not in ("NULL", '""') and
             not r["xml"].startswith('"@')),
            key=lambda i: (rows[i]["xml"].strip('"').split("@")[0], i))
        self.index[name] = ("x_" + name[2:], len(byname))
        self.out.append(
            f"static const uint16_t x_{name[2:]}[] = {{" +
            ", ".join(str(i) for i in byname or [0]) + "};\n")
        return name

    def with_index(self, r, kids):
        """A map row with its kids' index."""
        ix, n = self.index.get(kids, ("x_" + kids[2:], None))
        r["by_xml"] = ix
        r["n_by_xml"] = str(n) if n is not None else f"N_{kids}"
        return r

    def shorthand(self, e, path):
        ov = self.ov.get(path)
        if "shorthand" in ov:
            return ov["shorthand"]
        if "text" in e:
            return "value"
        req = [a for a, v in e["attributes"].items() if v["required"]]
        if len(req) == 1 and len(e["attributes"]) >= 1:
            return req[0]
        return None

    def child(self, ce, c, cpath):
        rep = ce["repeat"]
        req = rep == "once" or ce.get("min", 0) >= 1
        if "recursion" in ce:
            name = "f_" + cname(ce["recursion"])
            self.decls.append(ce["recursion"])
            r = self.with_index(
                Row(key=cstr(local(c)), kind="DS_MAP", xml=cstr(c),
                    kids=name),
                name)
        elif ce.get("raw_xml") and \
                self.ov.get(cpath).get("kind") == "xml_ns":
            # elements of any namespace, one a namespace (<metadata>):
            # their XML text by namespace URI
            r = Row(key=cstr(local(c)), kind="DS_XML_NS", xml=cstr(c))
            return self.apply(r, cpath, without={"kind"})
        elif ce.get("raw_xml"):
            self.skipped.append(cpath)
            r = None
        else:
            simple = not ce["attributes"] and not ce["children"]
            ov = self.ov.get(cpath)
            if simple and "text" in ce:
                # repeated, it is wrapped in items {value: …} below
                r = self.scalar(ce["text"], local(c), c, cpath, req,
                                text=True)
            elif simple and "text" not in ce and rep != "list":
                r = Row(key=cstr(local(c)), kind="DS_PRESENCE", xml=cstr(c))
            elif "text" in ce and not ce["children"] and \
                    set(ce["attributes"]) == {"unit"} and \
                    ov.get("size") is not None and rep != "list":
                r = Row(key=cstr(local(c)), kind="DS_SIZE", xml=cstr(c))
                if req:
                    r["required"] = True
            else:
                kids = self.array(ce, cpath)
                item = Row(key='""' if rep == "list" else cstr(local(c)),
                           kind="DS_MAP",
                           xml='""' if rep == "list" else cstr(c))
                sh = self.shorthand(ce, cpath)
                if sh:
                    item["shorthand"] = cstr(sh)
                item["kids"] = kids
                self.with_index(item, kids)
                if req and rep != "list":
                    item["required"] = True
                if rep == "list":
                    item = self.apply(item, cpath, without=self.LIST_KEYS)
                    iname = "i_" + cname(cpath)
                    self.out.append(
                        f"static const struct ds_field {iname}[] = "
                        f"{{{item.c()}}};\n")
                    r = Row(key=cstr(local(c)), kind="DS_LIST", xml=cstr(c),
                            kids=iname)
                    return self.apply(r, cpath, only=self.LIST_KEYS)
                r = item
            if r is not None and rep == "list":
                # a repeated element with text only: items {value: …}
                iname = "i_" + cname(cpath)
                vrow = r if "text" in ce else None
                arr = "f_" + cname(cpath)
                body = [f"/* {cpath} */",
                        f"static const struct ds_field {arr}[] = {{"]
                if vrow is not None:
                    vrow["key"] = '"value"'
                    vrow["xml"] = '""'
                    body.append(f"\t{vrow.c()},")
                body += ["\t{0},", "};", ""]
                self.out.append("\n".join(body))
                item = Row(key='""', kind="DS_MAP", xml='""')
                if vrow is not None:
                    item["shorthand"] = '"value"'
                item["kids"] = arr
                self.index[arr] = ("x_" + arr[2:], 0)
                self.out.append(f"static const uint16_t x_{arr[2:]}[] = "
                                "{0};\n")
                self.with_index(item, arr)
                self.out.append(f"static const struct ds_field {iname}[] = "
                                f"{{{item.c()}}};\n")
                r = Row(key=cstr(local(c)), kind="DS_LIST", xml=cstr(c),
                        kids=iname)
                return self.apply(r, cpath, only=self.LIST_KEYS)
        if r is None:
            return None
        return self.apply(r, cpath)

    def agent_rows(self, path):
        """The rows of the agent's keys in the mapping at path."""
        rows = []
        for a in self.ov.agent:
            if a["path"] == path:
                self.ov.agent_used.add(a["line"])
                rows.append(self.agent_row(a))
        return rows

    def agent_row(self, a):
        key, kind, vals = a["key"], a["kind"], a["values"]
        st = OrderedDict(a["settings"])
        where = f"{a['path']}/{key}"
        table = st.pop("table", None)
        if table is not None and kind != "map":
            sys.exit(f"overlay line {a['line']}: table= is a map's")
        if kind == "enum":
            if not vals:
                sys.exit(f"overlay line {a['line']}: enum {key}: no values")
            r = Row(key=cstr(key), kind="DS_ENUM", xml="NULL",
                    values=self.enum(vals))
        elif kind == "escape":
            # raw XML by where it goes (xml: {domain: …, devices: …})
            self.out.append(
                "static const struct ds_field f_escape[] = {\n" +
                "".join(f"\t{{.key = {cstr(v)}, .kind = DS_XML, "
                        ".xml = \"\"},\n" for v in vals) +
                "\t{0},\n};\n")
            r = Row(key=cstr(key), kind="DS_MAP", xml="NULL",
                    kids="f_escape", by_xml="x_escape", n_by_xml="0")
            self.out.append("static const uint16_t x_escape[] = {0};\n")
        elif kind == "map" and table is not None:
            # the fields of another root (a disk's volume): its array
            if any(b["path"] == where for b in self.ov.agent):
                sys.exit(f"overlay line {a['line']}: {where} takes "
                         f"{table}'s keys; it has no agent keys of its own")
            kids = "f_" + cname("/" + table)
            self.decls.append("/" + table)
            self.tables.append((a["line"], table))
            r = self.with_index(Row(key=cstr(key), kind="DS_MAP",
                                    xml="NULL", kids=kids), kids)
        elif kind == "map":
            # the agent's keys below: their own mapping, of no element
            kids = "f_" + cname(where)
            if kids in self.sizes:
                sys.exit(f"overlay line {a['line']}: {where}: its C name "
                         f"{kids} is taken")
            rows = self.agent_rows(where)
            if not rows:
                sys.exit(f"overlay line {a['line']}: agent map {where} "
                         "has no keys")
            self.emit_array(kids, where, rows)
            r = self.with_index(Row(key=cstr(key), kind="DS_MAP",
                                    xml="NULL", kids=kids), kids)
        elif kind in KINDS:
            r = Row(key=cstr(key), kind="DS_STR", xml="NULL")
            # as kind=K on a schema field: str is one line, numbers are
            # unbounded but by min= max=
            r = self.settle(r, OrderedDict(kind=kind), where)
        else:
            sys.exit(f"overlay line {a['line']}: agent key {key}: unknown "
                     f"kind {kind}")
        return self.settle(r, st, where)


# The roots of the table: (name, schema file beside domain.rng, what the
# table's root field's xml names). A root's fields are ds_schema_<name>.
ROOTS = [("domain", None, ""), ("volume", "storagevol.rng", "volume"),
         ("pool", "storagepool.rng", "pool")]


def generate(schema, overlay_path):
    ov = Overlay(overlay_path)
    em = Emitter(ov)
    loaded, flat, roots = [], OrderedDict(), []
    for name, fname, xml in ROOTS:
        path = schema if fname is None else \
            os.path.join(os.path.dirname(schema), fname)
        g = Grammar(path)
        w = Walker(g)
        if len(g.starts) != 1:
            sys.exit(f"{path}: {len(g.starts)} <start> patterns")
        start = w.group(list(g.starts[0]))
        if start is NOT_ALLOWED or list(start.elems) != [name]:
            sys.exit(f"{path}: start is not one <{name}>: "
                     f"{list(start.elems) if start else None}")
        b = Builder(w)
        tree = b.build(name, start.elems[name][2], "/" + name, [])
        flat[name] = len(b.flat)
        roots.append((name, xml, em.array(tree, "/" + name)))
        loaded += [p for p in g.loaded if p not in loaded]
    for no, table in em.tables:
        if table not in flat:
            sys.exit(f"overlay line {no}: table={table}: no such root "
                     f"({', '.join(flat)})")
    unused = ov.unused()
    if unused:
        sys.exit("overlay lines that match no path in the schema: " +
                 ", ".join(f"line {no} ({pat})" for no, pat in unused))
    hashes = []
    for p in loaded:
        with open(p, "rb") as f:
            hashes.append((os.path.basename(p),
                           hashlib.sha256(f.read()).hexdigest()))
    lines = [
        "/* The format's table, generated by tools/schema-gen.py from",
        " * libvirt's domain, storage volume and storage pool schemas and",
        " * desired-state/schema-overlay.",
        " * Do not edit: run `ninja -C BUILD regen-schema`.",
        " *",
        " * element paths: " + ", ".join(f"{n} of the {r}"
                                         for r, n in flat.items()) + ";",
        " * schema files (sha256):"]
    lines += [f" *   {h}  {n}" for n, h in hashes]
    lines += [" */", "/* one row a line, as generated: */", "/* clang-format off */",
              '#include "schema.h"', "", "#include <stdint.h>", ""]
    for vals, name in em.values.items():
        lines.append(f"static const char *const {name}[] = {{" +
                     ", ".join(cstr(v) for v in vals) + ", NULL};")
    lines.append("")
    for p in sorted(set(em.decls)):
        n = "f_" + cname(p)
        lines.append(f"static const struct ds_field {n}[{em.sizes[n]}];")
        ix, cnt = em.index[n]
        lines.append(f"static const uint16_t {ix}[{max(cnt, 1)}];")
    lines.append("")
    lines.append("")
    lines += em.out
    uris = {prefix: uri for uri, prefix in NS_PREFIX.items()}
    for p in em.prefixes:
        if p not in uris:
            sys.exit(f"elements of namespace {p}: no prefix known for it")
    lines.append("const struct ds_ns ds_schema_ns[] = {" +
                 "".join(f"{{{cstr(p)}, {cstr(uris[p])}}}, "
                         for p in em.prefixes) + "{0}};")
    for name, xml, kids in roots:
        ix, cnt = em.index[kids]
        lines.append(f"const struct ds_field ds_schema_{name} = "
                     f"{{.key = \"\", .kind = DS_MAP, .xml = {cstr(xml)}, "
                     f".kids = {kids}, .by_xml = {ix}, .n_by_xml = {cnt}}};")
    text = "\n".join(lines) + "\n"
    # the index sizes of maps that refer to an ancestor (backingStore) or
    # to another root (a disk's volume)
    text = re.sub(r"\bN_(f_\w+)", lambda m: str(em.index[m.group(1)][1]),
                  text)
    return text, em, flat


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--schema",
                    default="/usr/share/libvirt/schemas/domain.rng")
    ap.add_argument("--overlay", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--check", action="store_true",
                    help="compare with --output instead of writing it; "
                    "exit 1 when they differ, 77 without a schema")
    args = ap.parse_args()
    for fname in [None] + [f for _, f, _ in ROOTS if f]:
        path = args.schema if fname is None else \
            os.path.join(os.path.dirname(args.schema), fname)
        if not os.path.exists(path):
            print(f"{path}: not found", file=sys.stderr)
            sys.exit(77 if args.check else 1)
    text, em, flat = generate(args.schema, args.overlay)
    if args.check:
        try:
            with open(args.output) as f:
                old = f.read()
        except OSError:
            old = ""
        if old != text:
            diff = list(difflib.unified_diff(
                old.splitlines(), text.splitlines(), "committed",
                "from the installed schema", lineterm="", n=0))
            print("\n".join(diff[:40]))
            print(f"{args.output} differs from what {args.schema} gives "
                  f"({len(diff)} diff lines): run `ninja -C BUILD "
                  "regen-schema` and review the change", file=sys.stderr)
            sys.exit(1)
        print(f"{args.output}: current")
        return
    tmp = args.output + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, args.output)
    print("element paths: " + ", ".join(f"{n} of the {r}"
                                        for r, n in flat.items()) +
          f"; {em.paths} mappings; "
          f"renamed: {', '.join(em.renamed) or 'none'}; "
          f"left out: {len(em.skipped)}", file=sys.stderr)


if __name__ == "__main__":
    main()
