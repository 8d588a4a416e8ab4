#!/usr/bin/env python3
"""The generative suite ("in sync means silent"): files from gen.py, in
batches, on the system libvirtd. Per batch: validate (must pass: a refusal is
a generator bug, or the table allows what libvirt's schema does not), apply
(a libvirt refusal of a valid file is a finding), apply again (0 write
calls), plan (exit 0); then each file's one-field edit: apply, libvirt's
XML must show the new value, apply again (0 write calls), plan (exit 0).
Each distinct failure is shrunk to a minimal file.

  fidelity.py VIRT_RECONCILE [--seed S] [--count N] [--batch B]
              [--uri qemu:///system] [--running-fraction F]
              [--schema-dump PROG] [--shrink-budget SECONDS]

Every domain it makes is named vrgen-*; all of them are removed at the
start and at exit. The volumes and seeds of the files that have them go
to a directory pool of its own, vrgen-pool (--pool-dir), made at the start
with a base image for overlays and clones, and removed with every volume
in it at exit. It holds the locks of the other suites on the system
libvirtd (tests/tap.sh: agent-real, then libvirt-real). Exit 0 when every
count is 0, 77 (skip) when libvirtd does not answer, 1 otherwise.
"""

import argparse
import concurrent.futures
import fcntl
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen  # noqa: E402

ACTIONS = ("define", "redefine", "set-mark", "set-vcpus", "set-memory",
           "set-autostart", "start", "shutdown", "undefine", "destroy",
           "create-volume", "resize-volume", "write-seed", "delete-volume",
           "update-device", "attach-device", "detach-device", "set-metadata")
PREFIX = "vrgen-"
START = time.monotonic()


def say(msg):
    print(f"# {msg} (at {time.monotonic() - START:.0f} s)", flush=True)


