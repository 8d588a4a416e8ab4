#!/usr/bin/env python3
"""The x86_64 pairs of libvirt's qemuxml2xmltest, read from its source.

    extract.py ORIG_TARBALL [--debian DEBIAN_TARBALL] [--write DIR]

reads tests/qemuxml2xmltest.c of a libvirt source tarball (with --debian,
after Debian's patches that touch the test or its data, in the order of
their series) and prints one line per test it runs:

    pair NAME IN OUT            an x86_64 pair (paths inside tests/)
    excluded NAME.SUFFIX REASON...  a test that is not one

and a summary on stderr. With --write DIR it also writes DIR/in/NAME.xml
(the test's input) and DIR/out/NAME.xml (libvirt's output for the inactive
definition) for every pair, removes the files of pairs no longer listed,
and writes DIR/pairs and DIR/excluded (the "pair" and "excluded" lines).

What the test does, in libvirt 9.0 (the rules below follow it, and the
script stops on a macro it does not know rather than guess):

- DO_TEST_CAPS_LATEST(N) and DO_TEST_CAPS_VER(N, V) run with x86_64's
  real capabilities; DO_TEST_CAPS_ARCH_*(N, ARCH, ...) with ARCH's: only
  x86_64 ones are pairs.
- DO_TEST(N, CAPS...), DO_TEST_NOCAPS(N), DO_TEST_MACOS(N, ...) and
  DO_TEST_FULL(N, "", WHEN, ...) run with made-up capabilities for every
  architecture, so the guest's own architecture decides: <type arch=...>,
  or the test host's (x86_64) when the input names none. x86_64 and i686
  guests are pairs (an x86_64 host's QEMU, Debian's qemu-system-x86, runs
  both; most of libvirt's older inputs, minimal.xml among them, say
  i686); aarch64, ppc64, s390x and riscv64 guests are not.
- Every test parses NAME.xml from qemuxml2argvdata/ and compares the
  inactive definition with qemuxml2xmloutdata/NAME-inactive.SUFFIX.xml
  when that exists, else qemuxml2xmloutdata/NAME.SUFFIX.xml (SUFFIX:
  "x86_64-latest", "x86_64-VER", or nothing). A missing output file is
  the test's failure, not the input; outputs equal to their input are
  symbolic links to it there (read through here: the files written are
  plain copies).
- The test expects every definition to parse (testXML2XMLInactive passes
  RESULT_SUCCESS whatever the flags); a test that says FLAG_EXPECT_PARSE_ERROR
  or FLAG_EXPECT_FAILURE is excluded all the same, should one appear.
- A test run twice under one name and suffix (the aarch64 GIC variants) is
  one pair.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import xml.etree.ElementTree as ET

TEST = "tests/qemuxml2xmltest.c"
DATA = ("tests/qemuxml2argvdata/", "tests/qemuxml2xmloutdata/")
HOST_ARCH = "x86_64"
# the guests of made-up capabilities that an x86_64 host runs
X86_GUESTS = ("x86_64", "i686")


def extractall(t, dest, members=None):
    """tarfile's extractall, with its "data" filter (no links out of dest,
    no devices) where this Python has it (3.11.4 and later)."""
    if hasattr(tarfile, "data_filter"):
        extractall(t, dest, members)
    else:
        t.extractall(dest, members=members)


def extract(tarball, dest):
    """The test and its data from the tarball into dest/tests/."""
    with tarfile.open(tarball) as t:
        members = []
        for m in t.getmembers():
            # libvirt-9.0.0/tests/... -> tests/...
            parts = m.name.split("/", 1)
            if len(parts) < 2:
                continue
            rel = parts[1]
            if rel == TEST or rel.startswith(DATA):
                m.name = rel
                members.append(m)
        if not any(m.name == TEST for m in members):
            sys.exit("extract.py: %s has no %s" % (tarball, TEST))
        extractall(t, dest, members)


def apply_debian(tarball, dest):
    """Debian's patches, in series order, limited to the test and its data.
    Returns the names of the patches that changed something here."""
    applied = []
    with tempfile.TemporaryDirectory() as deb:
        with tarfile.open(tarball) as t:
            extractall(t, deb)
        series = os.path.join(deb, "debian/patches/series")
        with open(series) as f:
            names = [l.split("#")[0].strip() for l in f]
        for name in filter(None, names):
            patch = os.path.join(deb, "debian/patches", name)
            with open(patch, errors="replace") as f:
                text = f.read()
            if not re.search(r"^\+\+\+ b/(%s|%s|%s)" % (
                    re.escape(TEST), re.escape(DATA[0]), re.escape(DATA[1])),
                    text, re.M):
                continue
            subprocess.run(
                ["git", "apply", "-p1", "--include=" + TEST,
                 "--include=" + DATA[0] + "*", "--include=" + DATA[1] + "*",
                 patch],
                cwd=dest, check=True,
                env=dict(os.environ, GIT_CEILING_DIRECTORIES=dest,
                         GIT_DIR=os.path.join(dest, ".no-git")))
            applied.append(name)
    return applied


def strip_c(text):
    """The C source without comments and preprocessor lines (macro
    definitions span lines with backslashes)."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    text = re.sub(r"^[ \t]*#(?:[^\n]*\\\n)*[^\n]*", " ", text, flags=re.M)
    return text


