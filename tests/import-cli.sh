#!/bin/sh
# import on the command line, on libvirt's test driver (no daemon) from a
# node file each process reads afresh: files written per domain, atomically
# and 0644 whatever the umask, taken over by the next plan and apply with
# the mark alone; an existing file refused without --force and replaced
# with it; several domains without -o refused; what it reports. (That a
# second apply writes nothing needs one process: tests/libvirt-test.c.)
# usage: import-cli.sh VIRT_RECONCILE
set -u
vr=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 700 "$work"
pass=0
fail=0
cat >"$work/node.xml" <<'XML'
<node>
  <domain type='test'>
    <name>web01</name>
    <uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid>
    <title>Web frontend</title>
    <memory unit='GiB'>1</memory>
    <currentMemory unit='MiB'>768</currentMemory>
    <vcpu current='1'>2</vcpu>
    <os><type>hvm</type></os>
    <devices>
      <disk type='file' device='disk'>
        <source file='/var/lib/images/web01.img'/>
        <target dev='vda' bus='virtio'/>
      </disk>
      <interface type='network'>
        <mac address='52:54:00:12:34:56'/>
        <source network='default'/>
      </interface>
    </devices>
  </domain>
  <domain type='test'>
    <name>db01</name>
    <uuid>7d1c6e0b-9a52-4a3f-8e21-6b0f3c2d1e4a</uuid>
    <memory>524288</memory>
    <vcpu>1</vcpu>
    <os><type>hvm</type></os>
  </domain>
  <domain type='test'>
    <name>.hidden</name>
    <uuid>0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f</uuid>
    <memory>524288</memory>
    <vcpu>1</vcpu>
    <os><type>hvm</type></os>
  </domain>
</node>
XML
uri=test://$work/node.xml
out=$work/out
err=$work/err
d=$work/d
mkdir -m 755 "$d"

check() {
  if eval "$2"; then
    pass=$((pass + 1))
    echo "ok   $1"
  else
    fail=$((fail + 1))
    echo "FAIL $1"
    sed 's/^/    out: /' "$out"
    sed 's/^/    err: /' "$err"
  fi
}

# import DOMAIN... (or --all) into d, as root or anyone, under umask 077
( umask 077 && "$vr" import -c "$uri" -o "$d" web01 db01 ) >"$out" 2>"$err"
check "import -o writes one file per domain" \
  '[ $? = 0 ] && [ -f "$d/web01.yaml" ] && [ -f "$d/db01.yaml" ] &&
   grep -q "^web01: wrote $d/web01.yaml$" "$out" &&
   grep -q "^2 files written, 0 with problems; 0 domains not written$" "$out"'
check "files are 0644 whatever the umask, and no temporary file is left" \
  '[ "$(stat -c %a "$d/web01.yaml")" = 644 ] &&
   [ "$(stat -c %a "$d/db01.yaml")" = 644 ] &&
   [ "$(ls -A "$d" | tr "\n" " ")" = "db01.yaml web01.yaml " ]'
check "the file adopts its domain and says its state and autostart" \
  'grep -q "^adopt: true$" "$d/web01.yaml" &&
   grep -q "^state: running$" "$d/web01.yaml" &&
   grep -q "^autostart: false$" "$d/web01.yaml" &&
   grep -q "^uuid: .4dea22b3-1d52-d8f3-2516-782e98ab3fa0.$" "$d/web01.yaml" &&
   grep -q "mac: .52:54:00:12:34:56." "$d/web01.yaml"'

"$vr" plan -c "$uri" "$d" >"$out" 2>"$err"
check "plan takes each domain over with the mark alone" \
  '[ $? = 2 ] && [ "$(grep -c "^  [+!]" "$out")" = 2 ] &&
   [ "$(grep -c "^  + set-mark config: adopt: mark as managed$" "$out")" = 2 ] &&
   grep -q "^2 domains: 2 converging; 2 changes pending$" "$out"'

"$vr" apply -c "$uri" "$d" >"$out" 2>"$err"
check "apply makes two calls, the marks" \
  '[ $? = 0 ] && [ "$(grep -c ": set-mark (config): adopt: mark as managed$" "$out")" = 2 ] &&
   grep -q "; 2 libvirt write calls$" "$out"'