class Libvirt:
    def __init__(self, uri, vr, pool=gen.POOL):
        self.uri, self.vr, self.pool = uri, vr, pool

    def virsh(self, *args, timeout=120):
        try:
            return subprocess.run(["virsh", "-q", "-c", self.uri] + list(args),
                                  capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess(args, 124, "", "timed out")

    def run(self, *args, timeout=300):
        """virt-reconcile ARGS: (exit status, stdout, stderr)."""
        try:
            p = subprocess.run([self.vr] + list(args), capture_output=True,
                               text=True, timeout=timeout)
            return p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired as e:
            return 124, e.stdout or "", (e.stderr or "") + f"\ntimed out after {timeout} s"

    def ours(self):
        p = self.virsh("list", "--all", "--name")
        return [n.strip() for n in p.stdout.splitlines() if n.strip().startswith(PREFIX)]

    def many(self, commands, chunks=4, timeout=300):
        """Runs virsh commands, a few processes side by side, each command
        after a marker; {key: stdout of its command}. commands: [(key,
        command)]. One process per chunk spares a connection per call,
        which the suite's time is mostly made of."""
        def one(part):
            script = "; ".join(f"echo @@vrgen-mark@@ {i} @@; {cmd}" for i, (_, cmd) in part)
            p = self.virsh(script, timeout=timeout)
            # virsh's echo ends no line: the marker runs into what follows
            # (a domain's UUID may start with digits: the marker ends in @@)
            parts = re.split(r"@@vrgen-mark@@ (\d+) @@", p.stdout)
            return {int(parts[i]): parts[i + 1] for i in range(1, len(parts) - 1, 2)}
        items = list(enumerate(commands))
        n = max(1, min(chunks, len(items)))
        parts = [items[i::n] for i in range(n)]
        got = {}
        with concurrent.futures.ThreadPoolExecutor(n) as ex:
            for out in ex.map(one, parts):
                got.update(out)
        return {key: got.get(i, "") for i, (key, _) in enumerate(commands)}

    def remove(self, names):
        """destroy, then undefine --nvram (undefine alone where that
        fails), in a few virsh processes side by side; then the volumes of
        those domains in the suite's pool (NAME-*)."""
        if names:
            self.many([(n, f"destroy {n}; undefine --nvram {n}; undefine {n}") for n in names],
                      chunks=8)
            self.remove_volumes(tuple(n + "-" for n in names))

    def volumes(self):
        """The names of the volumes of the suite's pool; None without it."""
        p = self.virsh("vol-list", "--pool", self.pool)
        if p.returncode:
            return None
        return [line.split()[0] for line in p.stdout.splitlines() if line.split()]

    def remove_volumes(self, prefixes):
        vols = [v for v in self.volumes() or [] if v.startswith(prefixes)]
        if vols:
            self.many([(v, f"vol-delete --pool {self.pool} {v}") for v in vols])

    def pool_up(self, pool_dir):
        """The suite's pool, made anew: a directory pool (transient) with
        the base image of the files' overlays and clones. False when it
        cannot be made."""
        self.pool_down(pool_dir)
        os.makedirs(pool_dir, mode=0o755, exist_ok=True)
        base = os.path.join(pool_dir, gen.BASE)
        p = subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", base,
                            f"{gen.BASE_MIB}M"], capture_output=True, text=True)
        if p.returncode:
            print(f"# qemu-img create {base}: {p.stderr.strip()}")
            return False
        p = self.virsh("pool-create-as", self.pool, "dir", "--target", pool_dir)
        if p.returncode:
            print(f"# pool-create-as {self.pool}: {p.stderr.strip()}")
        return p.returncode == 0

    def pool_down(self, pool_dir):
        """The suite's pool gone: its volumes, the pool, and its directory
        with what the suite put there (the base image, vrgen-* files), if
        nothing else is left in it."""
        if self.volumes() is not None:
            self.remove_volumes(("",))
            self.virsh("pool-destroy", self.pool)
            self.virsh("pool-undefine", self.pool)
        if os.path.isdir(pool_dir):
            for f in os.listdir(pool_dir):
                if f == gen.BASE or f.startswith(PREFIX):
                    os.unlink(os.path.join(pool_dir, f))
            try:
                os.rmdir(pool_dir)
            except OSError as e:
                print(f"# {pool_dir} is left: {e.strerror}")

    def storage(self, keys):
        """What libvirt's storage shows: {("volcap", pool, vol): capacity in
        bytes or None; ("seed", pool, vol): the image's bytes or None;
        ("uuid", name): the domain's UUID}. keys: those wanted."""
        keys = sorted(set(keys))
        tmp = tempfile.mkdtemp(prefix="vrgen-seed.")
        try:
            cmds = []
            for i, k in enumerate(keys):
                if k[0] == "volcap":
                    cmds.append((k, f"vol-dumpxml --pool {k[1]} {k[2]}"))
                elif k[0] == "seed":
                    cmds.append((k, f"vol-download --pool {k[1]} {k[2]} {tmp}/{i}"))
                else:
                    cmds.append((k, f"domuuid {k[1]}"))
            outs = self.many(cmds)
            got = {}
            for i, k in enumerate(keys):
                if k[0] == "volcap":
                    m = re.search(r"<capacity unit='bytes'>(\d+)</capacity>", outs[k])
                    got[k] = int(m.group(1)) if m else None
                elif k[0] == "seed":
                    try:
                        with open(f"{tmp}/{i}", "rb") as f:
                            got[k] = f.read()
                    except OSError:
                        got[k] = None
                else:
                    got[k] = outs[k].strip() or None
            return got
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def dumpxml(self, names_live):
        """{(name, live): root element or None}."""
        outs = self.many([((name, live), ("dumpxml " if live else "dumpxml --inactive ") + name)
                          for name, live in names_live])
        xmls = {}
        for key, text in outs.items():
            try:
                xmls[key] = ET.fromstring(text) if text.strip() else None
            except ET.ParseError:
                xmls[key] = None
        return xmls

    def autostart(self, names):
        if not names:
            return {}
        p = self.virsh("list --all --autostart --name; echo @@vrgen-mark@@; list --all --name")
        on, _, every = p.stdout.partition("@@vrgen-mark@@")
        on, every = set(on.split()), set(every.split())
        return {n: (n in on) if n in every else None for n in names}


# ------------------------------------------------------------ output


def action_lines(out, names):
    """{name: [(action, why)]} of apply's call lines for these domains."""
    calls = {}
    for line in out.splitlines():
        m = re.match(r"^([^ :]+): ([a-z-]+)(?: \((?:live|config)\))?: (.*)$", line)
        if m and m.group(1) in names and m.group(2) in ACTIONS:
            calls.setdefault(m.group(1), []).append((m.group(2), m.group(3)))
    return calls


def writes(out):
    m = re.search(r"; (\d+) libvirt write calls?$", out, re.M)
    return int(m.group(1)) if m else None


def errors(err, names):
    """{name: message} of apply's and plan's failed domains."""
    out = {}
    for line in err.splitlines():
        m = re.match(r"^virt-reconcile: ([^ :]+): (.*)$", line)
        if m and m.group(1) in names:
            out.setdefault(m.group(1), m.group(2))
    return out


