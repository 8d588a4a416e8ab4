#!/usr/bin/env python3
"""The generative test's generator: valid desired-state files made from the
format's own table (schema-dump prints desired-state/schema.c as JSON), so
that it follows the table as it grows. What it knows by heart is only the
rules between fields (desired-state/validate.c), the value forms (units,
CPU sets, booleans, shorthands, YAML spellings) and what the QEMU driver of
this host refuses on its own (HOST_REFUSES). Seeded and reproducible: file i
of seed S is the same whatever --count.

It also makes one-field edits with what libvirt's XML must show afterwards,
and shrinks a failing file to a minimal one (shrink()).

  gen.py --schema-dump PROG [--seed S] [--count N] --out DIR
         [--running-fraction F] [--edit] [--capabilities FILE]

Python 3 standard library only.
"""

import argparse
import copy
import json
import os
import random
import re
import subprocess
import sys

# --------------------------------------------------------------- the table


def load_schema(source):
    """The format's table: from a JSON file, or by running schema-dump."""
    if source.endswith(".json"):
        with open(source) as f:
            return json.load(f)
    return json.loads(subprocess.run([source], check=True, capture_output=True,
                                     text=True).stdout)


def kid(field, key):
    for k in field.get("kids") or []:
        if k["key"] == key:
            return k
    return None


def field_at(schema, path):
    """The field of a path of keys and list indexes, or None."""
    f = schema
    for p in path:
        if isinstance(p, int):
            if f["kind"] not in ("list", "flags", "xml"):
                return None
            if f["kind"] != "list":
                return f
            f = f["kids"][0]
        else:
            f = kid(f, p)
            if f is None:
                return None
    return f


def dotted(path):
    """'devices.disk[].driver.cache' for ('devices', 'disks', 0, ...)."""
    out = ""
    for p in path:
        out += "[]" if isinstance(p, int) else ("." if out else "") + p
    return out


# ------------------------------------------------------------ value forms

UNIT_POWERS = "kmgtpe"