def calls(text):
    """Every DO_TEST* call in mymain: (macro, [arguments as text])."""
    body = text[text.index("mymain(void)"):]
    for m in re.finditer(r"\b(DO_TEST\w*)\s*\(", body):
        i, depth, args, cur = m.end(), 1, [], ""
        while depth:
            c = body[i]
            if c == '"':
                j = body.index('"', i + 1)
                cur += body[i:j + 1]
                i = j + 1
                continue
            if c == "(":
                depth += 1
            elif c == ")":
                depth -= 1
                if not depth:
                    break
            if c == "," and depth == 1:
                args.append(cur.strip())
                cur = ""
            else:
                cur += c
            i += 1
        args.append(cur.strip())
        yield m.group(1), [" ".join(a.split()) for a in args]


def literal(s):
    m = re.fullmatch(r'"([^"]*)"', s)
    if not m:
        sys.exit("extract.py: expected a string literal, got %s" % s)
    return m.group(1)


def guest_arch(path):
    root = ET.parse(path).getroot()
    t = root.find("os/type")
    arch = t.get("arch") if t is not None else None
    return arch or HOST_ARCH


def tests(src):
    """(name, suffix, capabilities' arch or None (made-up ones: the
    guest's arch decides), flags, when) for every test run, in order."""
    with open(os.path.join(src, TEST)) as f:
        text = strip_c(f.read())
    for macro, a in calls(text):
        rest = " ".join(a[1:])
        flags = set(re.findall(r"\bFLAG_\w+", rest))
        name = literal(a[0])
        if macro == "DO_TEST_CAPS_LATEST":
            yield name, ".x86_64-latest", "x86_64", flags, "WHEN_BOTH"
        elif macro == "DO_TEST_CAPS_VER":
            yield name, ".x86_64-" + literal(a[1]), "x86_64", flags, "WHEN_BOTH"
        elif macro in ("DO_TEST_CAPS_ARCH_LATEST",
                       "DO_TEST_CAPS_ARCH_LATEST_FULL"):
            arch = literal(a[1])
            yield name, "." + arch + "-latest", arch, flags, "WHEN_BOTH"
        elif macro in ("DO_TEST_CAPS_ARCH_VER", "DO_TEST_CAPS_ARCH_VER_FULL"):
            arch = literal(a[1])
            yield name, "." + arch + "-" + literal(a[2]), arch, flags, "WHEN_BOTH"
        elif macro in ("DO_TEST", "DO_TEST_NOCAPS", "DO_TEST_MACOS"):
            yield name, "", None, flags, "WHEN_BOTH"
        elif macro == "DO_TEST_FULL":
            if "ARG_CAPS_ARCH" in rest:
                sys.exit("extract.py: DO_TEST_FULL with ARG_CAPS_ARCH "
                         "(%s): not known here" % name)
            yield name, literal(a[1]), None, flags, a[2]
        elif macro in ("DO_TEST_CAPS_INTERNAL",):
            sys.exit("extract.py: %s called directly: not known here" % macro)
        else:
            sys.exit("extract.py: unknown macro %s (%s)" % (macro, name))