def unsettled(block):
    """What keeps a domain's plan block (phase, lines) from being settled:
    a phase other than in sync or waiting for a restart, or an action (its
    call key); None when settled or absent."""
    if not block:
        return None
    phase, lines = block
    if phase in ("in-sync", "restart-required") and \
            not any(l.startswith("+") for l in lines):
        return None
    # an unplug the guest (without an OS) never agrees to: requested once,
    # said, and settled as far as the agent goes (a restart finishes it)
    if phase == "converging" and lines and \
            all(l.startswith("!") and "unplug requested" in l for l in lines):
        return None
    first = next((l for l in lines if l.startswith("+")), phase)
    m = re.match(r"\+ ([a-z-]+)(?: (?:live|config) \S+)?: (.*)", first)
    return call_key(m.group(1), m.group(2)) if m else phase


def plan_blocks(out, names):
    """{name: (phase, [lines])} of plan's output."""
    blocks, cur = {}, None
    for line in out.splitlines():
        m = re.match(r"^([^ :]+): ([a-z-]+)", line)
        if m and not line.startswith(" "):
            cur = m.group(1) if m.group(1) in names else None
            if cur:
                blocks[cur] = (m.group(2), [])
        elif cur and line.startswith("  "):
            blocks[cur][1].append(line.strip())
    return blocks


def call_key(action, why):
    """What a call was about: 'redefine devices.disk', 'start'."""
    why = re.sub(r"^adopt: ", "", why)
    if action in ("redefine", "set-vcpus", "set-memory"):
        return f"{action} {why.split(' ')[0].rstrip(',')}"
    return action


def norm_message(msg, name):
    msg = msg.replace(name, "NAME")
    msg = re.sub(r"\d{4}-\d\d-\d\dT[\d:.]+Z ", "", msg)  # QEMU's time stamps
    msg = re.sub(r"/tmp/[^ ]*|/var/lib/libvirt/images/vrgen-[^ ']*", "PATH", msg)
    msg = re.sub(r"'[^']*'", "'X'", msg)  # names and values libvirt quotes
    msg = re.sub(r"0x[0-9a-f]+", "0xN", msg)
    return re.sub(r"\b\d{2,}\b", "N", msg)


# ------------------------------------------------------------ the suite


class Finding:
    def __init__(self, kind, key, case, detail, edit=False):
        self.kind, self.key, self.case = kind, key, case
        self.detail, self.edit = detail, edit


KINDS = [
    ("invalid", "files validate refused (a generator bug, or the table allows "
                "what libvirt's schema does not)"),
    ("refused", "files validate passed that libvirt refused"),
    ("rewritten", "files rewritten by a second apply"),
    ("plan", "files plan did not find in sync after two applies"),
    ("not-made", "edits reported in sync but not made"),
    ("edit-rewritten", "edited files rewritten by a second apply, or not in "
                       "sync for plan"),
    ("storage", "files whose volumes or seed apply did not make as the file "
                "asks"),
    ("not-refused", "edits apply must refuse (a volume shrunk) that it made, "
                    "or whose refusal changed something"),
]