def size_kib(text):
    """A size as desired-state/units.c reads it, in KiB; None if refused."""
    m = re.fullmatch(r"\s*(\d+)\s*(\S*)\s*", str(text))
    if not m:
        return None
    n, u = int(m.group(1)), m.group(2)
    if u == "" or u.lower() == "kib":
        scale = 1024
    elif u.lower() in ("b", "byte", "bytes"):
        scale = 1
    else:
        p = UNIT_POWERS.find(u[0].lower())
        if p < 0:
            return None
        if len(u) == 1 or u[1:].lower() == "ib":
            base = 1024
        elif u[1:] in ("b", "B"):
            base = 1000
        else:
            return None
        scale = base ** (p + 1)
    return -(-n * scale // 1024)


def size_spellings(kib, rnd):
    """Spellings of a size of kib KiB: integers, every unit, cases, spaces,
    bytes that round up."""
    out = [str(kib), f"{kib} KiB", f"{kib}k", f"{kib} K", f"{kib} kib",
           f"{kib * 1024} b", f"{kib * 1024} bytes", f"{kib * 1024}B"]
    if kib > 1:
        out.append(f"{kib * 1024 - rnd.randint(1, 1023)} b")  # rounds up
    for p, letter in enumerate("KMGTP"):
        for base, suffixes in ((1024, ["", "iB", "ib", "IB"]), (1000, ["B", "b"])):
            scale = base ** (p + 1)
            bytes_ = kib * 1024
            if bytes_ % scale == 0 and not (base == 1024 and p == 0):
                n = bytes_ // scale
                for s in suffixes:
                    lt = letter if rnd.random() < 0.7 else letter.lower()
                    out.append(f"{n}{rnd.choice(['', ' '])}{lt}{s}")
            elif base == 1000 and p < 3:
                # a decimal unit that rounds up to the same KiB
                n = bytes_ // scale
                if n and size_kib(f"{n} {letter}B") == kib:
                    out.append(f"{n} {letter}B")
    out = [s for s in out if size_kib(s) == kib]
    return out


def cpuset_parse(text):
    """libvirt's CPU-set syntax to a set of ints."""
    if isinstance(text, (set, frozenset)):
        return set(text)
    inc, exc = set(), set()
    for part in str(text).split(","):
        part = part.strip()
        neg = part.startswith("^")
        part = part.lstrip("^")
        if "-" in part:
            a, b = part.split("-")
            s = set(range(int(a), int(b) + 1))
        else:
            s = {int(part)}
        (exc if neg else inc).update(s)
    return inc - exc


def cpuset_format(cpus):
    """A set of ints as libvirt prints it: '0-3,6'."""
    out, run = [], []
    for c in sorted(cpus):
        if run and c == run[-1] + 1:
            run.append(c)
        else:
            if run:
                out.append(run)
            run = [c]
    if run:
        out.append(run)
    return ",".join(str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in out)


def cpuset_spell(cpus, rnd):
    """A spelling of a non-empty set of CPUs: ranges, lists, exclusions."""
    cpus = sorted(cpus)
    forms = [cpuset_format(cpus), ",".join(map(str, cpus))]
    if len(cpus) > 1:
        forms.append(",".join(map(str, reversed(cpus))))
    lo, hi = cpus[0], cpus[-1]
    holes = sorted(set(range(lo, hi + 1)) - set(cpus))
    if hi > lo:
        forms.append(f"{lo}-{hi}" + "".join(f",^{h}" for h in holes))
    if not holes and hi + 1 < 64:
        forms.append(f"{lo}-{hi + 1},^{hi + 1}")
    return rnd.choice([f for f in forms if cpuset_parse(f) == set(cpus)])


# What the QEMU driver refuses on its own, that validate cannot know without
# a connection (other drivers take these values): never generated here.
HOST_REFUSES = {
    "os.type": ({"linux", "xen", "xenpvh", "exe"}, "QEMU runs hvm guests"),
    "on_poweroff": ({"preserve", "rename-restart"}, "not in the QEMU driver"),
    "on_reboot": ({"preserve", "rename-restart"}, "not in the QEMU driver"),
    "on_crash": ({"rename-restart"}, "not in the QEMU driver"),
    "devices.disk[].driver.type": ({"iso", "fat"}, "not QEMU storage formats"),
}

# What the generator makes: the table is libvirt's whole schema (789
# element paths), most of which the QEMU driver refuses, or which needs what
# this host lacks (devices to pass through, networks, other hypervisors).
# A map's optional keys are drawn from these dotted paths only (a path
# covers its ancestors); required keys are always made. Values come from the
# table (enums, ranges, kinds), narrowed by the rules in check() and the
# generators below. A key the table gains is made once it is listed here.
COVER = set("""
type name uuid state autostart adopt title description
memory.value currentMemory maxMemory.value maxMemory.slots
vcpu.value vcpu.current vcpu.placement vcpu.cpuset
os.type os.arch os.machine os.firmware
os.loader.value os.loader.readonly os.loader.secure os.loader.type
os.nvram.value os.nvram.template os.boot[].dev
os.bootmenu.enable os.bootmenu.timeout os.smbios.mode
os.bios.useserial os.bios.rebootTimeout
features.acpi features.apic features.pae features.hap features.viridian
features.privnet features.pvspinlock features.vmport features.smm
features.vmcoreinfo features.pmu
cpu.mode cpu.match cpu.check cpu.model.value cpu.model.fallback
cpu.topology.sockets cpu.topology.dies cpu.topology.cores cpu.topology.threads
cpu.numa.cell[].id cpu.numa.cell[].cpus cpu.numa.cell[].memory
clock.offset clock.timezone clock.adjustment clock.basis clock.start
on_poweroff on_reboot on_crash
devices.disk[].type devices.disk[].device
devices.disk[].driver.name devices.disk[].driver.type
devices.disk[].driver.cache devices.disk[].driver.discard
devices.disk[].driver.io
devices.disk[].source.file devices.disk[].source.dev
devices.disk[].source.pool devices.disk[].source.volume
devices.disk[].target.dev devices.disk[].target.bus
devices.disk[].readonly devices.disk[].shareable devices.disk[].serial
devices.disk[].boot.order
devices.interface[].type devices.interface[].source.network
devices.interface[].source.bridge devices.interface[].source.dev
devices.interface[].source.mode devices.interface[].model.type
devices.interface[].mac.address devices.interface[].boot.order
devices.graphics[].type devices.graphics[].listen devices.graphics[].autoport
devices.graphics[].port devices.graphics[].keymap
devices.serial[].type devices.serial[].target.port
devices.console[].type devices.console[].target.type
devices.console[].target.port
xml.devices xml.domain
memory.dumpCore
features.hap.state features.pvspinlock.state features.pmu.state
features.vmport.state features.smm.state features.vmcoreinfo.state
features.hyperv.mode features.hyperv.relaxed.state features.hyperv.vapic.state
features.hyperv.spinlocks.state features.hyperv.spinlocks.retries
clock.timer[].name clock.timer[].tickpolicy clock.timer[].track
clock.timer[].present
pm.suspend-to-mem.enabled pm.suspend-to-disk.enabled
memoryBacking.nosharepages memoryBacking.locked memoryBacking.source.type
memoryBacking.access.mode memoryBacking.allocation.mode
memoryBacking.allocation.threads memoryBacking.discard
iothreads
devices.controller[].type devices.controller[].index devices.controller[].model
devices.controller[].ports devices.controller[].vectors
devices.video[].model.type devices.video[].model.vram devices.video[].model.ram
devices.video[].model.vgamem devices.video[].model.heads
devices.video[].model.primary
devices.channel[].type devices.channel[].target.type devices.channel[].target.name
devices.input[].type devices.input[].bus
devices.memballoon.model devices.memballoon.autodeflate
devices.memballoon.freePageReporting devices.memballoon.stats.period
devices.rng[].model devices.rng[].backend.model devices.rng[].backend.value
devices.rng[].rate.bytes devices.rng[].rate.period
devices.tpm[].model devices.tpm[].backend.type devices.tpm[].backend.version
devices.sound[].model devices.sound[].codec[].type devices.sound[].audio.id
devices.audio[].id devices.audio[].type
devices.watchdog.model devices.watchdog.action
devices.disk[].volume.capacity devices.disk[].volume.allocation
devices.disk[].volume.target.format.type
devices.disk[].volume.backingStore.path devices.disk[].volume.backingStore.pool
devices.disk[].volume.backingStore.volume devices.disk[].volume.backingStore.format.type
devices.disk[].volume.clone.path devices.disk[].volume.clone.pool
devices.disk[].volume.clone.volume
cloudInit.pool cloudInit.target.dev cloudInit.target.bus
cloudInit.user-data.value cloudInit.user-data.file
cloudInit.meta-data.value cloudInit.meta-data.file
cloudInit.network-config.value cloudInit.network-config.file
""".split())

# The bus libvirt gives an input that names none (x86)
INPUT_BUS = {"tablet": "usb", "keyboard": "ps2", "mouse": "ps2"}

# Whole numbers narrowed to what makes sense for a guest (the table's
# ranges are the schema's: up to 2^63): (lowest, highest).
RANGES = {
    "iothreads": (0, 4),
    # libvirt numbers a virtio-serial controller's ports from 1, one per
    # channel or virtio console: room for all of them
    "devices.controller[].ports": (8, 31),
    "devices.controller[].vectors": (1, 32),
    "devices.memballoon.stats.period": (1, 60),
    "devices.rng[].rate.bytes": (1, 1 << 20),
    "devices.rng[].rate.period": (1, 60000),
    "features.hyperv.spinlocks.retries": (4095, 8191),
    "memoryBacking.allocation.threads": (1, 4),
}


# Enumerations narrowed to what the QEMU driver takes and the generator's
# rules know: the table's values that are not listed here are not made.
VALUES = {
    "devices.disk[].type": {"file", "block", "volume"},
    "devices.disk[].target.bus": {"virtio", "sata", "scsi", "ide", "usb", "fdc", "sd", "xen"},
    "devices.disk[].driver.type": {"raw", "qcow2", "qcow", "qed", "vmdk", "vpc", "vdi",
                                   "vhd", "iso", "bochs", "cloop", "dmg", "fat", "ploop"},
    "devices.interface[].type": {"network", "bridge", "user", "direct"},
    "devices.graphics[].type": {"vnc", "spice"},
    "devices.serial[].type": {"pty"},
    "devices.console[].type": {"pty"},
    "devices.console[].target.type": {"serial", "virtio"},
    # QEMU's rtc follows the guest's or the host's clock only
    "clock.timer[].track": {"guest", "wall"},
    # dump needs libvirt's auto_dump_path when it fires
    "devices.watchdog.action": {"reset", "shutdown", "poweroff", "pause", "none",
                                "inject-nmi"},
    "memoryBacking.source.type": {"file", "anonymous", "memfd"},
    "features.hyperv.mode": {"custom"},
}


def _with_ancestors(paths):
    out = set()
    for c in paths:
        for m in re.finditer(r"(?=\.|\[\]|$)", c):
            if m.start():
                out.add(c[:m.start()])
    return out


_COVERED = _with_ancestors(COVER)


def covered(path):
    """Whether the generator makes the field at path (a dotted path or a
    tuple of keys): listed in COVER, or above a listed path."""
    return (path if isinstance(path, str) else dotted(path)) in _COVERED


def agent_unmade(path, field):
    """Whether field (at path) is one of the agent's keys (xml None) that
    the generator does not make: such a key is left out even where the
    table requires it, until COVER lists it (state, autostart, adopt, the
    xml escape, a disk's volume and cloudInit are; the volumes and seeds
    go to the suite's own pool, POOL, by the rules of Gen.storage())."""
    return field.get("xml") is None and not covered(path)


# The suite's storage, which fidelity.py makes before a run and removes
# after it: a directory pool, and a base image in it (qcow2, BASE_MIB MiB,
# empty) for overlays and clones. A fraction of the files (STORAGE_ODDS)
# have volumes the agent makes there, a cloud-init seed, or both.
POOL = "vrgen-pool"
POOL_DIR = "/var/lib/libvirt/vrgen-pool"
BASE = "base.qcow2"
BASE_MIB = 64
STORAGE_ODDS = 0.22


# libvirt's disk naming: the target name's prefix per bus, and the buses a
# device may sit on (floppy: fdc only; lun: virtio or scsi; cdrom: not
# virtio or sd); ide only on i440fx (pc) machines.
BUS_PREFIX = {"virtio": "vd", "sata": "sd", "scsi": "sd", "ide": "hd",
              "usb": "sd", "fdc": "fd", "sd": "sd", "xen": "xvd"}
DEVICE_BUSES = {"disk": ["virtio", "sata", "scsi", "ide", "usb", "sd", "xen"],
                "cdrom": ["sata", "scsi", "ide", "usb"],
                "floppy": ["fdc"], "lun": ["virtio", "scsi"]}
PREFIX_LIMIT = {"hd": 4, "fd": 2}

NIC_MODELS = ["virtio", "e1000", "e1000e", "rtl8139", "ne2k_pci", "pcnet"]
KEYMAPS = ["en-us", "de", "fr", "en-gb", "ja"]
POWER_FEATURES = {"htm", "nested-hv", "ccf-assist"}  # need os.arch ppc64*
TIMEZONES = ["Europe/Paris", "UTC", "America/New_York", "Asia/Tokyo"]
SERIALS = ["WEB01-ROOT", "disk 2", "a.b+c_d", "0123456789"]
WORDS = ["alpha", "bravo", "charlie", "delta", "echo", "fox", "golf", "hotel",
         "x86", "db-01", "web_2", "a.b", "e+f"]
ODD_WORDS = ["c:d", "g/h", "i@j"]  # words too, rarer
LINES = ["Web frontend", "db primary, do not touch", "ünïcödé title ✓",
         "colon: inside", "a # not a comment", "  leading spaces", "x",
         "quotes ' and \"", "[brackets] {braces}", "trailing colon:",
         "- dash first", "yes", "null", "123", "0x1F", "1.5", "~", "@at"]
TEXTS = LINES + ["two\nlines", "several\nlines\n\nwith a gap\n",
                 "tab\tinside", "ends with newline\n"]

# Raw XML fragments, each with where libvirt shows what it adds.
DEVICE_FRAGMENTS = [
    ("<watchdog model='i6300esb' action='reset'/>", "watchdog"),
    ("<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>",
     "rng"),
    ("<input type='tablet' bus='usb'/>", "input[@type='tablet']"),
    ("<panic model='isa'/>", "panic"),
]
DOMAIN_FRAGMENTS = [
    ("<pm><suspend-to-mem enabled='no'/><suspend-to-disk enabled='no'/></pm>",
     "pm"),
    ("<iothreads>2</iothreads>", "iothreads"),
]
SYSINFO = ("<sysinfo type='smbios'><system><entry name='manufacturer'>"
           "vrgen</entry><entry name='product'>gen</entry></system></sysinfo>")
OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"
OVMF_CODE_SB = "/usr/share/OVMF/OVMF_CODE_4M.ms.fd"
OVMF_VARS_SB = "/usr/share/OVMF/OVMF_VARS_4M.ms.fd"
NVRAM_DIR = "/var/lib/libvirt/qemu/nvram"


class Host:
    """What the generator knows of the host: machine types and their
    aliases (virsh capabilities), CPU models, host CPUs, where images go."""

    def __init__(self, capabilities=None, image_dir="/var/lib/libvirt/images/vrgen",
                 host_cpus=None, cpu_models=None, nvram_dir=NVRAM_DIR,
                 pool=POOL, pool_dir=POOL_DIR):
        self.image_dir, self.nvram_dir = image_dir, nvram_dir
        # the suite's storage pool (a directory) and its base image
        self.pool, self.pool_dir = pool, pool_dir
        self.base_path = f"{pool_dir}/{BASE}"
        # a TPM emulator needs swtpm: known from the domain capabilities
        # (read_domcapabilities); without them, assumed (validate only)
        self.tpm_emulator = True
        self.host_cpus = host_cpus or os.cpu_count() or 1
        self.canonical = {"pc": "pc-i440fx-7.2", "q35": "pc-q35-7.2"}
        self.machines = ["pc", "q35"]
        self.cpu_models = cpu_models or ["qemu64", "qemu32", "kvm64",
                                         "Nehalem", "Skylake-Client", "EPYC"]
        if capabilities:
            self.read_capabilities(capabilities)

    def read_capabilities(self, text):
        import xml.etree.ElementTree as ET
        root = ET.fromstring(text)
        for guest in root.findall("guest"):
            arch = guest.find("arch")
            if arch is None or arch.get("name") != "x86_64":
                continue
            names = []
            for m in arch.findall("machine"):
                name = m.text.strip()
                if m.get("canonical"):
                    self.canonical[name] = m.get("canonical")
                if m.get("deprecated") == "yes" or not re.match(r"(pc|q35)", name):
                    continue
                names.append(name)
            if names:
                self.machines = sorted(set(names))

    def read_domcapabilities(self, text):
        import xml.etree.ElementTree as ET
        try:
            root = ET.fromstring(text)
        except ET.ParseError:
            return
        vals = [v.text for v in root.findall(
            "devices/tpm/enum[@name='backendModel']/value")]
        self.tpm_emulator = "emulator" in vals

    def family(self, machine):
        m = self.canonical.get(machine, machine)
        return "q35" if "q35" in m else "pc"

    def expand(self, machine):
        return self.canonical.get(machine, machine)


# ------------------------------------------------------------ the tree
#
# A file is a tree of Nodes that mirrors its meaning (maps, lists, values)
# and remembers its spelling: flow or block, a shorthand, {value: x}, a
# list of one written as its item, quotes, comments. Edits and the
# shrinker change nodes; emit() writes the text.


class Node:
    """kind: map, seq or scalar. A map's kids are (key, node) with the
    table's key; a node's alias is the older key it is written with
    (disks for disk). A map's style "names" writes it as the list of its
    keys (features: [acpi, apic]), each of which is true; "short" writes
    its shorthand's value alone."""
    __slots__ = ("kind", "field", "kids", "value", "text", "style", "comment", "alias")

    def __init__(self, kind, field, kids=None, value=None, text=None,
                 style="block", comment=None, alias=None):
        self.kind, self.field, self.kids = kind, field, kids
        self.value, self.text, self.style = value, text, style
        self.comment, self.alias = comment, alias

    def clone(self):
        """A copy that shares the table's fields."""
        kids = None
        if self.kind == "map":
            kids = [(k, v.clone()) for k, v in self.kids]
        elif self.kind == "seq":
            kids = [v.clone() for v in self.kids]
        return Node(self.kind, self.field, kids, self.value, self.text, self.style,
                    self.comment, self.alias)

    def get(self, key):
        for k, v in self.kids:
            if k == key:
                return v
        return None

    def sem(self):
        """The meaning: dicts, lists and values."""
        if self.kind == "map":
            return {k: v.sem() for k, v in self.kids}
        if self.kind == "seq":
            return [v.sem() for v in self.kids]
        return self.value


def node_at(tree, path):
    n = tree
    for p in path:
        if n is None:
            return None
        if isinstance(p, int):
            if n.kind != "seq" or p >= len(n.kids):
                return None
            n = n.kids[p]
        else:
            if n.kind != "map":
                return None
            n = n.get(p)
    return n


def sem_at(sem, path):
    for p in path:
        if isinstance(p, int):
            if not isinstance(sem, list) or p >= len(sem):
                return None
            sem = sem[p]
        else:
            if not isinstance(sem, dict) or p not in sem:
                return None
            sem = sem[p]
    return sem


PLAIN_BAD_START = set("-?:,[]{}#&*!|>'\"%@`")
YAML_SPECIAL = re.compile(
    r"^(~|null|Null|NULL|true|True|TRUE|false|False|FALSE|yes|Yes|YES|no|No|"
    r"NO|on|On|ON|off|Off|OFF|y|Y|n|N|[-+]?(\d[\d_]*)?(\.\d*)?([eE][-+]?\d+)?|"
    r"0x[0-9a-fA-F]+|0o[0-7]+|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)|<<|=)$")


def plain_ok(s, flow, typed=False):
    """Whether s may be written unquoted; typed: the field reads numbers and
    words itself, so YAML's own resolution of them does not matter."""
    if s == "" or s != s.strip() or s[0] in PLAIN_BAD_START:
        return False
    if any(c in s for c in "\n\t\r") or ": " in s or " #" in s or s.endswith(":"):
        return False
    if flow and (any(c in s for c in ",[]{}") or ":" in s):
        return False
    return typed or not YAML_SPECIAL.match(s)


def quote(s, style):
    if style == "single" and "\n" not in s and "\t" not in s:
        return "'" + s.replace("'", "''") + "'"
    out = '"'
    for c in s:
        out += {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t"}.get(c, c)
    return out + '"'


def scalar_token(n, flow):
    """The YAML text of a scalar node in a flow or block context."""
    q, s = n.text
    if q == "plain":
        kind = n.field.get("kind")
        if kind in ("bool", "presence") or isinstance(n.value, bool) or \
                plain_ok(s, flow, kind not in ("str", "flags", "xml")):
            return s
        return quote(s, "double")
    return quote(s, q)


NAME_FIELD = {"kind": "str", "check": "token"}  # a key written as a list item


def true_ish(v):
    """Whether a map's kid may be written as its name alone (names style):
    it reads "true" as its value."""
    if v.kind == "scalar":
        return v.value is True and v.style != "wrapped" and \
            v.field["kind"] in ("bool", "presence", "map")
    if v.kind == "map":
        sh = v.field.get("shorthand")
        return bool(sh) and len(v.kids) == 1 and v.kids[0][0] == sh and \
            true_ish(v.kids[0][1]) and v.kids[0][1].field["kind"] == "bool"
    return False


def shown(n):
    """The node a map is written as: the list of its names (style names), its
    shorthand's value (style short), or itself."""
    if n.kind != "map":
        return n
    if n.style == "names" and n.kids and not n.field.get("shorthand") and \
            all(true_ish(v) for _, v in n.kids):
        items = [Node("scalar", NAME_FIELD, value=k, text=("plain", k), style="plain")
                 for k, _ in n.kids]
        return Node("seq", n.field, items, style=n.text or "flow", comment=n.comment)
    sh = n.field.get("shorthand")
    if n.style == "short" and sh and len(n.kids) == 1 and n.kids[0][0] == sh:
        v = n.kids[0][1]
        if v.kind == "scalar" and v.style != "wrapped" and not v.comment:
            return v
        if v.kind == "seq" and v.style != "single" and not v.comment:
            return v
    return n


def key_of(k, v):
    return v.alias or k


def is_inline(n):
    n = shown(n)
    return n.kind == "scalar" or n.style in ("flow", "short") or \
        (n.kind == "seq" and n.style == "single" and len(n.kids) == 1 and is_inline(n.kids[0])) or \
        (n.kind in ("map", "seq") and not n.kids)


def inline(n):
    """A node on one line (flow)."""
    n = shown(n)
    if n.kind == "scalar":
        tok = scalar_token(n, True)
        return "{value: %s}" % tok if n.style == "wrapped" else tok
    if n.kind == "map":
        return "{" + ", ".join(f"{key_of(k, v)}: {inline(v)}" for k, v in n.kids) + "}"
    if n.style == "single" and len(n.kids) == 1:
        return inline(n.kids[0])
    return "[" + ", ".join(inline(v) for v in n.kids) + "]"


def block_scalar(n, indent):
    """A multi-line text as a literal block, when it can be one."""
    q, s = n.text
    if q != "literal" or "\n" not in s or s != s.lstrip(" \n") or "\t" in s:
        return None
    body = s[:-1] if s.endswith("\n") else s
    if s.endswith("\n\n") or any(l.strip() == "" and l != "" for l in body.split("\n")):
        return None
    chomp = "" if s.endswith("\n") else "-"
    pad = " " * (indent + 2)
    return ["|" + chomp] + [pad + l if l else "" for l in body.split("\n")]


def block(n, indent):
    """A node in block style: its lines, each without the indentation of
    the key or dash that introduces it (the caller adds that)."""
    pad = " " * indent
    lines = []
    n = shown(n)
    if n.kind == "map":
        for k, v in n.kids:
            c = f"  # {v.comment}" if v.comment else ""
            key = key_of(k, v)
            w = shown(v)
            if w.kind == "scalar" and w.text[0] == "literal":
                bl = block_scalar(w, indent)
                if bl:
                    lines.append(f"{pad}{key}: {bl[0]}{c}")
                    lines.extend(bl[1:])
                    continue
            if is_inline(w) or w.kind == "scalar":
                lines.append(f"{pad}{key}: {inline(w)}{c}")
            else:
                lines.append(f"{pad}{key}:{c}")
                sub = indent + 2 if w.kind == "map" or w.style != "compact" else indent
                lines.extend(block(w, sub))
        return lines
    for v in n.kids:
        w = shown(v)
        if is_inline(w) or w.kind == "scalar":
            lines.append(f"{pad}- {inline(w)}")
        elif w.kind == "map":
            sub = block(w, indent + 2)
            lines.append(f"{pad}- {sub[0].lstrip()}")
            lines.extend(sub[1:])
        else:
            lines.append(f"{pad}-")
            lines.extend(block(w, indent + 2))
    return lines


def emit(tree, header=None):
    """The file's text."""
    out = []
    if header:
        out += [f"# {l}" for l in header.splitlines()]
    if tree.style == "flow":
        out.append(inline(tree))
    else:
        out += block(tree, 0)
    return "\n".join(out) + "\n"


# ---------------------------------------------------------- the rules


def feature_on(feats, name):
    """Whether features (a file's mapping) turns name on: given, and not
    with state off."""
    v = (feats or {}).get(name)
    if v is None or v is False:
        return False
    return not (isinstance(v, dict) and v.get("state") is False)


def check(sem, host):
    """The rules between fields (validate.c) and the host's (HOST_REFUSES,
    libvirt's disk naming), on a file's meaning: a list of problems."""
    bad = []
    vcpu = sem.get("vcpu", {})
    nv = vcpu.get("value", 1) if vcpu else 1
    if vcpu.get("current", 1) > nv:
        bad.append("vcpu.current > value")
    if "cpuset" in vcpu and vcpu.get("placement") == "auto":
        bad.append("cpuset with placement auto")
    if "cpuset" in vcpu and max(cpuset_parse(vcpu["cpuset"])) >= host.host_cpus:
        bad.append("cpuset beyond host CPUs")
    mem = (sem.get("memory") or {}).get("value")
    if mem is None or mem <= 0:
        bad.append("memory")
    elif "currentMemory" in sem and sem["currentMemory"] > mem:
        bad.append("currentMemory > memory")
    cpu = sem.get("cpu", {})
    model = cpu.get("model")
    if isinstance(model, dict) and "value" not in model and "fallback" in model:
        bad.append("a CPU model's fallback without its name (libvirt drops it)")
    os_ = sem.get("os") or {}
    if os_.get("firmware_element") and "firmware" not in os_:
        bad.append("firmware features without os.firmware (libvirt refuses them)")
    mm = sem.get("maxMemory")
    if mm is not None:
        if mem is not None and mem > mm["value"]:
            bad.append("memory > maxMemory")
        if "slots" not in mm or "numa" not in cpu:
            bad.append("maxMemory needs slots and numa")
    cells = (cpu.get("numa") or {}).get("cell")
    if cells is not None:
        seen, total = set(), 0
        for i, c in enumerate(cells):
            total += c["memory"]
            if "id" in c and c["id"] != i:
                bad.append("numa id")
            if "cpus" in c:
                s = cpuset_parse(c["cpus"])
                if max(s) >= nv or s & seen:
                    bad.append("numa cpus")
                seen |= s
        if total != mem:
            bad.append("numa memory total")
    topo = cpu.get("topology")
    if topo is not None:
        if not all(k in topo for k in ("sockets", "cores", "threads")):
            bad.append("topology incomplete")
        else:
            p = topo["sockets"] * topo["cores"] * topo["threads"] * topo.get("dies", 1)
            if p != nv:
                bad.append("topology product")
    os_ = sem.get("os", {})
    feats = sem.get("features", {})
    uefi = os_.get("firmware") == "efi" or "nvram" in os_ or \
        os_.get("loader", {}).get("type") == "pflash"
    if uefi and not feature_on(feats, "acpi"):
        bad.append("uefi without acpi")
    if sem.get("state", "running") == "running" and os_.get("firmware") == "efi" and \
            "smm" in feats and not feature_on(feats, "smm"):
        # the firmware libvirt picks on q35 (secure boot) needs SMM; on pc
        # the descriptors ask for none, but the rule is the host's
        bad.append("QEMU: firmware efi with smm off does not start")
    if os_.get("loader", {}).get("secure") and (not feature_on(feats, "smm") or
                                                os_.get("arch", "x86_64") != "x86_64"):
        bad.append("QEMU: secure boot needs smm and x86_64")
    if os_.get("bios", {}).get("useserial") and \
            not sem.get("devices", {}).get("serial"):
        bad.append("useserial without serial")
    xml_dom = sem.get("xml", {}).get("domain", [])
    if os_.get("smbios", {}).get("mode") == "sysinfo" and \
            not any("<sysinfo" in x for x in xml_dom):
        bad.append("sysinfo")
    devs = sem.get("devices", {})
    orders = [d["boot"]["order"] for l in ("disk", "interface") for d in devs.get(l, [])
              if "boot" in d]
    if orders and "boot" in os_:
        bad.append("boot order with os.boot")
    if len(orders) != len(set(orders)):
        bad.append("boot orders")
    fam = host.family(os_.get("machine", "pc"))
    targets = []
    for d in devs.get("disk", []):
        t = d.get("type", "block" if "dev" in d.get("source", {}) else
                  "volume" if "pool" in d.get("source", {}) else "file")
        src = d.get("source")
        need = {"file": {"file"}, "block": {"dev"}, "volume": {"pool", "volume"}}.get(t)
        if need is None:
            bad.append(f"disk type {t}")
            continue
        device = d.get("device", "disk")
        if src is None:
            if device not in ("cdrom", "floppy"):
                bad.append("disk without source")
        elif set(src) != need:
            bad.append("disk source")
        tgt = d["target"]["dev"]
        targets.append(tgt)
        bus = d["target"].get("bus") or next(
            (b for p, b in (("xvd", "xen"), ("vd", "virtio"), ("sd", "scsi"), ("hd", "ide"),
                            ("fd", "fdc")) if tgt.startswith(p)), None)
        if bus and bus not in DEVICE_BUSES.get(device, []):
            bad.append("disk bus")
        if bus == "ide" and fam != "pc":
            bad.append("ide on q35")
        drv = d.get("driver", {})
        if drv.get("io") == "native" and drv.get("cache") not in ("none", "directsync"):
            bad.append("QEMU: io native needs cache none or directsync")
        if device == "lun" and ("serial" in d or drv.get("type", "raw") != "raw"):
            bad.append("QEMU: a lun is raw, without a serial")
        if d.get("shareable") and drv.get("type") != "raw":
            bad.append("QEMU: shareable needs raw")
        if bus == "sd" and "serial" in d:
            bad.append("QEMU: no serial on the sd bus")
        if device == "disk" and d.get("readonly") and bus in ("ide", "sata"):
            bad.append("QEMU: no readonly ide or sata disk")
    for frag in sem.get("xml", {}).get("devices", []):
        targets += re.findall(r"<target dev='(\w+)'", frag)
    if "cloudInit" in sem:
        # the seed's CD-ROM, which the agent adds
        dev, bus = seed_target(sem)
        targets.append(dev)
        if bus == "ide" and fam != "pc":
            bad.append("ide on q35")
        if bus not in DEVICE_BUSES["cdrom"] or \
                not dev.startswith(BUS_PREFIX[bus]) or \
                ord(dev[-1]) - 97 >= PREFIX_LIMIT.get(dev[:-1], 26):
            bad.append("the seed's CD-ROM on a target its bus does not have")
        if bus == "usb":
            bad.append("the seed's CD-ROM on usb (its ports are counted without it)")
        if seed_pool(sem) != host.pool:
            bad.append("a seed outside the suite's pool")
    vols = [((d.get("source") or {}).get("pool"), (d.get("source") or {}).get("volume"))
            for d in devs.get("disk", []) if "volume" in d]
    if len(vols) != len(set(vols)):
        bad.append("two disks that make one volume")
    if any(p != host.pool for p, _ in vols):
        bad.append("a volume made outside the suite's pool")
    if len(targets) != len(set(targets)):
        bad.append("disk targets")
    for nic in devs.get("interface", []):
        need = {"network": "network", "bridge": "bridge", "direct": "dev",
                "user": None}.get(nic["type"])
        if need and need not in nic.get("source", {}):
            bad.append("nic source")
        if nic["type"] == "user" and "source" in nic:
            bad.append("user nic source")
    gtypes = [g["type"] for g in devs.get("graphics", [])]
    if len(gtypes) != len(set(gtypes)):
        bad.append("two graphics of a type")
    for g in devs.get("graphics", []):
        if "port" in g:
            if g.get("autoport") is True and g["port"] != -1:
                bad.append("port with autoport")
            if g.get("autoport") is False and g["port"] == -1:
                bad.append("autoport false without a port")
            if g["type"] == "vnc" and 0 <= g["port"] < 5900:
                bad.append("vnc port below 5900")
        if g["type"] == "spice" and "listen" in g and not g.get("autoport") \
                and g.get("port", 0) <= 0:
            bad.append("spice listen without a port")
    serial_ports = {s.get("target", {}).get("port", 0)
                    for s in devs.get("serial", [])}
    for i, c in enumerate(devs.get("console", [])):
        ctype = c.get("target", {}).get("type")
        if ctype not in (None, "serial") and "port" in c.get("target", {}):
            bad.append("a port for a console libvirt numbers")
        if i > 0 and ctype in (None, "serial"):
            bad.append("a serial console after the first")
        if i == 0 and ctype in (None, "serial"):
            port = c.get("target", {}).get("port", 0)
            if port != 0 and port not in serial_ports:
                bad.append("serial console on a port no serial has")
    # what libvirt 9.0 drops or refuses (validate.c)
    mode = cpu.get("mode", "custom")
    if "match" in cpu and mode != "custom":
        bad.append("cpu.match outside mode custom")
    if "model" in cpu and mode in ("host-passthrough", "maximum"):
        bad.append("cpu.model with host-passthrough or maximum")
    if "check" in cpu and mode == "custom" and "model" not in cpu:
        bad.append("cpu.check without a model")
    menu = os_.get("bootmenu", {})
    if "timeout" in menu and not menu.get("enable"):
        bad.append("bootmenu timeout when disabled")
    if len(os_.get("boot", [])) > 4:
        bad.append("more than 4 boot devices")
    if os_.get("firmware") == "efi" and "loader" in os_:
        bad.append("loader with firmware efi")
    clock = sem.get("clock", {})
    off = clock.get("offset")
    for key, want in (("timezone", "timezone"), ("start", "absolute"),
                      ("adjustment", "variable"), ("basis", "variable")):
        if key in clock and off != want:
            bad.append(f"clock.{key} without offset {want}")
    if off == "timezone" and "timezone" not in clock:
        bad.append("offset timezone without timezone")
    if off == "absolute" and "start" not in clock:
        bad.append("offset absolute without start")
    if mm is not None and mem is not None and mem >= mm["value"]:
        bad.append("memory not below maxMemory")
    if cells is not None and any("cpus" in c for c in cells):
        covered = set()
        for c in cells:
            covered |= cpuset_parse(c["cpus"])
        if not set(range(nv)) <= covered:
            bad.append("vCPUs outside every NUMA cell")
    if os_.get("arch", "x86_64")[:5] != "ppc64" and \
            set(feats) & {"htm", "nested-hv", "ccf-assist"}:
        bad.append("POWER features off POWER")
    for d in devs.get("disk", []):
        device = d.get("device", "disk")
        if device == "cdrom" and d.get("readonly") is False:
            bad.append("a cdrom not read-only")
        if "source" not in d and d.get("type", "file") != "file":
            bad.append("a type for an empty drive")
        if d.get("driver", {}).get("name", "qemu") != "qemu":
            bad.append("QEMU: driver name other than qemu")
    if sem.get("state", "running") == "running" and sem.get("on_reboot") == "destroy":
        # the guests have no OS: the BIOS reboots after a minute without a
        # boot device, and this would stop the guest behind the suite
        bad.append("a running guest that stops at its BIOS's reboot")
    if sem.get("on_reboot") == "destroy" and sem.get("on_poweroff") == "restart":
        bad.append("QEMU: on_reboot destroy with on_poweroff restart")
    bad += check_more(sem, host, devs, fam)
    for path, (vals, _) in HOST_REFUSES.items():
        for v in values_at(sem, path):
            if v in vals:
                bad.append(f"host refuses {path}: {v}")
    return bad + known_bugs(sem)


def seed_target(sem):
    """The seed CD-ROM's target (dev, bus), as the agent picks it
    (desired-state/volumes.c: ds_seed_inject): cloudInit.target, else the
    first name the file's disks leave free on the machine's usual CD-ROM
    bus (scsi off x86, sata on q35, else ide)."""
    t = sem["cloudInit"].get("target") or {}
    os_ = sem.get("os") or {}
    arch, machine = os_.get("arch"), os_.get("machine")
    bus = t.get("bus") or ("scsi" if arch and arch not in ("x86_64", "i686") else
                           "sata" if machine and "q35" in machine else "ide")
    dev = t.get("dev")
    if not dev:
        prefix = "hd" if bus == "ide" else "sd"
        taken = {(d.get("target") or {}).get("dev")
                 for d in (sem.get("devices") or {}).get("disk", [])}
        dev = next((prefix + chr(c) for c in range(97, 123) if prefix + chr(c) not in taken),
                   prefix + "z")
    return dev, bus


def seed_pool(sem):
    """The seed's pool: cloudInit.pool, else the first volume's, else
    default."""
    ci = sem["cloudInit"]
    if "pool" in ci:
        return ci["pool"]
    return next((d["source"]["pool"] for d in (sem.get("devices") or {}).get("disk", [])
                 if "volume" in d), "default")


def seed_volume(sem):
    """The seed's volume name (ds_seed_volume_name): each byte a volume
    name cannot hold is '_'."""
    return re.sub(rb"[^A-Za-z0-9_.-]", b"_", f"{sem['name']}-cidata.iso".encode()).decode()


def check_more(sem, host, devs, fam):
    """The rules of the elements beyond the first table's: what libvirt 9.0's
    QEMU driver refuses (at define or at start) or drops."""
    bad = []
    running = sem.get("state", "running") == "running"
    spice = any(g.get("type") == "spice" for g in devs.get("graphics", []))
    names = [c.get("target", {}).get("name") for c in devs.get("channel", [])]
    if len(names) != len(set(names)):
        bad.append("two channels of one name")
    for c in devs.get("channel", []):
        if c.get("type") == "spicevmc" and not spice:
            bad.append("QEMU: a spicevmc channel needs a SPICE server")
    audio_ids = [a.get("id") for a in devs.get("audio", [])]
    if len(audio_ids) != len(set(audio_ids)):
        bad.append("two audio backends of one id")
    for a in devs.get("audio", []):
        if a.get("type") == "spice" and not spice:
            bad.append("QEMU: SPICE audio needs a SPICE server")
    for snd in devs.get("sound", []):
        if "audio" in snd and snd["audio"].get("id") not in audio_ids:
            bad.append("a sound device's audio id that no audio has")
    ctl = [(c.get("type"), c.get("index", 0)) for c in devs.get("controller", [])]
    if len(ctl) != len(set(ctl)):
        bad.append("two controllers of one type and index")
    ins = [(i.get("type"), i.get("bus", INPUT_BUS.get(i.get("type"))))
           for i in devs.get("input", [])]
    if len(ins) != len(set(ins)):
        bad.append("two inputs of one type and bus")
    # USB ports: piix3-uhci has 2, qemu-xhci 4 here; libvirt picks piix3-uhci
    # for a usb controller without a model, and a machine's own otherwise
    usb = [c for c in devs.get("controller", []) if c.get("type") == "usb"]
    model = (usb[0].get("model", "piix3-uhci") if usb else
             "piix3-uhci" if fam == "pc" else "qemu-xhci")
    n_usb = sum(1 for t, b in ins if b == "usb") + \
        sum(1 for d in devs.get("disk", []) if (d.get("target") or {}).get("bus") == "usb")
    if n_usb > {"piix3-uhci": 2, "qemu-xhci": 4}.get(model, 2):
        bad.append("QEMU: more USB devices than the controller has ports")
    if len(devs.get("video", [])) > 1:
        bad.append("more than one video device")
    wd = devs.get("watchdog")
    if isinstance(wd, dict) and wd.get("model") == "ib700" and fam != "pc" and running:
        bad.append("QEMU: ib700 is an ISA watchdog (pc machines)")
    timers = (sem.get("clock") or {}).get("timer", [])
    if len({t.get("name") for t in timers}) != len(timers):
        bad.append("two timers of one name")
    for t in timers:
        tp = t.get("tickpolicy")
        if tp and tp not in {"rtc": ("delay", "catchup"),
                             "pit": ("delay", "catchup", "discard")}.get(t.get("name"), ()):
            bad.append(f"QEMU: tickpolicy {tp} for the {t.get('name')} timer")
    hv = (sem.get("features") or {}).get("hyperv")
    if isinstance(hv, dict) and feature_on(hv, "spinlocks") and \
            "retries" not in (hv.get("spinlocks") or {}):
        bad.append("hyperv spinlocks on without retries")
    if isinstance(hv, dict) and isinstance(hv.get("spinlocks"), dict) and \
            hv["spinlocks"].get("state") is False and "retries" in hv["spinlocks"]:
        bad.append("retries beside spinlocks off (libvirt drops them)")
    pm = sem.get("pm") or {}
    if running and (sem.get("os") or {}).get("firmware") == "efi" and \
            (pm.get("suspend-to-disk") or {}).get("enabled"):
        # the host's firmware descriptors (OVMF) offer no S4: libvirt
        # finds no firmware for the guest
        bad.append("QEMU: firmware efi with suspend-to-disk")
    mb = sem.get("memoryBacking") or {}
    if mb.get("locked") and running:
        bad.append("locked memory on a running guest (the host's limits)")
    if "access" in mb and (mb.get("source") or {}).get("type") not in ("file", "memfd"):
        bad.append("memory access without a file or memfd source")
    alloc = mb.get("allocation") or {}
    if "threads" in alloc and alloc.get("mode") != "immediate":
        bad.append("allocation threads without mode immediate")
    return bad


# What libvirt refuses whatever the driver, that validate does not check (or
# what validate refuses although the format documents it): each is a
# finding, so files with them are made, but rarely (RARE_ODDS), so that the
# rest of the suite still has files to work on. Never in running guests.
RARE_ODDS = 0.05
LIBVIRT_REFUSES = [
    # none known: each one found was made a check of validate's
]


def rare(sem):
    return [what for what, test in LIBVIRT_REFUSES if test(sem)]


# Program bugs this suite found that are not fixed yet: valid files the
# program never brings in sync, or refuses. Each is avoided (check() calls
# a file with one invalid) so that the suite keeps testing the rest;
# --with-known-bugs makes them again, to see whether a fix holds. Remove an
# entry once its bug is fixed.
AVOID_KNOWN = True
# Features with a state, which libvirt fills in ('on') when left out
STATE_FILLED = {"hap", "pvspinlock", "pmu", "vmport", "smm", "vmcoreinfo"}


KNOWN_BUGS = [
    ("an empty video list beside graphics, or an empty audio list, is never "
     "in sync (libvirt adds its own)",
     lambda sem: sem.get("devices", {}).get("audio") == [] or
     (sem.get("devices", {}).get("video") == [] and sem["devices"].get("graphics"))),
]
# Fixed since they were found, and made again: a feature without its state,
# hyperv without its mode, features: {}, a controller without index or
# model, an input without bus, a video model without libvirt's sizes, an rng
# without its path or builtin, iothreads: 0, True for an element that may be
# empty; and refused by validate now: an empty os.bios or pm child.


# Edits that the program gets wrong, not made while AVOID_KNOWN.
KNOWN_EDIT_BUGS = [
    ("a new machine family drops the file's own controllers with libvirt's, "
     "and the next apply pairs them with libvirt's of other types"),
]
# Fixed since they were found, and made again: a device's new model kept
# the old one's address; a controller added paired with libvirt's of
# another type; a new currentMemory on a running guest without a balloon
# was sent live.


# Spellings the program reads wrong (the meaning is fine, the words are
# not), not written while AVOID_KNOWN in the files where they show.
KNOWN_SPELLING_BUGS = []
# Fixed since they were found, and written again: a list of one disk as
# its item, {value: x} for what the seed's CD-ROM is placed by, flow-style
# meta-data that gives instance-id.
# The scalars ds_seed_inject reads of the raw tree (KNOWN_SPELLING_BUGS)
SEED_RAW = {"name", "os.machine", "os.arch", "devices.disk[].target.dev",
            "devices.disk[].source.pool", "cloudInit.pool", "cloudInit.target.dev",
            "cloudInit.target.bus"}


def known_bugs(sem):
    return [what for what, test in KNOWN_BUGS if test(sem)] if AVOID_KNOWN else []


def values_at(sem, path):
    """Every value at a dotted path with [] for list items."""
    return walk(sem, re.findall(r"[^.\[\]]+|\[\]", path))


def walk(sem, parts):
    """The values reached by path parts (keys, and "[]" for every item)."""
    cur = [sem]
    for p in parts:
        nxt = []
        for c in cur:
            if p == "[]":
                nxt.extend(c if isinstance(c, list) else [])
            elif isinstance(c, dict) and p in c:
                nxt.append(c[p])
        cur = nxt
    return cur


# ------------------------------------------------- the seed's YAML texts


def yaml_scalar(v):
    """A scalar as YAML 1.1 (cloud-init's PyYAML) reads it back the same:
    plain where it may be, else a JSON string (a YAML double-quoted one)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if plain_ok(v, False) and not re.search(r"[\t#:]|^[0-9+.-]", v):
        return v
    return json.dumps(v, ensure_ascii=False)


def yaml_text(doc, r, flow_ok=True):
    """A mapping as YAML text: block style, now and then flow style (JSON,
    which is YAML too)."""
    if flow_ok and r.random() < 0.2:
        return json.dumps(doc, ensure_ascii=False, sort_keys=False) + "\n"
    return "\n".join(yaml_block(doc, 0)) + "\n"


def yaml_block(v, indent):
    pad = " " * indent
    lines = []
    if isinstance(v, dict):
        for k, x in v.items():
            if isinstance(x, (dict, list)) and x:
                lines.append(f"{pad}{k}:")
                lines += yaml_block(x, indent + 2)
            elif isinstance(x, (dict, list)):
                lines.append(f"{pad}{k}: {json.dumps(x)}")
            else:
                lines.append(f"{pad}{k}: {yaml_scalar(x)}")
        return lines
    for x in v:
        if isinstance(x, dict) and x:
            sub = yaml_block(x, indent + 2)
            lines.append(f"{pad}- {sub[0].lstrip()}")
            lines += sub[1:]
        elif isinstance(x, (dict, list)):
            lines.append(f"{pad}- {json.dumps(x, ensure_ascii=False)}")
        else:
            lines.append(f"{pad}- {yaml_scalar(x)}")
    return lines


# ---------------------------------------------------------- generation

OMIT = object()


class Gen:
    """Makes files. Each file is drawn from a random.Random of its own,
    seeded by (seed, index)."""

    def __init__(self, schema, host, excluded=None):
        self.schema, self.host = schema, host
        # values validate refuses (found by calibrate()), per dotted path
        self.excluded = excluded or {}

    # -- values by kind, for keys the generator has no rule for

    def allowed(self, path, field):
        vals = list(field.get("values") or [])
        d = dotted(path)
        if d in VALUES:
            vals = [v for v in vals if v in VALUES[d]]
        bad = set(self.excluded.get(d, ())) | set(HOST_REFUSES.get(d, ((), ""))[0])
        return [v for v in vals if v not in bad]

    def narrow(self, d, cands):
        """The candidates the table's enumeration at dotted path d holds:
        the generator's rules pick among libvirt's values, never beside
        them, so that a value the schema drops is no longer made."""
        path = tuple(0 if p == "[]" else p for p in re.findall(r"[^.\[\]]+|\[\]", d))
        f = field_at(self.schema, path)
        vals = set((f or {}).get("values") or ())
        return [c for c in cands if c in vals]

    def pick(self, r, d, cands):
        """One of the candidates the table holds at d, or None."""
        c = self.narrow(d, cands)
        return r.choice(c) if c else None

    def generic(self, path, field, r):
        k = field["kind"]
        if k == "bool" or k == "presence":
            return r.random() < 0.5
        if k == "enum":
            return r.choice(self.allowed(path, field))
        if k in ("uint", "int"):
            lo, hi = RANGES.get(dotted(path), (field["min"], field["max"]))
            return r.choice([lo, hi, r.randint(lo, min(hi, lo + 100)),
                             r.randint(lo, hi)])
        if k == "size":
            return r.choice([1, 1024, 512 * 1024, r.randint(1, 1 << 22)])
        if k == "str":
            return self.text(path, field, r)
        if k == "flags":
            vals = self.allowed(path, field)
            return r.sample(vals, r.randint(0, len(vals)))
        if k == "map":
            out = {}
            for kf in field["kids"]:
                p = path + (kf["key"],)
                if agent_unmade(p, kf):
                    continue
                if kf["required"] or (covered(p) and r.random() < 0.4):
                    v = self.value(p, kf, r, {})
                    if v is not OMIT:
                        out[kf["key"]] = v
            return out
        if k == "list":
            return [self.value(path + (i,), field["kids"][0], r, {})
                    for i in range(r.choice([0, 1, 1, 2]))]
        return OMIT  # xml: only the fragments below

    def text(self, path, field, r):
        c = field["check"]
        if c == "uuid":
            return "%08x-%04x-%04x-%04x-%012x" % (
                r.getrandbits(32), r.getrandbits(16), r.getrandbits(16),
                r.getrandbits(16), r.getrandbits(48))
        if c == "mac":
            return "52:54:00:%02x:%02x:%02x" % tuple(r.getrandbits(8) for _ in range(3))
        if c == "cpuset":
            n = self.host.host_cpus
            return cpuset_format(set(r.sample(range(n), r.randint(1, n))))
        if c == "path":
            return f"{self.host.image_dir}/{r.choice(WORDS[:8])}-{r.randint(0, 99)}.img"
        if c == "machine":
            return r.choice(self.host.machines)
        if c == "token":
            return r.choice(ODD_WORDS if r.random() < 0.1 else WORDS)
        if c == "line":
            if path and path[-1] == "timezone":
                return r.choice(TIMEZONES)
            return r.choice(LINES)
        if c == "serial":
            return r.choice(SERIALS)
        if c == "name":
            return "vrgen-x"
        return r.choice(TEXTS + [""])

    def value(self, path, field, r, ctx):
        """A field's value: by a rule for the path if there is one, else by
        its kind."""
        hook = getattr(self, "g_" + re.sub(r"\W", "_", dotted(path).replace("[]", "_item")), None)
        if hook:
            return hook(path, field, r, ctx)
        if field["kind"] == "map":
            return self.map_value(path, field, r, ctx, {})
        return self.generic(path, field, r)

    def map_value(self, path, field, r, ctx, want):
        """A map: the keys in want (values or OMIT), the required ones, and
        the others at random, each by value()."""
        out = {}
        p_opt = ctx.get("p_opt", 0.45)
        unknown = set(want) - {kf["key"] for kf in field["kids"]}
        assert not unknown, f"{dotted(path)}: no key {unknown} in the table"
        for kf in field["kids"]:
            key = kf["key"]
            if key in want:
                v = want[key]
                if callable(v):
                    v = v()
            elif agent_unmade(path + (key,), kf):
                continue
            elif kf["required"] or (covered(path + (key,)) and r.random() < p_opt):
                v = self.value(path + (key,), kf, r, ctx)
            else:
                continue
            if v is not OMIT:
                out[key] = v
        return out

    # -- the domain

    def domain_once(self, name, r, running):
        h = self.host
        ctx = {"running": running, "name": name}
        self.last_ctx = ctx
        # decisions that rules tie together, made first
        nv = r.choice([1, 1, 2, 2, 3, 4]) if running else \
            r.choice([1, 2, 3, 4, 6, 8, 12, 16, 64])
        ctx["nv"] = nv
        ctx["machine"] = r.choice(h.machines + ["pc", "q35"])
        ctx["family"] = h.family(ctx["machine"])
        if running:
            mem = r.choice([32, 48, 64, 96, 128]) * 1024
        else:
            mem = r.choice([1, 1000, 65536, 131072, 1 << 20, 3 << 20, 64 << 20,
                            r.randint(1, 1 << 24)])
        ctx["memory"] = mem
        ctx["numa"] = None
        if r.random() < 0.25:
            k = r.randint(1, min(nv, 3))
            split = sorted(r.sample(range(1, nv), k - 1)) if k > 1 else []
            bounds = [0] + split + [nv]
            unit = 1024 if (running or mem % (1024 * k) == 0) else 1
            if mem // unit < k:
                k, bounds, unit = 1, [0, nv], 1
            parts = self.split_int(mem // unit, k, r)
            cells = []
            with_cpus = running or r.random() < 0.8
            for i in range(k):
                c = {"memory": parts[i] * unit}
                if r.random() < 0.6:
                    c["id"] = i
                if with_cpus:  # every cell or none: libvirt fills the rest
                    c["cpus"] = set(range(bounds[i], bounds[i + 1]))
                cells.append(c)
            ctx["numa"] = cells
        ctx["maxmem"] = None
        # QEMU's machines before 2.1 have no memory hotplug: a host's
        # limit, which validate cannot know (the file names no QEMU)
        old = re.match(r"pc-i440fx-(1\.|2\.0$)|pc-(0|1)\.", ctx["machine"])
        if ctx["numa"] and r.random() < 0.5 and not (running and old):
            ctx["maxmem"] = (mem + r.choice([1024, 1 << 20, 4 << 20]),
                             r.choice([1, 2, 16, 255]))
        # firmware: none, firmware efi, or a pflash loader with an nvram
        ctx["uefi"] = r.choice([None, None, "efi", "pflash", "rom"])
        ctx["secure"] = ctx["uefi"] == "pflash" and ctx["family"] == "q35" and \
            r.random() < 0.3
        ctx["features"] = self.features(r, ctx)
        ctx["serials"] = r.choice([0, 0, 1, 1, 2])
        ctx["boot"] = r.choice(["os", "dev", None])
        ctx["next_order"] = 1
        ctx["macs"] = set()
        want = {
            "name": name,
            "type": "qemu" if running or r.random() < 0.85 else OMIT,
            "state": "running" if running and r.random() < 0.6 else
            OMIT if running else "shutoff",
            "memory": (lambda: self.memory(("memory",), r, ctx)),
            "maxMemory": (lambda: {"value": ctx["maxmem"][0],
                                   "slots": ctx["maxmem"][1]})
            if ctx["maxmem"] else OMIT,
            "cpu": (lambda: self.g_cpu(("cpu",), kid(self.schema, "cpu"), r, ctx, force=True))
            if ctx["numa"] else (lambda: self.g_cpu(("cpu",), kid(self.schema, "cpu"), r, ctx)),
            "features": ctx["features"] if ctx["features"] or r.random() < 0.3 else OMIT,
        }
        if ctx["uefi"] or ctx["boot"] == "os" or ctx["serials"]:
            want["os"] = lambda: self.g_os(("os",), kid(self.schema, "os"), r, ctx)
        if ctx["boot"] == "dev" or r.random() < 0.8:
            want["devices"] = lambda: self.g_devices(("devices",), kid(self.schema, "devices"), r, ctx)
        want["cloudInit"] = OMIT  # storage() makes it
        ctx["p_opt"] = 0.5
        sem = self.map_value((), self.schema, r, ctx, want)
        # volumes and a seed, in a fraction of the files: drawn from a
        # stream of their own, after the rest, so that the other files
        # stay as they were
        rs = random.Random(r.getrandbits(64))
        if rs.random() < STORAGE_ODDS:
            self.storage(sem, rs, ctx)
        return sem

    def memory(self, path, r, ctx):
        return self.map_value(path, kid(self.schema, "memory"), r, ctx,
                              {"value": ctx["memory"]})

    def feature_names(self, running, machine):
        """The features a file may name."""
        field = kid(self.schema, "features")
        names = [kf["key"] for kf in field["kids"]
                 if covered(("features", kf["key"])) and kf["key"] not in POWER_FEATURES]
        if running:  # TCG has no paravirtual spinlocks
            names = [n for n in names if n != "pvspinlock"]
        if running and not re.match(r"(pc|q35)$|pc-(i440fx|q35)-[7-9]\.", machine):
            # vmcoreinfo needs fw_cfg DMA, which old machine types lack
            names = [n for n in names if n != "vmcoreinfo"]
        return names

    def features(self, r, ctx):
        """features: a mapping of names, each true or a mapping of its own
        (a state, ...)."""
        names = self.feature_names(ctx["running"], ctx["machine"])
        out = {}
        for n in r.sample(names, r.randint(0, len(names))):
            out[n] = self.feature(n, r, ctx)
        if ctx["uefi"] in ("efi", "pflash") and not feature_on(out, "acpi"):
            out["acpi"] = True
        if ctx["secure"] and not feature_on(out, "smm"):
            out["smm"] = True
        return out

    def feature(self, name, r, ctx):
        kf = kid(kid(self.schema, "features"), name)
        if kf["kind"] == "presence" or (kf.get("empty_ok") and r.random() < 0.5):
            return True
        want = {}
        if name in STATE_FILLED:
            want["state"] = (lambda: r.random() < 0.8) if r.random() < 0.7 else OMIT
        if name == "hyperv":
            want["mode"] = "custom" if r.random() < 0.6 else OMIT
            want["spinlocks"] = lambda: {"state": True, "retries": r.randint(4095, 8191)} \
                if r.random() < 0.6 else {"state": False}
        v = self.map_value(("features", name), kf, r, ctx, want)
        return v or True

    @staticmethod
    def split_int(total, k, r):
        cuts = sorted(r.sample(range(1, total), k - 1)) if k > 1 else []
        b = [0] + cuts + [total]
        return [b[i + 1] - b[i] for i in range(k)]

    def g_uuid(self, path, field, r, ctx):
        return self.text(path, field, r)

    def g_title(self, path, field, r, ctx):
        return r.choice(LINES)

    def g_description(self, path, field, r, ctx):
        return r.choice(TEXTS + [""])

    def g_adopt(self, path, field, r, ctx):
        return r.random() < 0.5

    def g_currentMemory(self, path, field, r, ctx):
        mem = ctx["memory"]
        if ctx["running"]:
            return r.randint(max(1, mem // 1024 // 2), mem // 1024) * 1024
        return r.choice([mem, r.randint(1, mem)])

    def g_vcpu(self, path, field, r, ctx):
        nv = ctx["nv"]
        want = {"value": nv,
                "current": lambda: r.randint(1, nv),
                "placement": lambda: r.choice(["static"] if ctx["running"]
                                              else self.allowed(path + ("placement",),
                                                                kid(field, "placement"))),
                }
        out = self.map_value(path, field, r, ctx, want)
        if "cpuset" in out:
            if out.get("placement") == "auto":
                del out["cpuset"]
            else:
                n = self.host.host_cpus
                out["cpuset"] = set(r.sample(range(n), r.randint(1, n)))
        return out

    def g_os(self, path, field, r, ctx):
        u = ctx["uefi"]
        name = ctx.get("name", "x")
        want = {
            "type": lambda: "hvm",
            "arch": lambda: "x86_64" if ctx["running"] else r.choice(["x86_64", "i686"]),
            "machine": ctx["machine"],
            # no firmware descriptor for bios here: a running guest that
            # names it does not start
            "firmware": "efi" if u == "efi" else OMIT if u or ctx["running"] else
            (lambda: "bios"),
            "loader": OMIT,
            "nvram": OMIT,
            "boot": (lambda: [{"dev": d} for d in
                              r.sample(["hd", "cdrom", "network", "fd"], r.randint(0, 4))])
            if ctx["boot"] == "os" else OMIT,
            "smbios": lambda: {"mode": r.choice(["emulate", "sysinfo"] if ctx["running"]
                                                else ["emulate", "host", "sysinfo"])},
            "bios": lambda: self.map_value(path + ("bios",), kid(field, "bios"), r, ctx,
                                           {"useserial": (lambda: r.random() < 0.5)
                                            if ctx["serials"] else False}),
        }
        if u == "pflash":
            code, vars_ = (OVMF_CODE_SB, OVMF_VARS_SB) if ctx["secure"] else (OVMF_CODE, OVMF_VARS)
            want["loader"] = lambda: self.map_value(
                path + ("loader",), kid(field, "loader"), r, ctx,
                {"value": code, "type": "pflash", "readonly": True,
                 "secure": ctx["secure"] if ctx["secure"] else
                 (lambda: False) if ctx["family"] == "q35" else OMIT})
            want["nvram"] = lambda: self.map_value(
                path + ("nvram",), kid(field, "nvram"), r, ctx,
                {"value": f"{self.host.nvram_dir}/{ctx['name']}_VARS.fd",
                 "template": vars_ if ctx["running"] else (lambda: vars_)})
        elif u == "rom":
            want["loader"] = lambda: self.map_value(
                path + ("loader",), kid(field, "loader"), r, ctx,
                {"value": "/usr/share/seabios/bios-256k.bin", "type": "rom",
                 "secure": OMIT,
                 "readonly": lambda: True})
        if ctx["running"] and u == "pflash":
            want["smbios"] = OMIT
        out = self.map_value(path, field, r, ctx, want)
        menu = out.get("bootmenu")
        if isinstance(menu, dict) and not menu.get("enable"):
            menu.pop("timeout", None)  # libvirt drops it: validate refuses
        if out.get("smbios", {}).get("mode") == "sysinfo":
            ctx["sysinfo"] = True
        return out

    def g_features(self, path, field, r, ctx):
        return ctx["features"]

    def g_cpu(self, path, field, r, ctx, force=False):
        nv = ctx["nv"]
        running = ctx["running"]
        modes = self.allowed(path + ("mode",), kid(field, "mode"))
        if running:  # TCG has no host CPU to pass through
            modes = [m for m in modes if m != "host-passthrough"]
        mode = r.choice(modes)
        ctx["cpu_mode"] = mode

        def model():
            m = {"value": r.choice(["qemu64", "qemu32"] if running else self.host.cpu_models)}
            if r.random() < 0.5:
                m["fallback"] = r.choice(["allow", "forbid"])
            return m

        def topology():
            facs = self.factor(nv, r)
            t = {"sockets": facs[0], "cores": facs[2], "threads": facs[3]}
            if facs[1] != 1 or r.random() < 0.3:
                t["dies"] = facs[1]
            return t
        want = {"mode": lambda: mode,
                "model": model if mode == "custom" or not running else OMIT,
                "topology": topology,
                "numa": {"cell": [dict(c) for c in ctx["numa"]]} if ctx["numa"] else OMIT,
                "check": (lambda: "none") if running else
                (lambda: r.choice(self.allowed(path + ("check",), kid(field, "check")))),
                }
        out = self.map_value(path, field, r, ctx, want)
        # what libvirt drops by mode is not made (validate refuses it)
        m = out.get("mode", "custom")
        if m != "custom":
            out.pop("match", None)
        if m in ("host-passthrough", "maximum"):
            out.pop("model", None)
        if m == "custom" and "model" not in out:
            out.pop("check", None)
        if not force and not out and r.random() < 0.5:
            return OMIT
        return out

    @staticmethod
    def factor(n, r):
        """sockets, dies, cores, threads whose product is n."""
        parts = [1, 1, 1, 1]
        m = n
        p = 2
        while m > 1:
            while m % p == 0:
                parts[r.randrange(4)] *= p
                m //= p
            p += 1
        return parts

    def g_clock(self, path, field, r, ctx):
        out = self.map_value(path, field, r, ctx, {})
        if not isinstance(out, dict):
            return out
        off = out.get("offset")
        for key, with_ in (("timezone", "timezone"), ("start", "absolute"),
                           ("adjustment", "variable"), ("basis", "variable")):
            if off != with_:
                out.pop(key, None)
        if off == "timezone":
            out.setdefault("timezone", r.choice(TIMEZONES))
        if off == "absolute":
            out["start"] = r.choice([0, 1234567890, 1700000000])
        if off == "variable" and "adjustment" in out:
            out["adjustment"] = str(r.choice([-3600, 0, 1, 86400]))
        return out

    def g_devices(self, path, field, r, ctx):
        # graphics and audio first: channels, audio and sound depend on them
        graphics = self.graphics(r, ctx) if r.random() < 0.5 else OMIT
        ctx["spice"] = graphics is not OMIT and any(g["type"] == "spice" for g in graphics)
        ctx["audio_ids"] = []
        audio = self.audios(r, ctx) if r.random() < 0.3 else OMIT
        if audio is OMIT:
            ctx["audio_ids"] = []
        want = {
            "serial": lambda: [self.serial(i, r) for i in range(ctx["serials"])],
            "disk": lambda: self.disks(path + ("disk",), kid(field, "disk"), r, ctx),
            "interface": lambda: self.interfaces(path + ("interface",),
                                                 kid(field, "interface"), r, ctx),
            "graphics": graphics,
            "console": lambda: self.consoles(r, ctx),
            "controller": lambda: self.controllers(path + ("controller",),
                                                   kid(field, "controller"), r, ctx),
            "video": lambda: self.video(r, ctx),
            "channel": lambda: self.channels(r, ctx) or OMIT,
            "input": lambda: self.inputs(r, ctx),
            "memballoon": lambda: self.memballoon(path + ("memballoon",),
                                                  kid(field, "memballoon"), r, ctx),
            "rng": lambda: self.rngs(r, ctx),
            "tpm": lambda: self.tpms(r, ctx),
            "audio": audio,
            "sound": lambda: self.sounds(r, ctx),
            "watchdog": lambda: self.watchdog(path + ("watchdog",), kid(field, "watchdog"),
                                              r, ctx),
        }
        out = self.map_value(path, field, r, ctx, want)
        ctx["devices_made"] = set(out)
        if ctx["serials"] and "serial" not in out:
            out["serial"] = want["serial"]()
        if ctx["boot"] == "dev" and not any(
                "boot" in d for l in ("disk", "interface") for d in out.get(l, [])):
            out.setdefault("interface", []).append(
                {"type": "user", "boot": {"order": ctx["next_order"]}})
        return out

    # -- the devices and domain elements beyond the first table's: each
    #    made only in the combinations libvirt 9.0's QEMU driver takes

    def controllers(self, path, field, r, ctx):
        """At most one of each type, index 0, with the model libvirt would
        otherwise fill in."""
        out = []
        types = self.narrow("devices.controller[].type", ["usb", "virtio-serial", "scsi"])
        for t in r.sample(types, r.randint(min(1, len(types)), len(types))):
            # libvirt fills in index 0 and a model left out
            c = {"type": t, "index": 0} if r.random() < 0.7 else {"type": t}
            if t in ("usb", "scsi"):
                if r.random() < 0.7:
                    c["model"] = self.pick(r, "devices.controller[].model",
                                           ["qemu-xhci", "piix3-uhci"] if t == "usb" else
                                           ["virtio-scsi", "virtio-scsi", "lsilogic"])
                    if c["model"] is None:
                        continue
            else:
                for key in ("ports", "vectors"):
                    if r.random() < 0.3:
                        c[key] = self.generic(path + (0, key), kid(field["kids"][0], key), r)
            out.append(c)
        return out

    # what libvirt fills in of a video model (KNOWN_BUGS): given whole
    VIDEO = {
        "virtio": {},
        "vga": {"vram": [16384, 32768]},
        "bochs": {"vram": [16384, 32768]},
        "qxl": {"ram": [65536, 131072], "vram": [65536], "vgamem": [16384, 32768]},
    }

    def video(self, r, ctx):
        t = self.pick(r, "devices.video[].model.type", sorted(self.VIDEO))
        if t is None:
            return OMIT
        m = {"type": t}
        for key, vals in self.VIDEO[t].items():
            if r.random() < 0.6:
                m[key] = r.choice(vals)
        for key, v in (("heads", 1), ("primary", True)):
            if r.random() < 0.6:
                m[key] = v
        return [{"model": m}]

    def channels(self, r, ctx):
        out = []
        if r.random() < 0.7:
            out.append({"type": "unix", "target": {"type": "virtio",
                                                   "name": "org.qemu.guest_agent.0"}})
        if ctx.get("spice") and r.random() < 0.6:
            out.append({"type": "spicevmc", "target": {"type": "virtio",
                                                       "name": "com.redhat.spice.0"}})
        for i in range(r.choice([0, 0, 1])):
            out.append({"type": "pty", "target": {"type": "virtio", "name": f"org.vrgen.{i}"}})
        r.shuffle(out)
        return [c for c in out if self.narrow("devices.channel[].type", [c["type"]]) and
                self.narrow("devices.channel[].target.type", [c["target"]["type"]])]

    def inputs(self, r, ctx):
        """Distinct (type, bus) pairs; a bus left out is libvirt's (usb for
        a tablet, ps2 for the others)."""
        pairs = [("tablet", "usb"), ("tablet", "virtio"), ("keyboard", "usb"),
                 ("keyboard", "ps2"), ("keyboard", "virtio"), ("mouse", "ps2"),
                 ("mouse", "usb"), ("mouse", "virtio")]
        pairs = [(t, b) for t, b in pairs if self.narrow("devices.input[].type", [t]) and
                 self.narrow("devices.input[].bus", [b])]
        out = []
        for t, b in r.sample(pairs, min(len(pairs), r.randint(1, 3))):
            out.append({"type": t, "bus": b} if b != INPUT_BUS[t] or r.random() < 0.6
                       else {"type": t})
        return out

    def memballoon(self, path, field, r, ctx):
        m = self.pick(r, "devices.memballoon.model", ["none"] if r.random() < 0.25 else ["virtio"])
        if m is None:
            return OMIT
        return {"model": m} if m == "none" else self.map_value(path, field, r, ctx, {"model": m})

    def rngs(self, r, ctx):
        out = []
        if not (self.narrow("devices.rng[].model", ["virtio"]) and
                self.narrow("devices.rng[].backend.model", ["random"])):
            return OMIT
        for _ in range(r.choice([1, 1, 2])):
            g = {"model": "virtio",
                 "backend": {"model": "random",
                             "value": r.choice(["/dev/urandom", "/dev/random"])}}
            if r.random() < 0.2:
                del g["backend"]["value"]  # libvirt's: /dev/random
            elif r.random() < 0.2 and self.narrow("devices.rng[].backend.model", ["builtin"]):
                g["backend"] = {"model": "builtin"}
            if r.random() < 0.4:
                g["rate"] = {"bytes": self.generic(("devices", "rng", 0, "rate", "bytes"),
                                                   {"kind": "uint", "min": 1, "max": 1}, r)}
                if r.random() < 0.5:
                    g["rate"]["period"] = self.generic(
                        ("devices", "rng", 0, "rate", "period"),
                        {"kind": "uint", "min": 1, "max": 1}, r)
            out.append(g)
        return out

    def tpms(self, r, ctx):
        m = self.pick(r, "devices.tpm[].model", ["tpm-crb", "tpm-tis"])
        # not in running guests: swtpm makes the TPM's keys when the guest
        # first starts, seconds of CPU, and on a loaded host libvirt stops
        # waiting for its socket ("swtpm socket did not show up")
        if not self.host.tpm_emulator or m is None or ctx["running"] or \
                not self.narrow("devices.tpm[].backend.type", ["emulator"]) or \
                not self.narrow("devices.tpm[].backend.version", ["2.0"]):
            return OMIT
        return [{"model": m, "backend": {"type": "emulator", "version": "2.0"}}]

    def audios(self, r, ctx):
        types = self.narrow("devices.audio[].type", ["none"] + (
            ["spice"] if ctx.get("spice") and not ctx["running"] else []))
        if not types:
            return OMIT
        ids = sorted(r.sample([1, 2, 3], r.choice([1, 1, 2])))
        out = [{"id": str(i), "type": r.choice(types)} for i in ids]
        ctx["audio_ids"] = [a["id"] for a in out]
        return out

    def sounds(self, r, ctx):
        out = []
        models = self.narrow("devices.sound[].model", ["ich9", "ich6", "ac97"])
        codecs = self.narrow("devices.sound[].codec[].type", ["duplex", "micro", "output"])
        for m in r.sample(models, min(len(models), r.choice([1, 1, 2]))):
            snd = {"model": m}
            if m in ("ich6", "ich9") and codecs and r.random() < 0.4:
                snd["codec"] = [{"type": t} for t in
                                r.sample(codecs, min(len(codecs), r.randint(1, 2)))]
            if ctx.get("audio_ids") and r.random() < 0.5:
                snd["audio"] = {"id": r.choice(ctx["audio_ids"])}
            out.append(snd)
        return out

    def watchdog(self, path, field, r, ctx):
        m = self.pick(r, "devices.watchdog.model",
                      ["i6300esb"] + (["ib700"] if ctx["family"] == "pc" else []))
        if m is None:
            return OMIT
        return self.map_value(path, field, r, ctx, {"model": m})

    def g_clock_timer(self, path, field, r, ctx):
        out = []
        names = self.narrow("clock.timer[].name", ["rtc", "pit", "hpet"])
        for name in r.sample(names, min(len(names), r.randint(1, 3))):
            t = {"name": name}
            tp = None
            if name == "rtc":
                if r.random() < 0.7:
                    tp = self.pick(r, "clock.timer[].tickpolicy", ["delay", "catchup"])
                if r.random() < 0.5:
                    t["track"] = r.choice(self.allowed(path + (0, "track"),
                                                       kid(field["kids"][0], "track")))
            elif name == "pit":
                tp = self.pick(r, "clock.timer[].tickpolicy", ["delay", "catchup", "discard"])
            else:
                t["present"] = r.random() < 0.5
            if tp:
                t["tickpolicy"] = tp
            out.append(t)
        return out

    def g_pm(self, path, field, r, ctx):
        # each with enabled: empty ones are dropped by libvirt (KNOWN_BUGS)
        ctx.setdefault("made", set()).add("pm")
        out = {}
        for k in r.sample(["suspend-to-mem", "suspend-to-disk"], r.randint(1, 2)):
            out[k] = {"enabled": r.random() < 0.5}
        return out

    def g_memoryBacking(self, path, field, r, ctx):
        out = {}
        if r.random() < 0.4:
            out["nosharepages"] = True
        if r.random() < 0.3:
            out["discard"] = True
        if r.random() < 0.2 and not ctx["running"]:
            out["locked"] = True
        if r.random() < 0.5:
            src = r.choice(self.allowed(path + ("source", "type"),
                                        kid(kid(field, "source"), "type")))
            out["source"] = {"type": src}
            if src in ("file", "memfd") and r.random() < 0.5:
                out["access"] = {"mode": r.choice(["shared", "private"])}
        if r.random() < 0.3:
            a = {"mode": r.choice(["immediate", "ondemand"])}
            if a["mode"] == "immediate" and r.random() < 0.5:
                a["threads"] = r.randint(1, 4)
            out["allocation"] = a
        return out or OMIT

    def g_iothreads(self, path, field, r, ctx):
        ctx.setdefault("made", set()).add("iothreads")
        return r.randint(0, 4)

    def g_memory(self, path, field, r, ctx):
        return self.memory(path, r, ctx)

    def serial(self, i, r):
        s = {"type": "pty"}
        if r.random() < 0.6:
            s["target"] = {"port": i}
        return s

    def consoles(self, r, ctx):
        out = []
        for i in range(r.choice([0, 1, 1, 2])):
            c = {"type": "pty"}
            if i == 0 and r.random() < 0.6:
                c["target"] = {"type": "serial"}
                if r.random() < 0.5:
                    c["target"]["port"] = 0
            elif i > 0 or r.random() < 0.8:
                c["target"] = {"type": "virtio"}  # libvirt numbers its port
            out.append(c)
        return out

    def graphics(self, r, ctx):
        out = []
        for t in r.sample(["vnc", "spice"], r.choice([0, 1, 1, 2])):
            g = {"type": t}
            if ctx["running"]:
                g["listen"] = "127.0.0.1"
                choice = r.choice(["auto", "autoport", "minus", "none"])
            else:
                if r.random() < 0.6:
                    g["listen"] = r.choice(["127.0.0.1", "0.0.0.0", "::1", "localhost"])
                choice = r.choice(["auto", "autoport", "minus", "port", "port-no",
                                   "none"])
            if choice == "auto":
                g["autoport"] = True
            elif choice == "autoport":
                g["autoport"], g["port"] = True, -1
            elif choice == "port-no" and ctx["running"]:
                g["autoport"] = True
            elif choice == "minus":
                g["port"] = -1
            elif choice == "port":
                g["port"] = r.randint(5900, 65535)
            elif choice == "port-no":
                g["port"], g["autoport"] = r.randint(5900, 65535), False
            if r.random() < 0.3:
                g["keymap"] = r.choice(KEYMAPS)
            if t == "spice" and not g.get("autoport") and g.get("port", -1) <= 0:
                g.pop("listen", None)  # a SPICE server without a port listens nowhere
            out.append(g)
        return out

    def boot_order(self, ctx, r):
        if ctx["boot"] != "dev" or r.random() < 0.4:
            return OMIT
        o = ctx["next_order"]
        ctx["next_order"] += r.choice([1, 1, 2])
        return {"order": o}

    def disks(self, path, field, r, ctx):
        out = []
        used = set()
        item = field["kids"][0]
        n = r.choice([0, 1, 1, 2, 3]) if ctx["running"] else r.choice([0, 1, 2, 3, 4])
        for i in range(n):
            d = self.disk(path + (i,), item, r, ctx, used)
            if d:
                out.append(d)
        return out

    def target_name(self, bus, used, r):
        prefix = BUS_PREFIX[bus]
        limit = PREFIX_LIMIT.get(prefix, 26)
        free = [prefix + chr(97 + i) for i in range(limit) if prefix + chr(97 + i) not in used]
        if not free:
            return None
        name = free[0] if r.random() < 0.7 else r.choice(free)
        used.add(name)
        return name

    def disk(self, path, field, r, ctx, used):
        running, fam = ctx["running"], ctx["family"]
        devices = ["disk", "disk", "cdrom", "floppy", "lun"]
        if running:
            devices = ["disk", "disk", "cdrom"]
        device = r.choice(devices)
        buses = [b for b in DEVICE_BUSES[device]
                 if not (b == "ide" and fam != "pc")
                 and not (running and b in ("xen", "sd", "usb"))]
        bus = r.choice(buses)
        tgt = self.target_name(bus, used, r)
        if tgt is None:
            return None
        name = ctx.get("name", "x")
        img = f"{self.host.image_dir}/{name}-{tgt}"
        if device == "lun":
            dtype = "block"
        elif running:
            dtype = "file"
        else:
            dtype = r.choice(["file", "file", "block", "volume"])
        fmt = None
        if dtype == "file":
            fmt = r.choice(["raw", "qcow2"]) if device == "disk" else "raw"
            src = {"file": img + (".qcow2" if fmt == "qcow2" else ".img")}
        elif dtype == "block":
            src = {"dev": f"/dev/vrgen-{name}-{tgt}"}
        else:
            src = {"pool": r.choice(["default", "vrgen"]), "volume": f"{name}-{tgt}.img"}
        empty = device in ("cdrom", "floppy") and r.random() < 0.5
        if empty:
            dtype = "file"  # an empty drive's type is file, whatever was asked
        d = {}
        want = {
            "type": (lambda: dtype) if dtype == "file" else dtype,
            "device": device if device != "disk" else (lambda: "disk"),
            "source": OMIT if empty else src,
            "target": {"dev": tgt, "bus": bus} if (r.random() < 0.7 or BUS_PREFIX[bus] == "sd"
                                                   and bus != "scsi")
            else {"dev": tgt},
            "driver": lambda: self.driver(path + ("driver",), kid(field, "driver"), r, ctx,
                                          fmt if running and not empty else None),
            "readonly": (lambda: True) if device == "cdrom" else
            (lambda: r.random() < 0.5),
            "boot": lambda: self.boot_order(ctx, r),
            "shareable": lambda: r.random() < 0.5,
            "volume": OMIT,  # storage() makes the volumes
        }
        if running and device == "disk" and not empty:
            ctx.setdefault("images", []).append((src["file"], fmt))
        elif running and device == "cdrom" and not empty:
            ctx.setdefault("images", []).append((src["file"], "raw"))
            want["driver"] = lambda: {"name": "qemu", "type": "raw"}
        d = self.map_value(path, field, r, ctx, want)
        return d

    def driver(self, path, field, r, ctx, fmt):
        want = {"name": "qemu",
                "type": fmt if fmt else (lambda: r.choice(self.allowed(path + ("type",),
                                                                       kid(field, "type"))))}
        if fmt is None and r.random() < 0.5:
            want["type"] = OMIT
        d = self.map_value(path, field, r, ctx, want)
        if d.get("io") == "native" and d.get("cache") not in ("none", "directsync"):
            d["cache"] = r.choice(["none", "directsync"])
        return d

    def interfaces(self, path, field, r, ctx):
        out = []
        n = r.choice([0, 1, 1, 2, 3])
        for i in range(n):
            t = "user" if ctx["running"] else r.choice(["network", "bridge", "user", "direct"])
            src = {"network": {"network": r.choice(["default", "vrgen net", "lab"])},
                   "bridge": {"bridge": r.choice(["br0", "virbr9"])},
                   "direct": {"dev": "eth0", "mode": r.choice(["vepa", "bridge", "private",
                                                               "passthrough"])},
                   "user": OMIT}[t]
            if t == "direct" and r.random() < 0.3:
                del src["mode"]

            def mac():
                while True:
                    m = "52:54:00:%02x:%02x:%02x" % tuple(r.getrandbits(8) for _ in range(3))
                    if m not in ctx["macs"]:
                        ctx["macs"].add(m)
                        return {"address": m.upper() if r.random() < 0.2 else m}
            out.append(self.map_value(path + (i,), field["kids"][0], r, ctx,
                                      {"type": t, "source": src, "mac": mac,
                                       "model": lambda: {"type": r.choice(
                                           NIC_MODELS[:3] if ctx["running"] else NIC_MODELS)},
                                       "boot": lambda: self.boot_order(ctx, r)}))
        return out

    def g_xml(self, path, field, r, ctx):
        out = {}
        # a fragment gives no device that a key gives as well (one watchdog;
        # rngs and inputs would be found by position)
        made = ctx.get("devices_made", set())
        frags = [d for d in DEVICE_FRAGMENTS if d[1].split("[")[0] not in made]
        devs = r.sample(frags, r.randint(0, min(2, len(frags))))
        if ctx["family"] != "pc":
            devs = [d for d in devs if d[1] != "panic"]
        devs = [d[0] for d in devs]
        if not ctx["running"] and r.random() < 0.15:
            # a disk given as raw XML, beside (or without) devices.disk
            devs.append(f"<disk type='file' device='disk'><source file='{self.host.image_dir}/"
                        f"{ctx['name']}-raw.img'/><target dev='sdz' bus='sata'/></disk>")
        if devs:
            out["devices"] = devs
        frags = [d for d in DOMAIN_FRAGMENTS if d[1] not in ctx.get("made", set())]
        doms = [d[0] for d in r.sample(frags, r.randint(0, len(frags)))]
        if ctx.get("sysinfo") or r.random() < 0.2:
            doms.append(SYSINFO)
        if doms:
            out["domain"] = doms
        return out or OMIT


    # -- volumes and the cloud-init seed: the agent's keys, in the suite's
    #    pool (POOL), in a fraction of the files (STORAGE_ODDS)

    def storage(self, sem, r, ctx):
        """Disks of their own whose volumes the agent makes (an empty raw
        or qcow2 volume, an overlay over the base image, a copy of it), a
        cloudInit seed, or both. Parts of the seed are now and then files
        beside the file (ctx["files"])."""
        h = self.host
        name = sem["name"]
        make_vols = r.random() < 0.75
        make_seed = not make_vols or r.random() < 0.6
        devs = sem.setdefault("devices", {})
        disks = devs.setdefault("disk", [])
        used = {d["target"]["dev"] for d in disks}
        fam = ctx["family"]
        files = ctx.setdefault("files", {})
        n_vols = r.choice([1, 1, 2]) if make_vols else 0
        for _ in range(n_vols):
            how = r.choice(["empty", "empty", "overlay", "clone"])
            fmt = "qcow2" if how == "overlay" else r.choice(["raw", "qcow2"])
            bus = r.choice(["virtio", "virtio", "sata", "scsi"] + (["ide"] if fam == "pc" else []))
            tgt = self.target_name(bus, used, r)
            if tgt is None:
                continue
            vol = f"{name}-{tgt}.{'qcow2' if fmt == 'qcow2' else 'img'}"
            base = {"path": h.base_path} if r.random() < 0.5 else {"pool": h.pool, "volume": BASE}
            spec = {}
            if how == "empty":
                spec["capacity"] = r.choice([1, 16, 64] if fmt == "raw" else
                                            [1, 64, 100, 1024, 4096]) * 1024
                if r.random() < 0.4:
                    spec["allocation"] = 0
            elif how == "overlay":
                # never below the base's: the agent refuses that
                spec["capacity"] = r.choice([BASE_MIB, 128, 1024]) * 1024
                if r.random() < 0.6:
                    base["format"] = "qcow2"
                spec["backingStore"] = base
            else:
                if r.random() < 0.5:
                    # the base's, or above it (grown once copied)
                    spec["capacity"] = r.choice([BASE_MIB, 96, 128]) * 1024
                spec["clone"] = base
            d = {"source": {"pool": h.pool, "volume": vol},
                 "target": {"dev": tgt, "bus": bus} if r.random() < 0.7 or
                 (BUS_PREFIX[bus] == "sd" and bus != "scsi") else {"dev": tgt}}
            if r.random() < 0.6:
                d["type"] = "volume"
            if r.random() < 0.3:
                d["device"] = "disk"
            # the format: the disk's driver type, or both; a raw volume
            # may give it as the volume's alone, or neither (validate
            # refuses another format the disk would read as raw)
            say = r.choice(["driver", "driver", "both"] +
                           (["volume", "none"] if fmt == "raw" else []))
            if say in ("driver", "both"):
                d["driver"] = {"name": "qemu", "type": fmt}
            if say in ("volume", "both"):
                spec["target"] = {"format": {"type": fmt}}
            d["volume"] = spec
            disks.insert(r.randint(0, len(disks)), d)
        if not make_seed:
            return
        ci = {}
        marker = f"vrgen-marker-{r.getrandbits(32):08x}"
        ci["user-data"] = self.seed_part(files, f"{name}.user-data",
                                         self.user_data(r, marker, name), r)
        ci["meta-data"] = self.seed_part(files, f"{name}.meta-data", self.meta_data(r, name), r)
        if r.random() < 0.5:
            ci["network-config"] = self.seed_part(files, f"{name}.network-config",
                                                  self.network_config(r), r)
        # the seed goes beside the first volume, else to default: the
        # suite's pool is named when there is no volume, and now and then
        if not n_vols or r.random() < 0.4:
            ci["pool"] = h.pool
        roll = r.random()
        if roll < 0.4:
            bus = r.choice(["sata", "scsi"] + (["ide"] if fam == "pc" else []))
            ci["target"] = {"bus": bus}
            if roll < 0.2:
                dev = self.target_name(bus, used, r)
                if dev:
                    ci["target"]["dev"] = dev
        sem["cloudInit"] = ci

    @staticmethod
    def seed_part(files, fname, text, r):
        """A part of the seed: its text, or now and then a file beside."""
        if r.random() < 0.2:
            files[fname] = text
            return {"file": fname}
        return text

    def user_data(self, r, marker, name):
        """user-data: #cloud-config (YAML), or a script (not YAML). Either
        holds the marker, which the suite finds in the seed's image."""
        if r.random() < 0.35:
            lines = [r.choice(["#!/bin/sh", "#!/bin/bash"]),
                     f"echo '{marker}' > /run/vrgen-marker"]
            lines += r.sample(["set -e", "echo 'a: [b' # not YAML: a script",
                               "touch /run/vrgen\techo tab", "  indented: line",
                               "exit 0"], r.randint(0, 3))
            return "\n".join(lines) + r.choice(["\n", ""])
        optional = {
            "hostname": name,
            "package_update": r.random() < 0.5,
            "packages": r.sample(["vim", "curl", "qemu-guest-agent"], r.randint(1, 3)),
            "runcmd": [["sh", "-c", "echo 'ok: yes'"], "echo two", "echo '#three'"],
            "bootcmd": ["echo boot > /run/boot"],
            "write_files": [{"path": "/etc/vrgen.conf", "content": "a: b\n# c\n",
                             "permissions": "0644"}],
            "users": ["default", {"name": "vr", "groups": ["wheel", "adm"], "shell": "/bin/sh",
                                  "ssh_authorized_keys": ["ssh-ed25519 AAAAC3Nza vr@gen"]}],
            "timezone": r.choice(TIMEZONES),
            "ntp": {"enabled": True, "servers": ["0.pool.ntp.org"]},
            "ssh_pwauth": False,
            "chpasswd": {"expire": False},
        }
        doc = {"final_message": marker}
        for k in r.sample(sorted(optional), r.randint(0, 5)):
            doc[k] = optional[k]
        keys = list(doc)
        r.shuffle(keys)
        doc = {k: doc[k] for k in keys}
        head = "#cloud-config" + r.choice(["", "", " "])
        return head + "\n" + yaml_text(doc, r)

    def meta_data(self, r, name):
        """meta-data: a YAML mapping; without instance-id now and then
        (the agent writes the domain's UUID), which is never in flow style
        (validate refuses that)."""
        doc = {"local-hostname": name}
        if r.random() < 0.5:
            doc["instance-id"] = f"iid-{name}-{r.getrandbits(16):04x}"
        if r.random() < 0.3:
            doc["public-keys"] = ["ssh-ed25519 AAAAC3Nza vr@gen"]
        if r.random() < 0.2:
            doc["dsmode"] = "local"
        keys = list(doc)
        r.shuffle(keys)
        doc = {k: doc[k] for k in keys}
        # flow style only with instance-id (validate refuses it without),
        # and not while AVOID_KNOWN (KNOWN_SPELLING_BUGS)
        text = yaml_text(doc, r, flow_ok="instance-id" in doc)
        if r.random() < 0.2:
            text = "# meta-data of " + name + "\n" + text
        return text

    def network_config(self, r):
        """network-config: version 2 (netplan) or 1."""
        if r.random() < 0.7:
            eth = {"dhcp4": True}
            if r.random() < 0.4:
                eth = {"match": {"name": "e*"}, "set-name": "eth0", "dhcp4": True,
                       "dhcp6": r.random() < 0.5}
            doc = {"version": 2, "ethernets": {"eth0": eth}}
        else:
            doc = {"version": 1, "config": [{"type": "physical", "name": "eth0",
                                             "subnets": [{"type": "dhcp"}]}]}
        return yaml_text(doc, r)

# ---------------------------------------------------------- spelling


class Speller:
    """Spells a meaning as a tree of Nodes: every form the format takes."""

    def __init__(self, schema, r):
        self.schema, self.r = schema, r
        # dotted paths not written {value: x}, and the lists not written
        # as their one item (KNOWN_SPELLING_BUGS)
        self.avoid = set()

    def tree(self, sem):
        if AVOID_KNOWN and KNOWN_SPELLING_BUGS and "cloudInit" in sem:
            self.avoid = SEED_RAW | {"devices.disk"}
        t = self.node((), self.schema, sem)
        r = self.r
        if r.random() < 0.3:
            r.shuffle(t.kids)  # keys in any order
        else:
            # name first reads best; the rest in the table's order
            t.kids.sort(key=lambda kv: kv[0] != "name")
        t.style = "block"
        return t

    def node(self, path, field, v):
        r = self.r
        k = field["kind"]
        if k == "map" and isinstance(v, bool):
            # an element that may be empty: true (or {}) for it, false for
            # its absence
            assert field.get("empty_ok"), f"{dotted(path)}: {v} for a mapping"
            if v and r.random() < 0.3:
                n = Node("map", field, [], style="flow")
            else:
                n = self.scalar(field, v)
            self.comment(n)
            return n
        if k == "map" and not isinstance(v, dict):
            v = {field["shorthand"]: v}
        if k in ("map",):
            keys = [kf["key"] for kf in field["kids"]]
            assert not set(v) - set(keys), f"{dotted(path)}: no key {set(v) - set(keys)}"
            kids = [(key, self.node(path + (key,), kid(field, key), v[key]))
                    for key in keys if key in v]
            for key, kn in kids:
                if kid(field, key).get("alias") and r.random() < 0.2:
                    kn.alias = kid(field, key)["alias"]  # disks for disk
            if r.random() < 0.15 and path:
                r.shuffle(kids)
            n = Node("map", field, kids)
            sh = field.get("shorthand")
            roll = r.random()
            if sh and len(kids) == 1 and kids[0][0] == sh and kids[0][1].kind in ("scalar", "seq") \
                    and roll < 0.5:
                n.style = "short"
            elif not sh and kids and all(true_ish(kn) for _, kn in kids) and roll < 0.4:
                n.style = "names"  # features: [acpi, apic]
                n.text = r.choice(["single" if len(kids) == 1 else "flow", "flow", "block",
                                   "compact"])
            elif roll < 0.4 or not path:
                n.style = "flow" if path and roll < 0.4 else "block"
            self.comment(n)
            return n
        if k in ("list", "flags", "xml"):
            item = field["kids"][0] if k == "list" else field
            vals = v if isinstance(v, list) else [v]
            kids = [self.node(path + (i,), item, x) if k == "list" else
                    self.scalar(item, x, item_of=k) for i, x in enumerate(vals)]
            n = Node("seq", field, kids)
            roll = r.random()
            if len(kids) == 1 and roll < 0.3 and (k != "list" or kids[0].kind == "scalar"
                                                  or kids[0].style == "short"
                                                  or r.random() < 0.5) \
                    and dotted(path) not in self.avoid:
                n.style = "single"
            elif roll < 0.6:
                n.style = "flow"
            elif r.random() < 0.3:
                n.style = "compact"  # "key:\n- item" at the key's indentation
            self.comment(n)
            return n
        n = self.scalar(field, v)
        if r.random() < 0.08 and field["kind"] != "bool" and dotted(path) not in self.avoid:
            n.style = "wrapped"
        self.comment(n)
        return n

    def comment(self, n):
        if self.r.random() < 0.05:
            n.comment = self.r.choice(["note", "keep: in sync", "# twice", "ü"])

    def scalar(self, field, v, item_of=None):
        r = self.r
        k = field["kind"]
        q = r.choice(["plain", "plain", "plain", "single", "double"])
        if item_of == "xml":
            s = v
            q = "literal" if "\n" in v else r.choice(["plain", "single", "double"])
        elif k in ("bool", "presence"):
            s, q = r.choice([["true", "True", "TRUE"], ["false", "False", "FALSE"]][not v]), "plain"
        elif k == "map" and isinstance(v, bool):
            # lowercase only: the parser reads no other spelling as an
            # element's presence (True is refused there, while a bool
            # field takes it)
            s, q = ("true" if v else "false"), "plain"
        elif k in ("uint", "int"):
            s = str(v)
            if q != "plain" and r.random() < 0.7:
                q = "plain"
        elif k == "size":
            s = r.choice(size_spellings(v, r))
            if q == "plain" and r.random() < 0.1:
                q = "double"
                s = r.choice([s, " " + s + " "]) if " " in s else s
        elif field.get("check") == "cpuset" and isinstance(v, (set, frozenset)):
            s = cpuset_spell(v, r)
        elif field.get("check") == "uuid":
            s = r.choice([v, v.upper(), v.replace("-", ""), v[:8] + "-" + v[8:].replace("-", "")])
        else:
            s = v
            if "\n" in s and r.random() < 0.6:
                q = "literal"
        n = Node("scalar", field, value=self.meaning(field, v, s), text=(q, s),
                 style="plain")
        return n

    @staticmethod
    def meaning(field, v, s):
        if isinstance(v, (set, frozenset)):
            return cpuset_format(v)
        if field.get("check") == "uuid":
            return v.lower()
        return v


def spell(schema, sem, r):
    return Speller(schema, r).tree(sem)


def respell(schema, path, value, r, sem=None):
    """One node for a new value at path (of the file whose meaning is
    sem: what KNOWN_SPELLING_BUGS says of it is avoided)."""
    sp = Speller(schema, r)
    if AVOID_KNOWN and KNOWN_SPELLING_BUGS and sem and "cloudInit" in sem:
        sp.avoid = SEED_RAW | {"devices.disk"}
    return sp.node(path, field_at(schema, path), value)


# ---------------------------------------------------------- expectations
#
# What libvirt's XML must show: steps from <domain> down (each a tag and how
# to pick the element: None, a position from 1, ('@', attr, value) or
# (child, attr, value)), then what to read: ('attr', name), ('text',),
# ('count',) or ('list', attr).


UNCHANGED = "(as before the edit)"


class Expect:
    def __init__(self, steps, what, value, live=False):
        self.steps, self.what, self.value, self.live = steps, what, value, live

    def xpath(self):
        if self.what[0] == "volcap":
            return f"the capacity of volume {self.what[1]}/{self.what[2]}"
        if self.what[0] == "seed":
            return f"the seed {self.what[1]}/{self.what[2]} holds {self.what[3]!r}"
        s = "/domain"
        for tag, pred in self.steps:
            s += "/" + tag
            if isinstance(pred, int):
                s += f"[{pred}]"
            elif pred and pred[0] == "@all":
                s += "[" + " and ".join(f"@{a}='{v}'" for a, v in pred[1]) + "]"
            elif pred and pred[0] == "@":
                s += f"[@{pred[1]}='{pred[2]}']"
            elif pred:
                s += f"[{pred[0]}/@{pred[1]}='{pred[2]}']"
        if self.what[0] == "attr":
            s += "/@" + self.what[1]
        elif self.what[0] == "text":
            pass
        elif self.what[0] == "count":
            s = f"count({s})"
        elif self.what[0] == "list":
            s += "/@" + self.what[1] + " (in order)"
        return s + (" (live)" if self.live else "")

    def find(self, root):
        els = [root]
        for tag, pred in self.steps:
            nxt = []
            for e in els:
                cands = [c for c in e if c.tag == tag]
                if isinstance(pred, int):
                    cands = cands[pred - 1:pred]
                elif pred and pred[0] == "@all":
                    cands = [c for c in cands if all(c.get(a) == v for a, v in pred[1])]
                elif pred and pred[0] == "@":
                    cands = [c for c in cands if c.get(pred[1]) == pred[2]]
                elif pred:
                    cands = [c for c in cands if c.find(pred[0]) is not None and
                             (c.find(pred[0]).get(pred[1]) or "").lower() == pred[2].lower()]
                nxt.extend(cands)
            els = nxt
        w = self.what
        if w[0] == "count":
            return len(els)
        if w[0] == "list":
            return [e.get(w[1]) for e in els]
        if not els:
            return None
        if w[0] == "attr":
            return els[0].get(w[1])
        return (els[0].text or "").strip() if self.value.strip() == self.value \
            else els[0].text or ""

    def to_json(self):
        return {"xpath": self.xpath(), "steps": self.steps, "what": self.what,
                "value": self.value, "live": self.live}

    @staticmethod
    def from_json(j):
        return Expect([tuple(s) if not isinstance(s[1], list) else (s[0], tuple(s[1]))
                       for s in j["steps"]], tuple(j["what"]), j["value"], j["live"])


def xml_form(field, value, host):
    """A value as libvirt's XML shows it."""
    k = field["kind"]
    if k in ("bool",):
        pair = field.get("values") or ["yes", "no"]
        return pair[0] if value else pair[1]
    if k in ("uint", "int", "size"):
        return str(value)
    c = field.get("check")
    if c == "machine":
        return host.expand(value)
    if c in ("uuid", "mac"):
        return value.lower()
    if c == "cpuset":
        return cpuset_format(cpuset_parse(value))
    return value


def steps_for(schema, sem, path):
    """The element steps and the reading for a scalar at path, from the
    table's xml paths; None where the table renders nothing."""
    steps = []
    f = schema
    for i, p in enumerate(path):
        if isinstance(p, int):
            continue
        f = kid(f, p)
        if f is None or f["xml"] is None:
            return None
        x = f["xml"]
        nxt = path[i + 1] if i + 1 < len(path) else None
        if f["kind"] == "list":
            parts = x.split("/")
            steps += [(t, None) for t in parts[:-1]]
            item = sem_at(sem, path[:i + 2]) if isinstance(nxt, int) else None
            steps.append((parts[-1], identity(f, item, nxt, dotted(path[:i + 1]))))
            f = f["kids"][0]
            continue
        if f["kind"] == "map":
            if x:
                steps += [(t, None) for t in x.split("/")]
            continue
        # a scalar
        if "@" in x:
            el, attr = x.split("@")
            if el:
                steps += [(t, None) for t in el.split("/")]
            return steps, ("attr", attr), f
        if x:
            steps += [(t, None) for t in x.split("/")]
        return steps, ("text",), f
    return steps, None, f


# How the suite finds items of lists the table gives no identity, in
# libvirt's XML: libvirt adds controllers and inputs of its own, so their
# position says nothing. Attributes of the item, or a child's.
GEN_IDENTITY = {
    "devices.controller": ["@type", "@index"],
    "devices.input": ["@type", "@bus"],
    "devices.channel": ["target@name"],
    "devices.sound": ["@model"],
    "devices.audio": ["@id"],
    "clock.timer": ["@name"],
}


def identity(list_field, item, index, list_path=None):
    """How to find a list item in libvirt's XML: by the table's identity
    (a disk's target, an interface's MAC, a graphics' type, a NUMA cell's
    id) or GEN_IDENTITY when the item gives it, else its position."""
    if item is None:
        return None
    idents = [list_field["identity"]] if list_field.get("identity") else \
        GEN_IDENTITY.get(list_path, [])
    got = []
    for ident in idents:
        el, attr = ident.split("@")
        v = item.get(el) if el else item
        if not isinstance(v, dict) or attr not in v:
            return index + 1
        v = v[attr]
        v = ("yes" if v else "no") if isinstance(v, bool) else str(v)
        got.append((el, attr, v))
    if len(got) == 1:
        el, attr, v = got[0]
        return (el, attr, v.lower()) if el else ("@", attr, v)
    if got and not any(el for el, _, _ in got):
        return ("@all", [[attr, v] for _, attr, v in got])
    return index + 1


# ---------------------------------------------------------- edits


class Edit:
    """A one-field change of a file, re-appliable to a shrunk tree."""

    def __init__(self, desc, path, op, expects, may_refuse=False, images=(),
                 must_refuse=None, files=None):
        self.desc, self.path, self.op, self.expects = desc, path, op, expects
        # libvirt may refuse it: then apply must say so (an error), never
        # report the domain in sync
        self.may_refuse = may_refuse
        # apply must refuse it, with an error that says this (a volume
        # shrunk), and change nothing: expects then say what stays
        self.must_refuse = must_refuse
        # image files (path, format) the edited file names and the runner
        # makes before applying it: a running guest opens a new disk's at
        # once
        self.images = list(images)
        # files beside the file (a seed's part) written with the edit
        self.files = dict(files or {})

    def apply(self, tree):
        return self.op(tree.clone())


# The fields whose removal has a documented default, so that removing them
# may change the domain: no "remove" edit for them.
DEFAULTED = {"vcpu.current", "currentMemory", "state", "autostart", "adopt",
             "os.type", "type"}
# Fields an edit never changes: identity, what the domain runs on, and the
# values other fields are tied to by sums and products.
FIXED = {"name", "uuid", "type", "state", "adopt", "memory.value", "vcpu.value",
         "maxMemory.value", "cpu.numa.cell[].memory", "cpu.numa.cell[].cpus",
         "cpu.numa.cell[].id",
         "cpu.topology.sockets", "cpu.topology.dies", "cpu.topology.cores",
         "cpu.topology.threads", "devices.disk[].target.dev",
         "devices.disk[].target.bus", "devices.disk[].device",
         "devices.disk[].type", "devices.interface[].type",
         "devices.interface[].mac.address", "devices.graphics[].type",
         "devices.disk[].driver.type", "devices.disk[].source.file",
         "devices.disk[].source.dev", "devices.disk[].source.pool",
         "devices.disk[].source.volume", "os.loader.value", "os.nvram.value",
         "os.nvram.template", "os.loader.type", "os.loader.secure", "os.firmware",
         "os.arch", "devices.serial[].type", "devices.console[].type",
         "devices.serial[].target.port", "devices.console[].target.port",
         "devices.console[].target.type", "devices.graphics[].port",
         "devices.graphics[].autoport", "vcpu.placement", "cpu.mode",
         "devices.disk[].boot.order", "devices.interface[].boot.order",
         "devices.interface[].source.network", "devices.interface[].source.bridge",
         "devices.interface[].source.dev", "devices.interface[].source.mode",
         "os.smbios.mode", "os.bios.useserial",
         # what other fields of an item or element are tied to
         "devices.controller[].type", "devices.controller[].index",
         "devices.video[].model.type", "devices.video[].model.vram",
         "devices.video[].model.ram", "devices.video[].model.vgamem",
         "devices.video[].model.heads", "devices.video[].model.primary",
         "devices.channel[].type", "devices.channel[].target.type",
         "devices.channel[].target.name", "devices.input[].type",
         "devices.input[].bus", "devices.memballoon.model", "devices.rng[].model",
         "devices.rng[].backend.model", "devices.tpm[].model",
         "devices.tpm[].backend.type", "devices.tpm[].backend.version",
         "devices.sound[].model", "devices.sound[].audio.id", "devices.audio[].id",
         "devices.audio[].type", "clock.timer[].name", "memoryBacking.source.type",
         "memoryBacking.access.mode", "memoryBacking.locked",
         "memoryBacking.allocation.mode", "features.hyperv.mode"}


def in_whole(schema, path):
    """Whether path lies within a mapping managed whole (features)."""
    f = schema
    for p in path[:-1]:
        f = f["kids"][0] if isinstance(p, int) else kid(f, p)
        if f is None:
            return False
        if f.get("whole"):
            return True
    return False


# Fields whose values the generator picks by rules of its own, not from
# the table's enumeration: not calibrated.
EXPLICIT = {"devices.controller[].model", "devices.watchdog.model",
            "clock.timer[].tickpolicy", "devices.sound[].codec[].type",
            "devices.interface[].model.type", "os.boot[].dev",
            "devices.disk[].volume.target.format.type",
            "devices.disk[].volume.backingStore.format.type", "cloudInit.target.bus"}


def leaves(node, path=()):
    if node.kind == "map":
        for k, v in node.kids:
            yield from leaves(v, path + (k,))
    elif node.kind == "seq":
        if node.field["kind"] == "list":
            for i, v in enumerate(node.kids):
                yield from leaves(v, path + (i,))
    else:
        yield path, node


def set_at(tree, path, new):
    parent = node_at(tree, path[:-1])
    if parent.kind == "map":
        for i, (k, v) in enumerate(parent.kids):
            if k == path[-1]:
                parent.kids[i] = (k, new)
                return tree
        parent.kids.append((path[-1], new))
        return tree
    parent.kids[path[-1]] = new
    return tree


def remove_at(tree, path):
    parent = node_at(tree, path[:-1])
    if parent is None:
        return None
    if parent.kind == "map":
        parent.kids = [(k, v) for k, v in parent.kids if k != path[-1]]
    else:
        del parent.kids[path[-1]]
    return tree


class Editor:
    def __init__(self, gen, schema, host):
        self.gen, self.schema, self.host = gen, schema, host

    def edit(self, tree, running, r):
        """A one-field edit of the file, with what libvirt must show after
        it; None when no edit of this file can be predicted simply."""
        kinds = [self.change_scalar, self.change_scalar, self.remove_key,
                 self.list_edit, self.list_edit, self.autostart]
        if running:
            # devices added, removed and changed on running guests: made
            # live where QEMU can (hot-plug, unplug, media changes)
            kinds += [self.list_edit] * 4
        sem = tree.sem()
        if volume_disks(sem):
            # a volume grown (live on a running guest), or shrunk: refused
            kinds += [self.volume_grow] * 4 + [self.volume_shrink] * 2
        if isinstance(sem.get("cloudInit"), dict):
            kinds += [self.seed_change] * 4
        r.shuffle(kinds)
        for k in kinds:
            for _ in range(6):
                e = k(tree, running, r)
                if e:
                    new = e.apply(tree)
                    if new is not None and not check(new.sem(), self.host):
                        return e
        return None

    def expect_scalar(self, sem, path, value, running, old=None):
        sf = steps_for(self.schema, sem, path)
        if not sf or sf[1] is None:
            return None
        steps, what, f = sf
        if f["kind"] == "presence":
            return [Expect(steps, ("count",), 1 if value else 0)]
        shown = xml_form(f, value, self.host)
        # what libvirt writes as nothing: the table's "none" value (an
        # empty description), and all vCPUs online (no current attribute)
        if f.get("none") is not None and shown == f["none"]:
            shown = None
        if dotted(path) == "vcpu.current" and value == sem.get("vcpu", {}).get("value"):
            shown = None
        xs = [Expect(steps, what, shown)]
        if running and dotted(path) == "vcpu.current" and old is not None and value > old:
            xs.append(Expect(steps, what, shown, live=True))
        return xs

    def volume_grow(self, tree, running, r):
        """A volume's capacity grown: made (virDomainBlockResize on a
        running guest, virStorageVolResize on one shut off)."""
        i, d = r.choice(volume_disks(tree.sem()))
        old = d["volume"].get("capacity") or BASE_MIB * 1024
        return self.capacity_edit(tree, i, d, old, old + r.choice([1, 16, 64, 100]) * 1024, r)

    def volume_shrink(self, tree, running, r):
        """A volume's capacity made smaller: refused, nothing changed."""
        i, d = r.choice(volume_disks(tree.sem()))
        old = d["volume"].get("capacity") or BASE_MIB * 1024
        if old <= 1024:
            return None
        return self.capacity_edit(tree, i, d, old, r.choice([1024, old // 2, old - 1]), r)

    def capacity_edit(self, tree, i, d, old, new, r):
        path = ("devices", "disk", i, "volume", "capacity")
        nn = respell(self.schema, path, new, r)
        pool, vol = d["source"]["pool"], d["source"]["volume"]

        def op(t):
            if node_at(t, path[:-1]) is None or node_at(t, path[:-1]).kind != "map":
                return None
            return set_at(t, path, nn.clone())
        if new > old:
            return Edit(f"grow volume {vol} from {old} KiB to {new} KiB", path, op,
                        [Expect([], ("volcap", pool, vol), new * 1024)])
        return Edit(f"shrink volume {vol} from {old} KiB to {new} KiB", path, op,
                    [Expect([], ("volcap", pool, vol), old * 1024)],
                    must_refuse="a volume never shrinks")

    def seed_change(self, tree, running, r):
        """A new user-data: the seed written again (on a running guest, its
        medium swapped live); in its file beside now and then."""
        sem = tree.sem()
        ci = sem["cloudInit"]
        marker = f"vrgen-marker-{r.getrandbits(32):08x}"
        text = self.gen.user_data(r, marker, sem["name"])
        pool, vol = seed_pool(sem), seed_volume(sem)
        xs = [Expect([], ("seed", pool, vol, marker), True)]
        if running:
            dev = seed_target(sem)[0]
            xs.append(Expect([("devices", None), ("disk", ("target", "dev", dev)),
                              ("source", None)], ("attr", "volume"), vol, live=True))
        ud = ci.get("user-data")
        path = ("cloudInit", "user-data")
        if isinstance(ud, dict) and "file" in ud and r.random() < 0.6:
            return Edit(f"change the user-data in {ud['file']}", path, lambda t: t, xs,
                        files={ud["file"]: text})
        nn = respell(self.schema, path, text, r, sem)

        def op(t):
            if node_at(t, ("cloudInit",)) is None:
                return None
            return set_at(t, path, nn.clone())
        return Edit("change the user-data", path, op, xs)

    def change_scalar(self, tree, running, r):
        cands = [(p, n) for p, n in leaves(tree)
                 if dotted(p) not in FIXED and n.field.get("xml") is not None
                 and not dotted(p).startswith("xml")]
        if not cands:
            return None
        path, node = r.choice(cands)
        d = dotted(path)
        sem = tree.sem()
        f = node.field
        old = node.value
        new = self.propose(d, f, old, sem, running, r, path)
        if new is None or new == old:
            return None
        cross = d == "os.machine" and self.host.family(new) != self.host.family(old)
        xs = self.expect_scalar(sem, path, new, running, old)
        if not xs:
            return None
        # a value that another field repeats
        nn = respell(self.schema, path, new, r, sem)
        if nn.kind == "scalar":
            nn.style = node.style if node.style != "wrapped" else "plain"
        shown_new = nn.value
        return Edit(f"change {d} {old!r} → {shown_new!r}", path,
                    lambda t, p=path, n=nn: set_at(t, p, n.clone())
                    if node_at(t, p) is not None else None, xs, may_refuse=cross)

    def propose(self, d, f, old, sem, running, r, path=()):
        k = f["kind"]
        item = sem_at(sem, path[:3]) if len(path) > 3 else None  # a device
        if d == "devices.controller[].model":
            return {"usb": "piix3-uhci" if old == "qemu-xhci" else "qemu-xhci",
                    "scsi": "lsilogic" if old == "virtio-scsi" else "virtio-scsi"
                    }.get(item.get("type"))
        if d == "devices.watchdog.model":
            fam = self.host.family(sem.get("os", {}).get("machine", "pc"))
            return ("ib700" if old == "i6300esb" else "i6300esb") if fam == "pc" else None
        if d == "devices.rng[].backend.value":
            # rngs pair by likeness: beside one whose path libvirt fills in,
            # which item the new path goes to is not for the file to say
            if any("value" not in g.get("backend", {}) for g in sem["devices"]["rng"]):
                return None
            return "/dev/random" if old == "/dev/urandom" else "/dev/urandom"
        if d == "clock.timer[].tickpolicy":
            t = sem_at(sem, path[:3])
            vals = {"rtc": ["delay", "catchup"], "pit": ["delay", "catchup", "discard"]}
            return r.choice([v for v in vals.get(t.get("name"), []) if v != old] or [None])
        if d == "iothreads":
            return r.randint(0, 4)
        if d == "devices.sound[].codec[].type":
            have = [c["type"] for c in sem_at(sem, path[:4])]
            return r.choice([v for v in ("duplex", "micro", "output") if v not in have] or [None])
        if d == "clock.adjustment":
            return str(r.choice([-3600, 0, 1, 86400, 7]))
        if k in ("bool", "presence"):
            if d == "os.loader.readonly" and sem["os"].get("loader", {}).get("type") == "pflash":
                return None
            return not old
        if d == "vcpu.current":
            nv = sem.get("vcpu", {}).get("value", 1)
            return r.randint(1, nv) if nv > 1 else None
        if d == "currentMemory":
            m = sem["memory"]["value"]
            return r.randint(max(1, m // 2048), m // 1024) * 1024 if m >= 2048 else None
        if d == "os.machine":
            # within the family; now and then the other family's alias
            # (libvirt refuses that redefine: apply must say so)
            fam = self.host.family(old)
            # KNOWN_EDIT_BUGS: not with the file's own controllers
            if r.random() < 0.2 and not (AVOID_KNOWN and
                                         sem.get("devices", {}).get("controller")):
                return "q35" if fam == "pc" else "pc"
            same = [m for m in self.host.machines + ["pc", "q35"]
                    if self.host.family(m) == fam and self.host.expand(m) != self.host.expand(old)]
            return r.choice(same) if same else None
        if d in ("os.boot[].dev",):
            return None
        if d == "cpu.model.value":
            return r.choice(self.host.cpu_models if not running else ["qemu64", "qemu32"])
        if d in ("cpu.match", "cpu.check") and sem.get("cpu", {}).get("mode", "custom") \
                not in ("custom",):
            return None  # libvirt decides these for the other modes
        if d == "devices.disk[].driver.name":
            return None
        if d == "devices.interface[].model.type":
            return r.choice(NIC_MODELS[:3] if running else NIC_MODELS)
        if d == "devices.graphics[].listen":
            return r.choice(["127.0.0.1", "0.0.0.0"]) if not running else None
        if d == "devices.graphics[].keymap":
            return r.choice(KEYMAPS)
        if d == "vcpu.cpuset":
            n = self.host.host_cpus
            return cpuset_format(set(r.sample(range(n), r.randint(1, n))))
        if k == "enum":
            vals = [v for v in self.gen.allowed(tuple(d.split(".")), f) if v != old]
            if running and d in ("cpu.mode",):
                return None
            return r.choice(vals) if vals else None
        if k in ("uint", "int"):
            return self.gen.generic(tuple(d.split(".")), f, r)
        if k == "str":
            if f["check"] in ("line", "none", "token"):
                v = self.gen.text(tuple(d.split(".")), f, r)
                return v
            return None
        if k == "size":
            return None
        return None

    def remove_key(self, tree, running, r):
        cands = [(p, n) for p, n in leaves(tree)
                 if dotted(p) not in DEFAULTED and dotted(p) not in FIXED
                 and not any(isinstance(x, int) for x in p)
                 and n.field.get("xml") is not None and not n.field["required"]]
        if not cands:
            return None
        path, node = r.choice(cands)
        sem = tree.sem()
        xs = self.expect_scalar(sem, path, node.value, running)
        if not xs:
            return None
        whole = in_whole(self.schema, path)
        for x in xs:
            if whole:
                # within a mapping managed whole (features), a key left
                # out must be absent
                x.value = 0 if x.what[0] == "count" else None
            else:
                # what libvirt had before the edit stays (libvirt may have
                # had another value than the file's all along: that is the
                # second apply's business)
                x.value = UNCHANGED

        # a map left without keys is removed with it, but for one managed
        # whole: empty, it says that none of its keys is there
        def op(t, p=path):
            if node_at(t, p) is None:
                return None
            remove_at(t, p)
            q = p[:-1]
            while q and node_at(t, q).kind == "map" and not node_at(t, q).kids \
                    and not node_at(t, q).field.get("whole"):
                remove_at(t, q)
                q = q[:-1]
            return t
        return Edit(f"remove {dotted(path)} (was {node.value!r})", path, op, xs)

    def autostart(self, tree, running, r):
        n = tree.get("autostart")
        new = not (n.value if n else False)
        nn = Speller(self.schema, r).scalar(kid(self.schema, "autostart"), new)
        return Edit(f"autostart → {new}", ("autostart",),
                    lambda t: set_at(t, ("autostart",), nn.clone()),
                    [Expect([], ("autostart",), new)])

    def list_edit(self, tree, running, r):
        sem = tree.sem()
        devs = sem.get("devices", {})
        ops = []
        if isinstance(sem.get("features"), dict):
            ops += ["feature-add", "feature-remove"]
        if "boot" in sem.get("os", {}) and len(sem["os"]["boot"]) > 1:
            ops.append("boot-reorder")
        if devs.get("disk"):
            ops += ["disk-remove", "disk-reorder"]
        if any(d.get("device") == "cdrom" and "source" in d for d in devs.get("disk", [])):
            ops += ["cdrom-eject"] * 3 + ["cdrom-change"] * 2
        if "disk" in devs:
            ops.append("disk-add")
        if devs.get("interface"):
            ops.append("nic-remove")
        if "interface" in devs:
            ops.append("nic-add")
        if devs.get("graphics"):
            ops.append("graphics-remove")
        if "rng" in devs:
            ops.append("rng-add")
        if devs.get("rng"):
            ops.append("rng-remove")
        if devs.get("channel"):
            ops.append("channel-remove")
        if devs.get("sound"):
            ops.append("sound-remove")
        if "input" in devs:
            ops.append("input-add")
        if "controller" in devs:
            ops.append("controller-add")
        if "timer" in (sem.get("clock") or {}):
            ops += ["timer-add", "timer-remove"]
        if not ops:
            return None
        op = r.choice(ops)
        return getattr(self, "op_" + op.replace("-", "_"))(tree, sem, running, r)

    def op_feature_add(self, tree, sem, running, r):
        have = sem["features"]
        machine = sem.get("os", {}).get("machine", "pc")
        cands = [n for n in self.gen.feature_names(running, machine) if n not in have]
        if not cands:
            return None
        v = r.choice(cands)
        value = self.gen.feature(v, r, {"running": running})
        node = Speller(self.schema, r).node(("features", v),
                                            kid(kid(self.schema, "features"), v), value)

        def op(t):
            n = node_at(t, ("features",))
            if n is None or n.kind != "map":
                return None
            n.kids.append((v, node.clone()))
            if n.style == "short":
                n.style = "flow"
            return t
        xs = [Expect([("features", None), (v, None)], ("count",), 1)]
        xs += self.expect_inside(("features", v), value)
        return Edit(f"add feature {v}", ("features",), op, xs)

    def expect_inside(self, path, value):
        """What libvirt shows of a mapping's attributes (a feature's state)."""
        xs = []
        if isinstance(value, dict):
            for k, v in value.items():
                if isinstance(v, (dict, list)):
                    continue
                sf = steps_for(self.schema, {}, path + (k,))
                if sf and sf[1] and sf[1][0] == "attr":
                    xs.append(Expect(sf[0], sf[1], xml_form(sf[2], v, self.host)))
        return xs

    def op_feature_remove(self, tree, sem, running, r):
        have = list(sem["features"])
        if not have:
            return None
        v = r.choice(have)

        def op(t):
            n = node_at(t, ("features",))
            if n is None or n.kind != "map" or n.get(v) is None:
                return None
            # the last one leaves features: {}, which says no feature at
            # all (features is compared whole); without the key libvirt
            # would keep what it has
            n.kids = [(k, x) for k, x in n.kids if k != v]
            return t
        return Edit(f"remove feature {v}", ("features",), op,
                    [Expect([("features", None), (v, None)], ("count",), 0)])

    def op_boot_reorder(self, tree, sem, running, r):
        b = sem["os"]["boot"]
        perm = list(range(len(b)))
        while perm == list(range(len(b))):
            r.shuffle(perm)

        def op(t):
            n = node_at(t, ("os", "boot"))
            if n is None or len(n.kids) != len(perm):
                return None
            n.kids = [n.kids[i] for i in perm]
            return t
        b = [x["dev"] for x in b]
        want = [b[i] for i in perm]
        return Edit(f"reorder os.boot {b} → {want}", ("os", "boot"), op,
                    [Expect([("os", None), ("boot", None)], ("list", "dev"), want)])

    def op_disk_remove(self, tree, sem, running, r):
        disks = sem["devices"]["disk"]
        i = r.randrange(len(disks))
        tgt = disks[i]["target"]["dev"]
        if running and "boot" in disks[i]:
            return None
        return Edit(f"remove disk {tgt}", ("devices", "disk"),
                    lambda t: remove_at(t, ("devices", "disk", i))
                    if node_at(t, ("devices", "disk", i)) is not None else None,
                    [Expect([("devices", None), ("disk", ("target", "dev", tgt))],
                            ("count",), 0)])

    def op_cdrom_eject(self, tree, sem, running, r):
        disks = sem["devices"]["disk"]
        i = r.choice([i for i, d in enumerate(disks)
                      if d.get("device") == "cdrom" and "source" in d])
        tgt = disks[i]["target"]["dev"]
        p = ("devices", "disk", i, "source")
        return Edit(f"eject the cdrom {tgt}", p,
                    lambda t: remove_at(t, p) if node_at(t, p) is not None else None,
                    # no medium: no <source> in the config; the live XML
                    # keeps <source index='…'/>, without a file
                    self.live_too([Expect([("devices", None), ("disk", ("target", "dev", tgt)),
                                           ("source", None)], ("attr", "file"), None)],
                                  running, True))

    @staticmethod
    def live_too(xs, running, live):
        """xs, and on a running guest where the change is made live (a
        hot-plug, a media change) the same of the live XML."""
        if not running or not live:
            return xs
        return xs + [Expect(x.steps, x.what, x.value, live=True) for x in xs]

    @staticmethod
    def acpi(sem):
        return feature_on(sem.get("features"), "acpi")

    def op_cdrom_change(self, tree, sem, running, r):
        disks = sem["devices"]["disk"]
        i = r.choice([i for i, d in enumerate(disks)
                      if d.get("device") == "cdrom" and "source" in d])
        tgt = disks[i]["target"]["dev"]
        new = f"{self.host.image_dir}/{sem['name']}-{tgt}-changed.iso"
        p = ("devices", "disk", i, "source", "file")
        node = Speller(self.schema, r).node(p, field_at(self.schema, p), new)

        def op(t):
            n = node_at(t, p[:-1])
            if n is None or n.kind != "map" or n.get("file") is None:
                return None
            return set_at(t, p, node.clone())
        return Edit(f"change the cdrom {tgt}'s medium", p, op,
                    self.live_too([Expect([("devices", None), ("disk", ("target", "dev", tgt)),
                                           ("source", None)], ("attr", "file"), new)],
                                  running, True),
                    images=[(new, "raw")])

    def op_disk_reorder(self, tree, sem, running, r):
        disks = sem["devices"]["disk"]
        if len(disks) < 2:
            return None

        def op(t):
            n = node_at(t, ("devices", "disk"))
            if n is None or len(n.kids) < 2:
                return None
            n.kids = n.kids[1:] + n.kids[:1]
            return t
        return Edit("move the first disk last", ("devices", "disk"), op,
                    [Expect([("devices", None), ("disk", ("target", "dev", d["target"]["dev"]))],
                            ("count",), 1) for d in disks])

    def appender(self, path, n, d, style, r):
        """An edit that appends the item d, spelled, to the list at path
        (of n items): a list of one written as its item takes style."""
        node = Speller(self.schema, r).node(path + (n,), field_at(self.schema, path + (0,)), d)

        def op(t):
            lst = node_at(t, path)
            if lst is None:
                return None
            lst.kids.append(node.clone())
            if lst.style == "single":
                lst.style = style
            return t
        return op

    def op_disk_add(self, tree, sem, running, r):
        disks = sem["devices"]["disk"]
        used = {d["target"]["dev"] for d in disks}
        name = sem["name"]
        tgt = next(f"vd{c}" for c in "bcdefghijklmnopqrstuvwxy" if f"vd{c}" not in used)
        d = {"source": {"file": f"{self.host.image_dir}/{name}-{tgt}-added.img"},
             "target": {"dev": tgt, "bus": "virtio"}}
        op = self.appender(("devices", "disk"), len(disks), d, "block", r)
        return Edit(f"add disk {tgt}", ("devices", "disk"), op,
                    self.live_too([Expect([("devices", None), ("disk", ("target", "dev", tgt)),
                                           ("source", None)], ("attr", "file"),
                                          d["source"]["file"])],
                                  running, self.acpi(sem)),
                    images=[(d["source"]["file"], "raw")])

    def op_nic_remove(self, tree, sem, running, r):
        nics = sem["devices"]["interface"]
        i = r.randrange(len(nics))
        if "boot" in nics[i]:
            return None
        if "mac" in nics[i]:
            x = Expect([("devices", None), ("interface", ("mac", "address",
                                                          nics[i]["mac"]["address"].lower()))],
                       ("count",), 0)
        else:
            x = Expect([("devices", None), ("interface", None)], ("count",), len(nics) - 1)
        return Edit(f"remove interface {i}", ("devices", "interface"),
                    lambda t: remove_at(t, ("devices", "interface", i))
                    if node_at(t, ("devices", "interface", i)) is not None else None, [x])

    def op_nic_add(self, tree, sem, running, r):
        nics = sem["devices"]["interface"]
        mac = "52:54:00:%02x:%02x:%02x" % tuple(r.getrandbits(8) for _ in range(3))
        d = {"type": "user", "mac": {"address": mac}, "model": {"type": "virtio"}}
        op = self.appender(("devices", "interface"), len(nics), d, "flow", r)
        return Edit(f"add interface {mac}", ("devices", "interface"), op,
                    self.live_too([Expect([("devices", None),
                                           ("interface", ("mac", "address", mac)),
                                           ("model", None)], ("attr", "type"), "virtio")],
                                  running, self.acpi(sem)))

    def remover(self, path, desc, expect):
        """An edit that removes the list item at path."""
        return Edit(desc, path[:-1],
                    lambda t: remove_at(t, path) if node_at(t, path) is not None else None,
                    [expect])

    def op_rng_add(self, tree, sem, running, r):
        rngs = sem["devices"]["rng"]
        d = {"model": "virtio", "backend": {"model": "random", "value": "/dev/urandom"}}
        op = self.appender(("devices", "rng"), len(rngs), d, "flow", r)
        return Edit("add an rng", ("devices", "rng"), op,
                    [Expect([("devices", None), ("rng", None)], ("count",), len(rngs) + 1)])

    def op_rng_remove(self, tree, sem, running, r):
        rngs = sem["devices"]["rng"]
        i = r.randrange(len(rngs))
        return self.remover(("devices", "rng", i), f"remove rng {i}",
                            Expect([("devices", None), ("rng", None)], ("count",), len(rngs) - 1))

    def op_channel_remove(self, tree, sem, running, r):
        chans = sem["devices"]["channel"]
        i = r.randrange(len(chans))
        name = chans[i]["target"]["name"]
        return self.remover(("devices", "channel", i), f"remove channel {name}",
                            Expect([("devices", None), ("channel", ("target", "name", name))],
                                   ("count",), 0))

    def op_sound_remove(self, tree, sem, running, r):
        snds = sem["devices"]["sound"]
        i = r.randrange(len(snds))
        m = snds[i]["model"]
        return self.remover(("devices", "sound", i), f"remove sound {m}",
                            Expect([("devices", None), ("sound", ("@", "model", m))],
                                   ("count",), 0))

    def op_input_add(self, tree, sem, running, r):
        ins = sem["devices"]["input"]
        have = {(i["type"], i.get("bus", INPUT_BUS.get(i["type"]))) for i in ins}
        cands = [{"type": t, "bus": b} for t, b in
                 (("tablet", "usb"), ("keyboard", "usb"), ("mouse", "virtio"))
                 if (t, b) not in have]
        if not cands:
            return None
        d = r.choice(cands)
        op = self.appender(("devices", "input"), len(ins), d, "flow", r)
        return Edit(f"add input {d['type']} {d['bus']}", ("devices", "input"), op,
                    [Expect([("devices", None),
                             ("input", ("@all", [["type", d["type"]], ["bus", d["bus"]]]))],
                            ("count",), 1)])

    def op_controller_add(self, tree, sem, running, r):
        ctls = sem["devices"]["controller"]
        have = {c["type"] for c in ctls}
        cands = [c for c in ({"type": "scsi", "index": 0, "model": "virtio-scsi"},
                             {"type": "virtio-serial", "index": 0})
                 if c["type"] not in have]
        if not cands:
            return None
        d = r.choice(cands)
        op = self.appender(("devices", "controller"), len(ctls), d, "flow", r)
        step = ("controller", ("@all", [["type", d["type"]], ["index", "0"]]))
        xs = [Expect([("devices", None), step], ("count",), 1)]
        if "model" in d:
            xs.append(Expect([("devices", None), step], ("attr", "model"), d["model"]))
        return Edit(f"add controller {d['type']}", ("devices", "controller"), op, xs)

    def op_timer_add(self, tree, sem, running, r):
        timers = sem["clock"]["timer"]
        have = {t["name"] for t in timers}
        cands = [n for n in ("rtc", "pit", "hpet") if n not in have]
        if not cands:
            return None
        n = r.choice(cands)
        d = {"name": n, "tickpolicy": "delay"} if n != "hpet" else {"name": n, "present": False}
        op = self.appender(("clock", "timer"), len(timers), d, "flow", r)
        xs = [Expect([("clock", None), ("timer", ("@", "name", n))], ("count",), 1)]
        xs += self.expect_inside(("clock", "timer", len(timers)), d)
        for x in xs[1:]:
            x.steps[-1] = ("timer", ("@", "name", n))
        return Edit(f"add timer {n}", ("clock", "timer"), op, xs)

    def op_timer_remove(self, tree, sem, running, r):
        timers = sem["clock"]["timer"]
        if not timers:
            return None
        i = r.randrange(len(timers))
        n = timers[i]["name"]
        return self.remover(("clock", "timer", i), f"remove timer {n}",
                            Expect([("clock", None), ("timer", ("@", "name", n))],
                                   ("count",), 0))

    def op_graphics_remove(self, tree, sem, running, r):
        gs = sem["devices"]["graphics"]
        i = r.randrange(len(gs))
        t_ = gs[i]["type"]
        return Edit(f"remove graphics {t_}", ("devices", "graphics"),
                    lambda t: remove_at(t, ("devices", "graphics", i))
                    if node_at(t, ("devices", "graphics", i)) is not None else None,
                    [Expect([("devices", None), ("graphics", ("@", "type", t_))],
                            ("count",), 0)])


# ---------------------------------------------------------- cases


class Case:
    """One generated file: its domain, tree, the files beside it (a seed's
    parts), and (with --edit) its edit."""

    def __init__(self, name, index, running, tree, images, edit=None, files=None):
        self.name, self.index, self.running = name, index, running
        self.tree, self.images, self.edit = tree, images, edit
        self.files = dict(files or {})

    def storage(self, tree=None):
        """What libvirt's storage must show once the file is applied."""
        return storage_expects((tree or self.tree).sem(), self.files)

    def edit_files(self):
        """The files beside the edited file."""
        return {**self.files, **(self.edit.files if self.edit else {})}

    def text(self):
        return emit(self.tree, header=f"vrgen case {self.index}")

    def edited(self):
        return self.edit.apply(self.tree) if self.edit else None


def make_case(gen, seed, index, prefix, running_fraction, with_edit):
    """File index of seed: a running guest with running_fraction's odds."""
    running = random.Random(f"{seed}:{index}:shape").random() < running_fraction
    name = f"{prefix}-{index:04d}"
    odds = random.Random(f"{seed}:{index}:rare").random()
    for attempt in range(200):
        sem = gen.domain_once(name, random.Random(f"{seed}:{index}:{attempt}"), running)
        if not check(sem, gen.host) and (not rare(sem) or (odds < RARE_ODDS and not running)):
            break
    else:
        raise RuntimeError(f"no valid file for {name}: {check(sem, gen.host)}")
    images = gen.last_ctx.get("images", [])
    files = gen.last_ctx.get("files", {})
    tree = spell(gen.schema, sem, random.Random(f"{seed}:{index}:spell"))
    edit = None
    if with_edit:
        edit = Editor(gen, gen.schema, gen.host).edit(
            tree, running, random.Random(f"{seed}:{index}:edit"))
    return Case(name, index, running, tree, images, edit, files)


def volume_disks(sem):
    """(index, disk) of the disks whose volume the agent makes."""
    return [(i, d) for i, d in enumerate((sem.get("devices") or {}).get("disk", []))
            if isinstance(d, dict) and isinstance(d.get("volume"), dict)]


def part_text(v, files):
    """A seed part's text: given, or its file's."""
    if isinstance(v, dict):
        return v["value"] if "value" in v else files.get(v.get("file"), "")
    return v if isinstance(v, str) else ""


def storage_expects(sem, files):
    """What libvirt must show of a file's volumes and seed once applied:
    each volume with the capacity asked (a copy without one: its base's),
    the seed with the user-data's marker and, when meta-data gives no
    instance-id, the domain's UUID as one; the seed's CD-ROM in the
    domain."""
    xs = []
    for _, d in volume_disks(sem):
        cap = d["volume"].get("capacity")
        xs.append(Expect([], ("volcap", d["source"]["pool"], d["source"]["volume"]),
                         cap * 1024 if cap else BASE_MIB << 20))
    ci = sem.get("cloudInit")
    if isinstance(ci, dict):
        pool, vol = seed_pool(sem), seed_volume(sem)
        m = re.search(r"vrgen-marker-[0-9a-f]+", part_text(ci.get("user-data"), files))
        if m:
            xs.append(Expect([], ("seed", pool, vol, m.group(0)), True))
        # meta-data's own instance-id, as YAML (a flow mapping too)
        if not re.search(r"""(?m)^instance-id:|[{,]\s*["']?instance-id["']?\s*:""",
                         part_text(ci.get("meta-data"), files)):
            xs.append(Expect([], ("seed", pool, vol, "instance-id: {uuid}\n"), True))
        xs.append(Expect([("devices", None), ("disk", ("target", "dev", seed_target(sem)[0])),
                          ("source", None)], ("attr", "volume"), vol))
    return xs


# ---------------------------------------------------------- shrinking


def subtrees(tree, protect=()):
    """Smaller variants of a tree, biggest cuts first: each key or list item
    removed, each map written without its optional keys one by one, values
    made plain."""
    out = []

    def protected(path):
        return any(path == pp[:len(path)] for pp in protect)

    def walk(n, path):
        if n.kind == "map":
            for k, v in n.kids:
                p = path + (k,)
                f = v.field
                if not f.get("required") and not protected(p):
                    out.append(("remove", p, size(v)))
            for k, v in n.kids:
                walk(v, path + (k,))
        elif n.kind == "seq":
            for i, v in enumerate(n.kids):
                p = path + (i,)
                if not protected(p) and not any(pp[:len(path)] == path for pp in protect):
                    out.append(("remove", p, size(v)))
            for i, v in enumerate(n.kids):
                walk(v, path + (i,))
        else:
            if n.style == "wrapped" or n.text[0] != "plain" or n.comment:
                out.append(("plain", path, 0))
    walk(tree, ())
    out.sort(key=lambda c: -c[2])
    return out


def size(n):
    if n.kind == "scalar":
        return 1
    return 1 + sum(size(v if n.kind == "seq" else v[1]) for v in n.kids)


def apply_cut(tree, cut):
    kind, path, _ = cut
    t = tree.clone()
    n = node_at(t, path)
    if n is None:
        return None
    if kind == "remove":
        remove_at(t, path)
    else:
        n.style, n.comment = "plain", None
        n.text = ("plain", n.text[1]) if n.field.get("kind") != "str" or \
            plain_ok(n.text[1], True) else ("double", n.text[1])
    return t


def shrink(trees, predicate, valid, protect=(), budget=None, log=None):
    """Greedily removes keys and list items and simplifies spellings while
    the files stay valid (valid(texts) -> list of bools, one per candidate:
    `virt-reconcile validate`) and the failure still shows (predicate(trees)
    -> bool). trees is a tuple (a file, or a file and its edited form: every
    cut is made to both). Returns the smallest trees found."""
    import time
    deadline = time.monotonic() + budget if budget else None
    cur = trees
    progress = True
    while progress:
        progress = False
        cuts = subtrees(cur[0], protect)
        i = 0
        while i < len(cuts):
            if deadline and time.monotonic() > deadline:
                if log:
                    log("shrink: out of time")
                return cur
            # candidates in chunks: validate checks many at once
            chunk = []
            now = [emit(t) for t in cur]
            while i < len(cuts) and len(chunk) < 12:
                cand = tuple(apply_cut(t, cuts[i]) for t in cur)
                i += 1
                # a smaller file that a known bug explains is another failure
                if all(c is not None for c in cand) and \
                        [emit(t) for t in cand] != now and \
                        not any(known_bugs(c.sem()) for c in cand):
                    chunk.append(cand)
            if not chunk:
                continue
            oks = valid([[emit(t) for t in c] for c in chunk])
            for cand, ok in zip(chunk, oks):
                if ok and predicate(cand):
                    cur = cand
                    progress = True
                    break
            if progress:
                break
    return cur


# ---------------------------------------------------------- calibration


def calibrate(gen, vr, workdir, seed=0):
    """The enum and flag values that validate refuses in files otherwise
    valid (libvirt's schema lacks some: htm wants a state): {dotted path:
    {value: message}}. Each value is tried in small files cut from generated
    ones: the domain's basics and the one part that gives the field (a
    top-level key, or one list of devices with its one item). A value that
    no such file takes, while the file without the change passes, is left
    out, and reported."""
    os.makedirs(workdir, exist_ok=True)
    r = random.Random(f"calibrate:{seed}")
    sems = [make_case(gen, f"calibrate{seed}", i, "vrgen-calibrate", 0.0, False).tree.sem()
            for i in range(60)]

    def fields(f, path):
        for k in f.get("kids") or []:
            p = path + ((0,) if f["kind"] == "list" else (k["key"],))
            if not covered(p):
                continue
            if k["kind"] in ("enum", "flags") and k.get("values") and \
                    dotted(p) not in FIXED and dotted(p) not in EXPLICIT:
                yield p, k
            yield from fields(k, p)

    def cut(sem, path):
        out = {k: sem[k] for k in ("name", "type", "memory", "vcpu") if k in sem}
        out["state"] = "shutoff"
        top = path[0]
        if top not in sem:
            return None
        if top == "devices" and len(path) > 2:
            items = sem["devices"].get(path[1])
            if not items:
                return None
            # one device of its list (a map: the device itself)
            out["devices"] = {path[1]: [items[0]] if isinstance(items, list) else items}
        else:
            out[top] = sem[top]
        return copy.deepcopy(out)
    bases, probes = [], []
    for path, f in fields(gen.schema, ()):
        d = dotted(path)
        if d in ("type", "state"):
            continue
        found = []
        for b in (cut(sem, path) for sem in sems):
            if b and values_at(b, d) and f["kind"] == "flags":
                set_all(b, d, [])
            if b and values_at(b, d) and not check(b, gen.host):
                found.append(b)
            if len(found) == 2:
                break
        for b in found:
            bases.append(b)
            for v in gen.allowed(path, f):
                cand = copy.deepcopy(b)
                set_all(cand, d, [v] if f["kind"] == "flags" else v)
                if not check(cand, gen.host):
                    probes.append((d, v, cand, len(bases) - 1))
    paths = []
    for i, sem in enumerate(bases + [p[2] for p in probes]):
        sem["name"] = f"vrgen-calibrate-{i}"
        sem.pop("uuid", None)
        p = os.path.join(workdir, f"cal{i:04d}.yaml")
        with open(p, "w") as fh:
            fh.write(emit(spell(gen.schema, sem, r)))
        paths.append(p)
    bad = validate_files(vr, paths)
    refused = {}
    for i, (d, v, _, base) in enumerate(probes):
        if paths[base] not in bad:
            refused.setdefault((d, v), []).append(bad.get(paths[len(bases) + i]))
    excluded = {}
    for (d, v), whys in refused.items():
        if all(whys):
            excluded.setdefault(d, {})[v] = whys[0]
    return excluded


def set_all(sem, path, value):
    """Sets every value at a dotted path with [] for list items."""
    parts = re.findall(r"[^.\[\]]+|\[\]", path)
    last = parts[-1]
    for c in walk(sem, parts[:-1]):
        if last == "[]":
            for i in range(len(c)):
                c[i] = value
        elif isinstance(c, dict) and last in c:
            c[last] = value


def validate_files(vr, paths):
    """Runs validate on files; {path: first problem} of the refused ones."""
    if not paths:
        return {}
    p = subprocess.run([vr, "validate"] + paths, capture_output=True, text=True)
    bad = {}
    for line in (p.stderr + p.stdout).splitlines():
        for path in paths:
            if line.startswith(f"virt-reconcile: {path}:") and path not in bad:
                bad[path] = line.split(": ", 2)[-1] if line.count(": ") >= 2 else line
    if p.returncode and not bad:
        bad = {path: p.stderr.strip() for path in paths}
    return bad


# ---------------------------------------------------------- command line


def write_files(d, files):
    for fname, text in files.items():
        with open(os.path.join(d, fname), "w") as f:
            f.write(text)


def side_files(files):
    """Files beside a file, as the fuzz target reads them after its text."""
    out = ""
    for fname, text in sorted(files.items()):
        out += f"#== {fname}\n{text}"
        if text and not text.endswith("\n"):
            out += "\n"
    return out



def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--schema-dump", required=True,
                    help="schema-dump program, or the JSON it printed")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=20)
    ap.add_argument("--out", required=True)
    ap.add_argument("--running-fraction", type=float, default=0.0)
    ap.add_argument("--edit", action="store_true",
                    help="also write each file's edit to OUT/edit/, and cases.json")
    ap.add_argument("--capabilities", help="virsh capabilities output")
    ap.add_argument("--image-dir", default=None)
    ap.add_argument("--nvram-dir", default=NVRAM_DIR)
    ap.add_argument("--prefix", default=None)
    ap.add_argument("--calibrate", metavar="VIRT_RECONCILE",
                    help="leave out enum values validate refuses")
    ap.add_argument("--host-cpus", type=int, help="default: this host's")
    ap.add_argument("--with-known-bugs", action="store_true",
                    help="make what KNOWN_BUGS avoids (to see whether a fix holds)")
    ap.add_argument("--corpus", action="store_true",
                    help="a fuzz corpus: the files and their edited forms "
                         "(NAME-edit.yaml) side by side, nothing else")
    a = ap.parse_args(argv)
    if a.corpus:
        a.edit = True
    global AVOID_KNOWN
    AVOID_KNOWN = not a.with_known_bugs
    schema = load_schema(a.schema_dump)
    caps = open(a.capabilities).read() if a.capabilities else None
    host = Host(caps, image_dir=a.image_dir or f"/var/lib/libvirt/images/vrgen-{a.seed}",
                host_cpus=a.host_cpus, nvram_dir=a.nvram_dir)
    gen = Gen(schema, host)
    os.makedirs(a.out, exist_ok=True)
    if a.calibrate:
        gen.excluded = calibrate(gen, a.calibrate, os.path.join(a.out, ".calibrate"))
        for d, vals in sorted(gen.excluded.items()):
            for v, why in vals.items():
                print(f"# left out {d}: {v}: validate refuses it: {why}")
    prefix = a.prefix or f"vrgen-{a.seed}"
    meta = []
    edit_dir = a.out if a.corpus else os.path.join(a.out, "edit")
    if a.edit:
        os.makedirs(edit_dir, exist_ok=True)
    for i in range(a.count):
        c = make_case(gen, a.seed, i, prefix, a.running_fraction, a.edit)
        # the files beside: written there, or in a corpus after the text,
        # each after a line "#== NAME" (tests/fuzz/fuzz-parse.c)
        with open(os.path.join(a.out, c.name + ".yaml"), "w") as f:
            f.write(c.text() + (side_files(c.files) if a.corpus else ""))
        if not a.corpus:
            write_files(a.out, c.files)
        m = {"name": c.name, "running": c.running, "images": c.images,
             "files": sorted(c.files), "storage": [x.to_json() for x in c.storage()]}
        if c.edit:
            with open(os.path.join(edit_dir, c.name + ("-edit" if a.corpus else "") + ".yaml"),
                      "w") as f:
                f.write(emit(c.edited(), header=f"vrgen case {i}, edited: {c.edit.desc}"))
                if a.corpus:
                    f.write(side_files(c.edit_files()))
            if not a.corpus:
                write_files(edit_dir, c.edit_files())
            m["edit"] = c.edit.desc
            m["expects"] = [x.to_json() for x in c.edit.expects]
        meta.append(m)
    if a.edit and not a.corpus:
        with open(os.path.join(a.out, "cases.json"), "w") as f:
            json.dump(meta, f, indent=1)
    print(f"{a.count} files in {a.out}")


if __name__ == "__main__":
    sys.exit(main())