def pairs(src):
    """(pairs [(name, in, out)], excluded [(name, reason)], the number of
    test calls)."""
    got, excluded, seen, n_calls = [], [], set(), 0
    for name, suffix, arch, flags, when in tests(src):
        key = name + suffix
        n_calls += 1
        if key in seen:
            continue
        seen.add(key)
        infile = "qemuxml2argvdata/%s.xml" % name
        out = "qemuxml2xmloutdata/%s-inactive%s.xml" % (name, suffix)
        if not os.path.exists(os.path.join(src, "tests", out)):
            out = "qemuxml2xmloutdata/%s%s.xml" % (name, suffix)
        bad = flags & {"FLAG_EXPECT_PARSE_ERROR", "FLAG_EXPECT_FAILURE"}
        if arch is None and os.path.exists(os.path.join(src, "tests", infile)):
            guest = guest_arch(os.path.join(src, "tests", infile))
            x86 = guest in X86_GUESTS
            why = "guest arch %s (made-up capabilities)" % guest
        else:
            x86 = arch == "x86_64"
            why = "capabilities of %s" % arch
        if not x86:
            excluded.append((key, why))
        elif when not in ("WHEN_INACTIVE", "WHEN_BOTH"):
            # only the live definition is compared: nothing about what
            # libvirt holds inactive
            excluded.append((key, "compared active only (%s)" % when))
        elif bad:
            excluded.append((key, "expected to fail: " + " ".join(sorted(bad))))
        elif not os.path.exists(os.path.join(src, "tests", infile)):
            excluded.append((key, "no input " + infile))
        elif not os.path.exists(os.path.join(src, "tests", out)):
            excluded.append((key, "no output " + out))
        else:
            got.append((name, infile, out))
    # the files are named by the test: one pair each
    names = [n for n, _, _ in got]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        sys.exit("extract.py: tests with two x86_64 pairs: " + " ".join(twice))
    return got, excluded, n_calls


def write(src, dest, got, excluded):
    names = {n for n, _, _ in got}
    for sub in ("in", "out"):
        os.makedirs(os.path.join(dest, sub), exist_ok=True)
        for f in os.listdir(os.path.join(dest, sub)):
            if f[:-4] not in names:
                os.unlink(os.path.join(dest, sub, f))
    for name, infile, out in got:
        # copyfile follows links: the data as libvirt's test reads it
        shutil.copyfile(os.path.join(src, "tests", infile),
                        os.path.join(dest, "in", name + ".xml"))
        shutil.copyfile(os.path.join(src, "tests", out),
                        os.path.join(dest, "out", name + ".xml"))
    with open(os.path.join(dest, "pairs"), "w") as f:
        for name, infile, out in got:
            f.write("pair %s %s %s\n" % (name, infile, out))
    with open(os.path.join(dest, "excluded"), "w") as f:
        for name, why in excluded:
            f.write("excluded %s %s\n" % (name, why))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("tarball")
    p.add_argument("--debian", metavar="DEBIAN_TARBALL")
    p.add_argument("--write", metavar="DIR")
    o = p.parse_args()
    with tempfile.TemporaryDirectory() as src:
        extract(o.tarball, src)
        applied = apply_debian(o.debian, src) if o.debian else []
        got, excluded, n_calls = pairs(src)
        for name, infile, out in got:
            print("pair", name, infile, out)
        for name, why in excluded:
            print("excluded", name, why)
        if o.write:
            write(src, o.write, got, excluded)
    for a in applied:
        print("extract.py: applied Debian's %s" % a, file=sys.stderr)
    print("extract.py: %d test calls, %d tests (name and output suffix), "
          "%d x86_64 pairs, %d excluded" %
          (n_calls, len(got) + len(excluded), len(got), len(excluded)),
          file=sys.stderr)


if __name__ == "__main__":
    main()