class Suite:
    def __init__(self, a, lv, g, host, work):
        self.a, self.lv, self.g, self.host, self.work = a, lv, g, host, work
        self.findings = []
        self.generated = self.applied = self.edits = self.edits_checked = 0
        self.running = self.storage_files = 0
        # edits of volumes and seeds checked: grown, shrinks refused,
        # user-data changed
        self.storage_edits = {"grow": 0, "shrink": 0, "change": 0}

    def add(self, kind, key, case, detail, edit=False):
        self.findings.append(Finding(kind, key, case, detail, edit))
        print(f"not ok - {case.name}: {kind}: {key}", flush=True)
        for line in detail.splitlines()[:6]:
            print(f"#   {line}")

    def make_images(self, cases):
        for c in cases:
            for path, fmt in c.images:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                if os.path.exists(path):
                    os.unlink(path)
                if fmt == "qcow2":
                    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", path, "16M"],
                                   check=True)
                else:
                    with open(path, "wb") as f:
                        f.truncate(1 << 20)

    def batch(self, k, n, indices):
        a = self.a
        say(f"batch {k + 1} of {n}: files {indices[0]} to {indices[-1]}")
        cases = [gen.make_case(self.g, a.seed, i, f"{PREFIX}{a.seed}", a.running_fraction, True)
                 for i in indices]
        self.generated += len(cases)
        d = os.path.join(self.work, f"batch-{k + 1}")
        os.makedirs(d)
        path = {}
        for c in cases:
            path[c.name] = os.path.join(d, c.name + ".yaml")
            with open(path[c.name], "w") as f:
                f.write(c.text())
            write_files(d, c.files)
        self.make_images([c for c in cases if c.running])
        bad = gen.validate_files(a.vr, list(path.values()))
        live = []
        for c in cases:
            if path[c.name] in bad:
                self.add("invalid", norm_message(re.sub(r"^[^ ]*:\d+:\d+: ", "", bad[path[c.name]]),
                                                 c.name), c, bad[path[c.name]])
                os.unlink(path[c.name])
            else:
                live.append(c)
        if not live:
            return
        names = {c.name: c for c in live}
        self.running += sum(c.running for c in live)
        # the first apply: define, start
        rc, out, err = self.lv.run("apply", "-c", a.uri, d)
        errs = errors(err, names)
        ok = []
        for c in live:
            if c.name in errs:
                self.add("refused", norm_message(errs[c.name], c.name), c, errs[c.name])
            else:
                ok.append(c)
        self.applied += len(ok)
        if rc not in (0, 1) or writes(out) is None:
            print(f"not ok - batch {k + 1}: apply exited {rc}\n# " + err[-2000:].replace("\n", "\n# "))
        # the volumes and seeds made as asked
        stored = [c for c in ok if c.storage()]
        self.storage_files += len(stored)
        seen = self.observe(stored, lambda c: c.storage())
        for c in stored:
            for x in c.storage():
                got = self.seen(c, x, *seen)
                if got != x.value:
                    self.add("storage", generic_xpath(x), c,
                             f"{x.xpath()}: expected {x.value!r}, libvirt has {shorten(got)!r}")
                    break
        stable = {c.name for c in self.settled(d, ok, "rewritten", "plan")}
        # the edits: of every file libvirt took (what libvirt shows after
        # them is checked for all; a second apply and plan only for those
        # that were in sync before)
        edited = [c for c in ok if c.edit]
        for c in edited:
            with open(path[c.name] + ".tmp", "w") as f:
                f.write(gen.emit(c.edited(), header=f"edited: {c.edit.desc}"))
            os.rename(path[c.name] + ".tmp", path[c.name])
            write_files(d, c.edit.files)
        bad = gen.validate_files(a.vr, [path[c.name] for c in edited])
        for c in list(edited):
            if path[c.name] in bad:
                self.add("invalid", "edit: " + norm_message(
                    re.sub(r"^[^ ]*:\d+:\d+: ", "", bad[path[c.name]]), c.name), c,
                    f"{c.edit.desc}: {bad[path[c.name]]}", edit=True)
                edited.remove(c)
        if not edited:
            return
        self.make_images([c.edit for c in edited])
        self.edits += len(edited)
        before = self.observe(edited)
        rc, out, err = self.lv.run("apply", "-c", a.uri, d)
        errs = errors(err, names)
        refused = []
        for c in list(edited):
            if c.edit.must_refuse:
                # refused, with its reason, and nothing changed (expects);
                # then no more of it: every apply refuses it again
                edited.remove(c)
                if c.name in errs and c.edit.must_refuse in errs[c.name] and rc == 1:
                    refused.append(c)
                else:
                    calls = action_lines(out, names).get(c.name, [])
                    self.add("not-refused", f"{edit_kind(c.edit)}: " + (
                        norm_message(errs[c.name], c.name) if c.name in errs else
                        "not refused"), c,
                        f"{c.edit.desc}: apply exited {rc}, " + (
                            f"failed otherwise: {errs[c.name]}" if c.name in errs else
                            "made: " + ("; ".join(f"{a_} {w}" for a_, w in calls) or
                                        "no call")), edit=True)
            elif c.name in errs and c.edit.may_refuse:
                print(f"# {c.name}: libvirt refused the edit, as it may "
                      f"({c.edit.desc}): {errs[c.name]}")
                edited.remove(c)
            elif c.name in errs:
                self.add("refused", "edit: " + norm_message(errs[c.name], c.name), c,
                         f"{c.edit.desc}: {errs[c.name]}", edit=True)
                edited.remove(c)
        calls_first = action_lines(out, names)
        # what libvirt shows now
        wrong = {}
        after = self.observe(edited + refused)
        for c in edited + refused:
            kind = edit_kind(c.edit)
            if c.edit.path[-1:] in (("capacity",), ("user-data",)) and \
                    kind in self.storage_edits:
                self.storage_edits[kind] += 1
        for c in refused:
            self.edits_checked += 1
            for x in c.edit.expects:
                got, want = self.seen(c, x, *after), x.value
                if got != want or c.name in calls_first:
                    self.add("not-refused", f"{edit_kind(c.edit)}: {generic_xpath(x)}", c,
                             f"edit: {c.edit.desc}\n{x.xpath()}: expected {want!r}, "
                             f"libvirt has {got!r}\napply made: " +
                             ("; ".join(f"{a_} {w}" for a_, w in calls_first.get(c.name, []))
                              or "no call"), edit=True)
                    break
        for c in edited:
            self.edits_checked += 1
            for x in c.edit.expects:
                got, want = self.seen(c, x, *after), x.value
                if want == gen.UNCHANGED:
                    want = self.seen(c, x, *before)
                if got != want:
                    calls = calls_first.get(c.name, [])
                    wrong[c.name] = (f"{edit_kind(c.edit)}: {generic_xpath(x)}",
                                     f"edit: {c.edit.desc}\n{x.xpath()}: expected {want!r}, "
                                     f"libvirt has {got!r}\napply made: "
                                     + ("; ".join(f"{a_} {w}" for a_, w in calls) or "no call"))
                    break
        # silent (no call, plan in sync) but not made: the worst; a domain
        # in sync before the edit must be in sync after it
        quiet = {c.name for c in self.settled(d, edited, "edit-rewritten", "edit-rewritten",
                                              edit=True, report=stable)}
        for c in edited:
            # in sync for the edited field: the second apply wrote nothing
            # for the domain, or nothing that names the field
            silent = c.name in quiet or not mentions(self.last_calls.get(c.name, []), c.edit)
            if c.name in wrong and (silent or c.name in stable):
                self.add("not-made" if silent else "edit-rewritten",
                         wrong[c.name][0], c, wrong[c.name][1], edit=True)

    def observe(self, cases, expects=lambda c: c.edit.expects):
        """What libvirt shows of what the cases' expects read: (domain
        XML, autostart, storage)."""
        keys = {(c.name, x.live) for c in cases for x in expects(c)
                if x.what[0] not in ("autostart", "volcap", "seed")}
        stor = set()
        for c in cases:
            for x in expects(c):
                if x.what[0] in ("volcap", "seed"):
                    stor.add(x.what[:3])
                if x.what[0] == "seed" and "{uuid}" in x.what[3]:
                    stor.add(("uuid", c.name))
        return (self.lv.dumpxml(sorted(keys)),
                self.lv.autostart([c.name for c in cases
                                   if any(x.what[0] == "autostart" for x in expects(c))]),
                self.lv.storage(stor) if stor else {})

    @staticmethod
    def seen(c, x, xmls, autos, stor):
        if x.what[0] == "autostart":
            return autos.get(c.name)
        if x.what[0] == "volcap":
            return stor.get(x.what[:3])
        if x.what[0] == "seed":
            image = stor.get(x.what[:3])
            if image is None:
                return "(no seed volume)"
            needle = x.what[3].replace("{uuid}", stor.get(("uuid", c.name)) or "(no UUID)")
            return needle.encode() in image
        root = xmls.get((c.name, x.live))
        return x.find(root) if root is not None else "(no XML)"

    def settled(self, d, cases, kind_write, kind_plan, edit=False, report=None):
        """apply again: no write call; plan: in sync. The cases still fine;
        failures are reported for the names in report (default: all)."""
        a = self.a
        names = {c.name: c for c in cases}
        if not cases:
            return []
        rc, out, err = self.lv.run("apply", "-c", a.uri, d)
        calls = self.last_calls = action_lines(out, names)
        errs = errors(err, names)
        good = []
        for c in cases:
            if report is not None and c.name not in report:
                if c.name not in calls and c.name not in errs:
                    good.append(c)
                continue
            if c.name in calls:
                act, why = calls[c.name][0]
                self.add(kind_write, ("edit: " if edit else "") + call_key(act, why), c,
                         (f"edit: {c.edit.desc}\n" if edit else "") +
                         "second apply: " + "; ".join(f"{x} {y}" for x, y in calls[c.name]),
                         edit=edit)
            elif c.name in errs:
                self.add(kind_write, ("edit: " if edit else "") + "error: " +
                         norm_message(errs[c.name], c.name), c,
                         "second apply: " + errs[c.name], edit=edit)
            else:
                good.append(c)
        rc, out, err = self.lv.run("plan", "-c", a.uri, d)
        blocks = plan_blocks(out, names)
        still = []
        for c in good:
            phase, lines = blocks.get(c.name, ("(missing)", []))
            key = unsettled((phase, lines))
            if key and report is not None and c.name not in report:
                continue
            if key:
                self.add(kind_plan, ("edit: " if edit else "") + "plan: " + key, c,
                         f"plan exit {rc}: {phase}\n" + "\n".join(lines), edit=edit)
            else:
                still.append(c)
        return still