# an existing file is left alone without --force
echo "# edited by hand" >>"$d/web01.yaml"
cp "$d/web01.yaml" "$work/web01.before"
"$vr" import -c "$uri" -o "$d" web01 >"$out" 2>"$err"
check "an existing file is refused without --force, and left as it was" \
  '[ $? = 1 ] && grep -q "^virt-reconcile: $d/web01.yaml exists; it is left as it is (--force overwrites it)$" "$err" &&
   cmp -s "$d/web01.yaml" "$work/web01.before" &&
   grep -q "^0 files written, 0 with problems; 1 domain not written$" "$out"'
"$vr" import -c "$uri" -o "$d" --force web01 >"$out" 2>"$err"
check "--force replaces it" \
  '[ $? = 0 ] && ! grep -q "edited by hand" "$d/web01.yaml" &&
   [ "$(stat -c %a "$d/web01.yaml")" = 644 ]'

# one domain without -o: standard output, the same file
"$vr" import -c "$uri" web01 >"$out" 2>"$err"
check "one domain without -o goes to standard output" \
  '[ $? = 0 ] && cmp -s "$out" "$d/web01.yaml"'
"$vr" import -c "$uri" web01 db01 >"$out" 2>"$err"
check "several domains without -o are refused" \
  '[ $? = 1 ] && [ ! -s "$out" ] && grep -q "several domains are written one file each: give -o DIR" "$err"'
"$vr" import -c "$uri" --all >"$out" 2>"$err"
check "--all without -o is refused" \
  '[ $? = 1 ] && [ ! -s "$out" ] && grep -q "give -o DIR" "$err"'
"$vr" import --xml "$d/web01.yaml" "$d/db01.yaml" >"$out" 2>"$err"
check "several XML files without -o are refused" \
  '[ $? = 1 ] && grep -q "give -o DIR" "$err"'

"$vr" import -c "$uri" -o "$d" nope db01 >"$out" 2>"$err"
check "a domain that does not exist is named; the others go on" \
  '[ $? = 1 ] && grep -q "^virt-reconcile: nope: no such domain$" "$err" &&
   grep -q "db01.yaml exists" "$err"'
mkdir -m 755 "$work/e"
"$vr" import -c "$uri" -o "$work/e" --all >"$out" 2>"$err"
check "--all: every domain, and one whose file the agent would ignore is refused" \
  '[ $? = 1 ] && [ "$(ls -A "$work/e" | tr "\n" " ")" = "db01.yaml web01.yaml " ] &&
   grep -q "^virt-reconcile: .hidden: domain .\.hidden. gets no file: the agent ignores files whose name begins with .\..$" "$err"'
"$vr" import -c "$uri" -o "$work/nowhere" web01 >"$out" 2>"$err"
check "an output directory that does not exist is refused" \
  '[ $? = 1 ] && grep -q "nowhere: cannot write files there: No such file or directory" "$err"'

printf '<domain>\n  <name>x</name>\n  <memory>1</memory>\n</domainx>\n' >"$work/bad.xml"
"$vr" import --xml "$work/bad.xml" >"$out" 2>"$err"
check "XML that does not parse names the file and the line" \
  '[ $? = 1 ] && [ ! -s "$out" ] && grep -q "^virt-reconcile: $work/bad.xml: line 4: " "$err"'

# --xml: a domain's XML without libvirt: a definition, shut off as a define
# leaves it, and no autostart
sed -n '/<domain/,/<\/domain>/p' "$work/node.xml" | sed '/<\/domain>/q' >"$work/web01.xml"
"$vr" import --xml "$work/web01.xml" >"$out" 2>"$err"
check "--xml reads a file: state shutoff, as a define leaves it, no autostart" \
  '[ $? = 0 ] && grep -q "^name: web01$" "$out" && grep -q "^adopt: true$" "$out" &&
   grep -q "^state: shutoff$" "$out" && ! grep -q "^autostart:" "$out" &&
   grep -q "says nothing of running" "$err"'

echo "import-cli: $pass passed, $fail failed"
[ "$fail" = 0 ]