def mentions(calls, edit):
    """Whether calls name the edited field (its path down to a list)."""
    parts = []
    for p in edit.path:
        if isinstance(p, int):
            break
        parts.append(p)
    field = ".".join(parts)
    return any(f"{field} " in why or why.startswith(field) or
               (field == "autostart" and act == "set-autostart") for act, why in calls)


def edit_kind(e):
    return e.desc.split(" ")[0]


def shorten(v):
    return v[:60] + b"..." if isinstance(v, bytes) and len(v) > 60 else v


def write_files(d, files):
    """The files beside the files (a seed's parts)."""
    for fname, text in files.items():
        with open(os.path.join(d, fname) + ".tmp", "w") as f:
            f.write(text)
        os.rename(os.path.join(d, fname) + ".tmp", os.path.join(d, fname))


def generic_xpath(x):
    if x.what[0] == "volcap":
        return "a volume's capacity"
    if x.what[0] == "seed":
        return "the seed holds " + ("the domain's UUID as instance-id" if "{uuid}" in x.what[3]
                                    else "the user-data")
    return re.sub(r"\[[^\]]*\]", "", x.xpath())


# ------------------------------------------------------------ shrinking


class Reproducer:
    """Runs one finding's check again on candidate files, in a directory
    of its own each time."""

    def __init__(self, suite, finding):
        self.s, self.f = suite, finding
        self.n = 0

    def valid(self, texts_list):
        d = os.path.join(self.s.work, "shrink-valid")
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        paths, out = [], []
        write_files(d, self.f.case.edit_files())
        for i, texts in enumerate(texts_list):
            ps = []
            for j, t in enumerate(texts):
                p = os.path.join(d, f"c{i}-{j}.yaml")
                with open(p, "w") as fh:
                    fh.write(re.sub(r"^name:.*$", f"name: vrgen-v{i}-{j}", t, flags=re.M))
                ps.append(p)
            paths.append(ps)
        flat = [p for ps in paths for p in ps]
        bad = {}
        for i in range(0, len(flat), 40):
            bad.update(gen.validate_files(self.s.a.vr, flat[i:i + 40]))
        for ps in paths:
            out.append(not any(p in bad for p in ps))
        return out

    def key_of(self, trees):
        """The finding's key on these trees, or None."""
        f, s, lv, a = self.f, self.s, self.s.lv, self.s.a
        name = f.case.name
        self.n += 1
        d = os.path.join(s.work, f"shrink-{self.n}")
        os.makedirs(d)
        p = os.path.join(d, name + ".yaml")
        try:
            with open(p, "w") as fh:
                fh.write(gen.emit(trees[0]))
            write_files(d, f.case.files)
            if f.kind == "invalid" and not f.edit:
                bad = gen.validate_files(a.vr, [p])
                return norm_message(re.sub(r"^[^ ]*:\d+:\d+: ", "", bad[p]), name) \
                    if p in bad else None
            rc, out, err = lv.run("apply", "-c", a.uri, d)
            e = errors(err, {name: 1})
            if f.kind == "refused" and not f.edit:
                return norm_message(e[name], name) if name in e else None
            if name in e:
                return None
            if f.kind == "storage":
                xs = f.case.storage(trees[0])
                got = s.observe([f.case], lambda c: xs)
                return next((generic_xpath(x) for x in xs
                             if s.seen(f.case, x, *got) != x.value), None)
            if not f.edit:
                rc, out, err = lv.run("apply", "-c", a.uri, d)
                calls = action_lines(out, {name: 1})
                if f.kind == "rewritten":
                    return call_key(*calls[name][0]) if name in calls else None
                rc, out, err = lv.run("plan", "-c", a.uri, d)
                key = unsettled(plan_blocks(out, {name: 1}).get(name))
                return "plan: " + key if key else None
            # an edit's finding: the file, then its edited form
            before = s.observe([f.case])
            with open(p + ".tmp", "w") as fh:
                fh.write(gen.emit(trees[1]))
            os.rename(p + ".tmp", p)
            write_files(d, f.case.edit.files)
            if f.kind == "invalid":
                bad = gen.validate_files(a.vr, [p])
                return "edit: " + norm_message(re.sub(r"^[^ ]*:\d+:\d+: ", "", bad[p]), name) \
                    if p in bad else None
            rc, out, err = lv.run("apply", "-c", a.uri, d)
            e = errors(err, {name: 1})
            if f.kind == "refused":
                return "edit: " + norm_message(e[name], name) if name in e else None
            if f.kind == "not-refused":
                kind = edit_kind(f.case.edit)
                if name not in e or f.case.edit.must_refuse not in e[name]:
                    return f"{kind}: " + (norm_message(e[name], name) if name in e
                                          else "not refused")
                after = s.observe([f.case])
                return next((f"{kind}: {generic_xpath(x)}" for x in f.case.edit.expects
                             if s.seen(f.case, x, *after) != x.value), None)
            if name in e:
                return None
            after = s.observe([f.case])
            wrong = None
            for x in f.case.edit.expects:
                want = x.value if x.value != gen.UNCHANGED else s.seen(f.case, x, *before)
                if s.seen(f.case, x, *after) != want:
                    wrong = f"{edit_kind(f.case.edit)}: {generic_xpath(x)}"
                    break
            rc, out, err = lv.run("apply", "-c", a.uri, d)
            calls = action_lines(out, {name: 1})
            if f.kind == "not-made":
                return wrong if not mentions(calls.get(name, []), f.case.edit) else None
            if name in calls:
                return "edit: " + call_key(*calls[name][0])
            rc, out, err = lv.run("plan", "-c", a.uri, d)
            key = unsettled(plan_blocks(out, {name: 1}).get(name))
            return "edit: plan: " + key if key else wrong
        finally:
            lv.remove([name])
            shutil.rmtree(d, ignore_errors=True)

    def predicate(self, trees):
        return self.key_of(trees) == self.f.key


def shrink_finding(suite, f, budget):
    rep = Reproducer(suite, f)
    trees = (f.case.tree, f.case.edited()) if f.edit else (f.case.tree,)
    # state and type stay: a shut-off file without its state would start
    # (64 GiB guests), and one without its type would be a KVM guest
    protect = ((f.case.edit.path,) if f.edit else ()) + (("state",), ("type",))
    if not rep.predicate(trees):
        return None, rep.n
    # a running guest that shows the same failure shut off is smaller
    # a file validate refuses stays refused: only the predicate judges it
    # (an edit validate refuses: the file before it must stay valid)
    valid = rep.valid
    if f.kind == "invalid":
        valid = (lambda cands: rep.valid([c[:1] for c in cands])) if f.edit \
            else (lambda cands: [True] * len(cands))
    small = gen.shrink(trees, rep.predicate, valid, protect=protect, budget=budget)
    return small, rep.n


# ------------------------------------------------------------ main


def open_locks():
    """The locks of tests/tap.sh's open_lock: agent-real, then libvirt-real
    (the order tests/agent and tests/faults take them)."""
    lockdir = "/run/lock" if os.path.isdir("/run/lock") else "/tmp"
    held = []
    for suite in ("agent-real", "libvirt-real"):
        path = f"{lockdir}/virt-reconcile-{suite}.lock"
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"# another run holds {path}; waiting for it", flush=True)
            deadline = time.monotonic() + 420
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        print(f"generative: SKIP: another run held {path} for 7 minutes")
                        sys.exit(77)
                    time.sleep(0.5)
        held.append(fd)
    return held


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("vr")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=40)
    ap.add_argument("--batch", type=int, default=20)
    ap.add_argument("--uri", default="qemu:///system")
    ap.add_argument("--running-fraction", type=float, default=0.15)
    ap.add_argument("--schema-dump", help="default: BUILD/tests/gen/schema-dump")
    ap.add_argument("--shrink-budget", type=float, default=300,
                    help="seconds for shrinking, in all")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    ap.add_argument("--with-known-bugs", action="store_true",
                    help="make the files gen.py's KNOWN_BUGS avoids")
    ap.add_argument("--image-dir", help="the directory for vrgen-PID/, the "
                    "running guests' images, removed at exit (default "
                    "/var/lib/libvirt/images)")
    ap.add_argument("--nvram-dir", default=gen.NVRAM_DIR,
                    help="where the files' NVRAM paths point (a session "
                    "libvirtd writes only below its user's home)")
    ap.add_argument("--pool-dir", default=gen.POOL_DIR,
                    help=f"the directory of the suite's pool, {gen.POOL}, made "
                    "at the start and removed at exit (default %(default)s)")
    a = ap.parse_args()
    a.vr = os.path.abspath(a.vr)
    if not a.schema_dump:
        a.schema_dump = os.path.join(os.path.dirname(os.path.dirname(a.vr)),
                                     "tests", "gen", "schema-dump")
    if not shutil.which("virsh"):
        print("generative: SKIP: virsh is not installed")
        return 77
    lv = Libvirt(a.uri, a.vr)
    # the locks first: a suite that holds them may be restarting libvirtd;
    # they guard the system libvirtd only (a private session daemon, as
    # tests/gen/README.md shows, is this run's alone)
    locks = open_locks() if a.uri.startswith("qemu:///system") else []  # noqa: F841
    if lv.virsh("version", timeout=30).returncode != 0:
        print(f"generative: SKIP: {a.uri} does not answer")
        return 77
    os.umask(0o022)  # plan and apply refuse group- or other-writable files
    work = tempfile.mkdtemp(prefix="vrgen.")
    image_dir = os.path.join(a.image_dir or "/var/lib/libvirt/images", f"vrgen-{os.getpid()}")
    host = gen.Host(lv.virsh("capabilities").stdout, image_dir=image_dir,
                    nvram_dir=a.nvram_dir, pool=gen.POOL, pool_dir=a.pool_dir,
                    cpu_models=lv.virsh("cpu-models", "x86_64").stdout.split() or None)
    host.read_domcapabilities(lv.virsh("domcapabilities", "--virttype", "qemu",
                                       "--machine", "q35").stdout)
    g = gen.Gen(gen.load_schema(a.schema_dump), host)
    suite = Suite(a, lv, g, host, work)
    try:
        stale = lv.ours()
        if stale:
            say(f"removing {len(stale)} vrgen-* domains left from an earlier run")
            lv.remove(stale)
        if not lv.pool_up(a.pool_dir):
            print(f"generative: the pool {gen.POOL} cannot be made in {a.pool_dir}")
            return 1
        say(f"seed {a.seed}, {a.count} files in batches of {a.batch}, "
            f"running fraction {a.running_fraction}; virt-reconcile: {a.vr}")
        gen.AVOID_KNOWN = not a.with_known_bugs
        for what, _ in gen.KNOWN_BUGS if gen.AVOID_KNOWN else []:
            print(f"# not made, a known program bug: {what}")
        for what in gen.KNOWN_EDIT_BUGS if gen.AVOID_KNOWN else []:
            print(f"# no such edit, a known program bug: {what}")
        for what in gen.KNOWN_SPELLING_BUGS if gen.AVOID_KNOWN else []:
            print(f"# not written so, a known program bug: {what}")
        if not host.tpm_emulator:
            print("# no TPM: libvirt offers no TPM emulator here (swtpm is not installed)")
        g.excluded = gen.calibrate(g, a.vr, os.path.join(work, "calibrate"), a.seed)
        for d, vals in sorted(g.excluded.items()):
            for v, why in vals.items():
                print(f"# left out {d}: {v}: validate refuses it in any file: {why}")
        idx = list(range(a.count))
        batches = [idx[i:i + a.batch] for i in range(0, len(idx), a.batch)]
        for k, b in enumerate(batches):
            try:
                suite.batch(k, len(batches), b)
            finally:
                lv.remove(lv.ours())
                lv.remove_volumes((PREFIX,))
        report(suite, a)
    finally:
        lv.remove(lv.ours())
        lv.pool_down(a.pool_dir)
        shutil.rmtree(image_dir, ignore_errors=True)
        if a.keep:
            print(f"# work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0 if not suite.findings else 1


def report(suite, a):
    groups = {}
    for f in suite.findings:
        groups.setdefault((f.kind, f.key), []).append(f)
    say(f"shrinking {len(groups)} distinct failures")
    t_end = time.monotonic() + a.shrink_budget
    shrunk = {}
    for (kind, key), fs in sorted(groups.items()):
        left = t_end - time.monotonic()
        if left <= 5:
            break
        f = min(fs, key=lambda f: len(f.case.text()))
        small, n = shrink_finding(suite, f, min(left, max(30, a.shrink_budget / len(groups))))
        shrunk[(kind, key)] = (f, small, n)
    counts = {k: sum(1 for f in suite.findings if f.kind == k) for k, _ in KINDS}
    print()
    print(f"generative: seed {a.seed}")
    print(f"  files generated: {suite.generated} ({suite.running} running guests, "
          f"{suite.storage_files} applied with volumes or a seed)")
    print(f"  files applied: {suite.applied}")
    print(f"  edits applied: {suite.edits}, checked: {suite.edits_checked} "
          f"(volumes grown: {suite.storage_edits['grow']}, shrinks refused: "
          f"{suite.storage_edits['shrink']}, user-data changed: "
          f"{suite.storage_edits['change']})")
    for k, what in KINDS:
        print(f"  {what}: {counts[k]}")
    for (kind, key), fs in sorted(groups.items()):
        print()
        print(f"== {kind}: {key} ({len(fs)} file{'s' if len(fs) != 1 else ''}: "
              + ", ".join(f.case.name for f in fs[:6]) + (", …" if len(fs) > 6 else "") + ")")
        f = fs[0]
        for line in f.detail.splitlines()[:12]:
            print(f"   {line}")
        if (kind, key) not in shrunk:
            print("   (not shrunk: out of time)")
            continue
        f, small, n = shrunk[(kind, key)]
        if small is None:
            print(f"   (did not fail again alone, in a directory of its own: {f.case.name})")
            print("   " + f.case.text().replace("\n", "\n   "))
            continue
        print(f"   minimal file ({n} runs to shrink):")
        print("   " + gen.emit(small[0]).rstrip().replace("\n", "\n   "))
        if f.edit:
            print(f"   edited ({f.case.edit.desc}):")
            print("   " + gen.emit(small[1]).rstrip().replace("\n", "\n   "))
    total = sum(counts.values())
    print()
    print(f"generative: {suite.generated} files, {suite.edits} edits, {total} failures "
          f"in {len(groups)} groups, {time.monotonic() - START:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
