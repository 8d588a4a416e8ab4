#!/bin/bash
# eval '…' conditions are expanded at each poll, on purpose:
# shellcheck disable=SC2016,SC2034
# GitOps on the system libvirtd: `run --prune` watching a git checkout
# that `git pull --ff-only` updates, with real guests.
# - 20 running guests (type qemu, 64 MiB, 1 vCPU of 3, no disk: each boots
#   to its firmware), one file each, every file with a fixed `uuid:`;
# - 50 commits made in a second clone and pushed, each pulled into the
#   watched checkout in turn, the agent settled after each: a seeded mix
#   of renames (git mv), moves (a file's content written under another
#   name: the same domain), edits (title and description, written to the
#   config and set live; vcpu.current raised, live),
#   deletions and restores (a deleted file brought back from history,
#   byte for byte);
# - every write call is accounted for: the agent's write counter must
#   grow by exactly what each commit requires (below, COSTS), each kept
#   guest keeps its UUID and its domain id (never restarted), each
#   deletion is pruned exactly once, a restored file defines and starts
#   its domain again with the same UUID (its file names it) and a new id.
# Settled means: the status lists exactly the files of the checkout, each
# with its domain and the phase its edits lead to (and an edited file's
# last change names the new value), no orphan and no entry of a deleted
# domain; the write counter reached what the commit requires; and, after
# a commit that removed a name (git unlinks a file it rewrites, too), an
# orphan pass counted after the pull.
#
# GITOPS_SEED chooses the mix (default below; the seed is printed);
# GITOPS_GUESTS and GITOPS_COMMITS its size (default 20 and 50; CI runs a
# smaller one, see tests/meson.build); GITOPS_SETTLE_S how long a commit
# may take to settle (default 30 s).
# Every domain it makes is named vragent-gitops-*, and removed at exit.
# It takes the agent-real and libvirt-real suites' locks: those remove
# every vragent-* domain, or prune every virt-reconcile domain.
# Usage: gitops.sh PATH-TO-virt-reconcile. Exit status: 0 all checks
# passed, 1 a check failed, 77 (skip) when libvirtd cannot be had.
set -u

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/agent/lib.sh
. "$HERE/../agent/lib.sh"
vr_arg "$@"
SEED=${GITOPS_SEED:-20261205}
GUESTS=${GITOPS_GUESTS:-20}
COMMITS=${GITOPS_COMMITS:-50}
KEEP_AT_LEAST=$((GUESTS * 3 / 5)) # files a deletion leaves at least
# a commit settles within this (a deletion takes 3 s: shutdown, destroy)
SETTLE_S=${GITOPS_SETTLE_S:-30}
PREFIX=vragent-gitops-

# ---------------------------------------------------------------- setup

if ! command -v git >/dev/null; then
	echo "gitops: SKIP: git is not installed"
	exit 77
fi
libvirtd_or_skip gitops

# The agent-real suite removes every vragent-* domain, and the
# libvirt-real suite's apply --prune acts on every virt-reconcile domain:
# neither runs meanwhile (the locks in the order tests/agent takes them).
open_lock 9 agent-real
open_lock 8 libvirt-real
if ! flock -w 240 9 || ! flock -w 120 8; then
	echo "gitops: SKIP: another run held the suites' locks for minutes"
	exit 77
fi

# what is written here must not depend on the caller's umask (the agent
# refuses files that group or others may write)
umask 022
WORK=$(mktemp -d /tmp/vrgitops.XXXXXX)
REMOTE=$WORK/remote.git
AUTHOR=$WORK/author # the second clone, where commits are made
DIR=$WORK/watch     # the checkout the agent watches
ST=$WORK/status.json
METRICS=$WORK/metrics.prom
SPEC=$WORK/expected
remove_domains() { # all at once: a TCG guest takes a second to destroy
	local d pids=()
	for d in $(domains_matching "^$PREFIX"); do
		{
			virsh_ destroy "$d"
			virsh_ undefine --nvram "$d" || virsh_ undefine "$d"
		} >/dev/null 2>&1 8>&- 9>&- &
		pids+=($!)
	done
	[ ${#pids[@]} = 0 ] || wait "${pids[@]}"
}
on_exit() {
	end_run $? remove_domains
}
trap on_exit EXIT
trap 'exit 1' INT TERM HUP
remove_domains

# git without the caller's configuration, with an identity of its own
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null
G() { # CHECKOUT ARGS...
	git -C "$1" -c user.name="virt-reconcile tests" \
		-c user.email=tests@virt-reconcile.invalid \
		-c init.defaultBranch=main -c advice.detachedHead=false "${@:2}"
}

# ------------------------------------------------------- the seeded mix
# A linear congruential generator of its own: the same seed draws the
# same mix with any bash.
RNG=$SEED
rand() { # N: RND is drawn from 0 .. N-1
	RNG=$(((RNG * 1103515245 + 12345) % 2147483648))
	RND=$(((RNG >> 16) % $1))
}

# What each guest's file says, and where it is. FILE is "" while deleted.
declare -a NAME UUID FILE HEAD TITLE DESC VCPU
# What happened to it: deletions, restores, the file and the commit that
# deleted it last.
declare -a DELS RESTORES DEL_FILE DEL_REV
# Its UUID and id after the first convergence; the id it must have now.
declare -a UUID0 ID0 ID
# This commit: touched guests, and what an edited file's last change says
# (a renamed, moved or restored file has a new entry: its phase says
# enough).
declare -a TOUCHED LAST

for ((i = 0; i < GUESTS; i++)); do
	n=$(printf %02d "$i")
	NAME[i]=$PREFIX$n
	UUID[i]=0b5e7c1a-9d2f-4e63-8a41-5f00000000$n
	FILE[i]=vm-$n.yaml
	HEAD[i]="${NAME[i]}: a diskless guest that boots to its firmware"
	TITLE[i]=guest-$n
	DESC[i]=created
	VCPU[i]=1
	DELS[i]=0
	RESTORES[i]=0
done

content() { # I: the file of guest I, as its state says
	cat <<EOF
# ${HEAD[$1]}
name: ${NAME[$1]}
uuid: ${UUID[$1]}
type: qemu
state: running
memory: 64 MiB
vcpu: {value: 3, current: ${VCPU[$1]}}
title: ${TITLE[$1]}
description: ${DESC[$1]}
EOF
}

# COSTS: the write calls each change requires of a running guest, as
# `apply` makes them (the agent's jobs and its orphan pass make the same):
# - a new file: define and start (2);
# - a rename or a move: the config's mark names the new file (1);
# - a title or description edit: the redefine (1) and the live change
#   (virDomainSetMetadata, 1); the guest stays in sync;
# - vcpu.current raised within the maximum: config and live (2);
# - a deletion: the graceful shutdown, which a guest without an OS never
#   completes, so the destroy after --shutdown-timeout, and the undefine
#   (3);
# - a restore: the file is new: define and start (2).
COST_NEW=2 COST_MOVE=1 COST_EDIT=1 COST_META=1 COST_VCPU=2
COST_DELETE=3 COST_RESTORE=2

# pick 1 / pick 0: P is a guest with / without a file that this commit
# has not touched yet (status 1 when there is none).
pick() { # WANT_FILE(0/1)
	local c=() i
	for ((i = 0; i < GUESTS; i++)); do
		[ -z "${TOUCHED[i]:-}" ] || continue
		if [ "$1" = 1 ] && [ -n "${FILE[i]}" ]; then c+=("$i"); fi
		if [ "$1" = 0 ] && [ -z "${FILE[i]}" ]; then c+=("$i"); fi
	done
	[ ${#c[@]} -gt 0 ] || return 1
	rand ${#c[@]}
	P=${c[RND]}
	TOUCHED[P]=1
}
present_count() {
	local i n=0
	for ((i = 0; i < GUESTS; i++)); do [ -z "${FILE[i]}" ] || n=$((n + 1)); done
	echo "$n"
}

WORDS=(alpha bravo delta echo kilo lima oscar tango)
# op_* C K: the K-th change of commit C, made in $AUTHOR; each adds its
# writes to DELTA, its kind to the counts, and says what it did in WHAT.
op_rename() {
	local old=${FILE[P]} new
	rand ${#WORDS[@]}
	new=${WORDS[RND]}-c$1-$2.yaml
	G "$AUTHOR" mv "$old" "$new"
	FILE[P]=$new
	DELTA=$((DELTA + COST_MOVE)) MOVES=$((MOVES + 1)) VANISH=1
	WHAT+=("rename $old → $new")
}
op_move() {
	local old=${FILE[P]} new=moved-c$1-$2.yaml
	G "$AUTHOR" rm -q "$old"
	HEAD[P]="${NAME[P]}, moved here from $old in commit $1"
	FILE[P]=$new
	content "$P" >"$AUTHOR/$new"
	DELTA=$((DELTA + COST_MOVE)) MOVES=$((MOVES + 1)) VANISH=1
	WHAT+=("move $old into $new")
}
op_edit() {
	rand 10
	if [ "$RND" -lt 3 ] && [ "${VCPU[P]}" -lt 3 ]; then
		VCPU[P]=$((VCPU[P] + 1))
		LAST[P]="vcpu.current $((VCPU[P] - 1)) → ${VCPU[P]} (live)"
		DELTA=$((DELTA + COST_VCPU))
		WHAT+=("edit ${FILE[P]}: vcpu.current ${VCPU[P]}")
	elif [ "$RND" -lt 6 ]; then
		DESC[P]="edited in commit $1"
		LAST[P]="→ ${DESC[P]}"
		DELTA=$((DELTA + COST_EDIT + COST_META))
		WHAT+=("edit ${FILE[P]}: description")
	else
		TITLE[P]=guest-$(printf %02d "$P")-c$1
		LAST[P]="→ ${TITLE[P]}"
		DELTA=$((DELTA + COST_EDIT + COST_META))
		WHAT+=("edit ${FILE[P]}: title")
	fi
	content "$P" >"$AUTHOR/${FILE[P]}"
	EDITS=$((EDITS + 1)) VANISH=1
}
op_delete() {
	G "$AUTHOR" rm -q "${FILE[P]}"
	WHAT+=("delete ${FILE[P]}")
	DELETED_NOW+=("$P")
	DEL_FILE[P]=${FILE[P]}
	FILE[P]=
	DELS[P]=$((DELS[P] + 1))
	DELTA=$((DELTA + COST_DELETE)) DELETIONS=$((DELETIONS + 1)) VANISH=1
}
op_restore() {
	local f=${DEL_FILE[P]}
	G "$AUTHOR" checkout -q "${DEL_REV[P]}^" -- "$f"
	FILE[P]=$f
	RESTORES[P]=$((RESTORES[P] + 1))
	RESTORED_NOW+=("$P")
	DELTA=$((DELTA + COST_RESTORE)) RESTORES_N=$((RESTORES_N + 1))
	WHAT+=("restore $f")
	cmp -s "$AUTHOR/$f" <(content "$P") ||
		not_ok "commit $1: the restored $f is what was deleted"
}
what() { # this commit's changes, for people
	local s
	s=$(printf '%s; ' "${WHAT[@]}")
	echo "${s%; }"
}

# one_change C K: draws a kind (rename 20%, move 15%, edit 35%, deletion
# 15%, restore 15%) and a guest for it; an edit when that kind cannot be
# had (nothing to restore, too few files left to delete).
one_change() {
	local r
	rand 100
	r=$RND
	if [ "$r" -lt 20 ] && pick 1; then
		op_rename "$@"
	elif [ "$r" -ge 20 ] && [ "$r" -lt 35 ] && pick 1; then
		op_move "$@"
	elif [ "$r" -ge 70 ] && [ "$r" -lt 85 ] &&
		[ ${#DELETED_NOW[@]} -lt 2 ] &&
		[ "$(present_count)" -gt "$KEEP_AT_LEAST" ] && pick 1; then
		op_delete "$@"
	elif [ "$r" -ge 85 ] && pick 0; then
		op_restore "$@"
	elif pick 1; then
		op_edit "$@"
	fi
}

# ------------------------------------------------------------ settling
# The expectation for the checker: one line per file, "file FILE DOMAIN
# PHASE LAST" (LAST: what its last change must contain, or -), then
# "calls N" and "passes N" (minima).
write_spec() { # CALLS PASSES
	local i phase
	{
		for ((i = 0; i < GUESTS; i++)); do
			[ -n "${FILE[i]}" ] || continue
			phase=in-sync
			echo "file ${FILE[i]} ${NAME[i]} $phase ${LAST[i]:--}"
		done
		echo "calls $1"
		echo "passes $2"
	} >"$SPEC"
}

# Whether the status and metrics say what $SPEC expects; with -v, what
# differs. An agent that reports no orphan passes is not waited for.
CHECK_PY='
import json, sys
verbose = sys.argv[1] == "-v"
spec, status, metrics = sys.argv[2:5]
want, need = {}, {}
for line in open(spec, encoding="utf-8"):
    w = line.rstrip("\n").split(" ", 4)
    if w[0] == "file":
        want[(w[1], w[2])] = (w[3], None if w[4] == "-" else w[4])
    else:
        need[w[0]] = int(w[1])
have, bad = {}, []
try:
    d = json.load(open(status, encoding="utf-8"))
    for e in d.get("domains") or []:
        have[(e.get("file"), e.get("domain"))] = e
    m = {}
    for line in open(metrics):
        w = line.split()
        if len(w) == 2 and not line.startswith("#"):
            m[w[0]] = w[1]
except (OSError, ValueError) as e:
    bad.append("cannot read the reports: %s" % e)
    m = {}
for k, (phase, last) in want.items():
    e = have.get(k)
    if e is None:
        bad.append("%s (%s): no entry" % k)
    elif e.get("phase") != phase:
        bad.append("%s (%s): %s, not %s" % (k + (e.get("phase"), phase)))
    elif last and last not in (e.get("last_change") or ""):
        bad.append("%s (%s): last change %r, not %r"
                   % (k + (e.get("last_change"), last)))
for k, e in have.items():
    if k not in want:
        bad.append("%s (%s): not expected (%s: %s)"
                   % (k + (e.get("phase"), e.get("note") or e.get("error"))))
calls = int(m.get("virt_reconcile_libvirt_calls_total", -1))
if calls < need["calls"]:
    bad.append("write calls %d, not yet %d" % (calls, need["calls"]))
passes = m.get("virt_reconcile_orphan_passes_total")
if passes is not None and int(passes) < need["passes"]:
    bad.append("orphan passes %s, not yet %d" % (passes, need["passes"]))
if verbose:
    for b in bad:
        print("#     " + b)
sys.exit(1 if bad else 0)
'
settled() {
	"$PY" -c "$CHECK_PY" "${1:--q}" "$SPEC" "$ST" "$METRICS"
}

calls() { metric virt_reconcile_libvirt_calls_total; }
passes() {
	local p
	p=$(metric virt_reconcile_orphan_passes_total)
	echo "${p:-0}"
}

# Guests as libvirt has them: LV_ID[name] (- when shut off).
declare -A LV_ID
read_libvirt() {
	local id name rest
	LV_ID=()
	while read -r id name rest; do
		[ -n "$name" ] && LV_ID[$name]=$id
	done < <(virsh_ list --all 2>/dev/null)
}

# guests_as_expected WHAT: every guest with a file runs with the id it
# must have (a guest restored now: a new one, kept from now on); every
# deleted one is gone from libvirt.
guests_as_expected() {
	local i bad=() id
	read_libvirt
	for ((i = 0; i < GUESTS; i++)); do
		id=${LV_ID[${NAME[i]}]:-}
		if [ -z "${FILE[i]}" ]; then
			[ -z "$id" ] || bad+=("${NAME[i]} is still defined")
		elif [ -n "${RESTORED_AT[i]:-}" ]; then
			if [ -z "$id" ] || [ "$id" = - ] || [ "$id" = "${ID[i]}" ]; then
				bad+=("${NAME[i]} restored: id '$id' (was ${ID[i]})")
			fi
			ID[i]=$id
			RESTORED_AT[i]=
		elif [ "$id" != "${ID[i]}" ]; then
			bad+=("${NAME[i]}: id '$id', not ${ID[i]}")
			ID[i]=$id # said once
		fi
	done
	if [ ${#bad[@]} = 0 ]; then
		ok "$1"
	else
		not_ok "$1: ${bad[*]}"
	fi
}
declare -a RESTORED_AT

# ------------------------------------------------- the repository, start
now_ms
T0=$NOW
note "seed $SEED (GITOPS_SEED), $GUESTS guests, $COMMITS commits; $VR"
G "$WORK" init -q --bare "$REMOTE"
G "$WORK" clone -q "$REMOTE" "$AUTHOR" 2>/dev/null
for ((i = 0; i < GUESTS; i++)); do
	content "$i" >"$AUTHOR/${FILE[i]}"
done
G "$AUTHOR" add -A
G "$AUTHOR" commit -qm "$GUESTS guests, running"
G "$AUTHOR" push -q origin HEAD:main
G "$WORK" clone -q "$REMOTE" "$DIR"
check "the watched checkout has the $GUESTS files" eval \
	'[ "$(ls "$DIR"/*.yaml | wc -l)" = $GUESTS ]'

EXPECTED=$((GUESTS * COST_NEW))
write_spec "$EXPECTED" 1
agent_start --prune --resync 3600
if wait_until 120 settled; then
	ok "the $GUESTS guests converge ($WAITED ms)"
else
	not_ok "the $GUESTS guests converge"
	settled -v
	echo "Bail out! the guests did not converge"
	exit 1
fi
check_eq "first convergence: define and start each" "$EXPECTED" "$(calls)"
read_libvirt
for ((i = 0; i < GUESTS; i++)); do
	UUID0[i]=$(virsh_ domuuid "${NAME[i]}")
	ID0[i]=${LV_ID[${NAME[i]}]:-}
	ID[i]=${ID0[i]}
done
all_run() {
	local i
	for ((i = 0; i < GUESTS; i++)); do
		[ "${UUID0[i]}" = "${UUID[i]}" ] && [ "${ID0[i]}" -gt 0 ] ||
			return 1
	done 2>/dev/null
}
check "every guest runs, with the UUID its file names" all_run
now_ms
note "converged in $(((NOW - T0) / 1000)) s: ids ${ID0[*]}"

# ------------------------------------------------------------- commits
TOTAL_EDITS=0 TOTAL_MOVES=0 TOTAL_DELETIONS=0 TOTAL_RESTORES=0
UNSETTLED=0
for ((c = 1; c <= COMMITS; c++)); do
	TOUCHED=() LAST=() WHAT=() DELETED_NOW=() RESTORED_NOW=()
	DELTA=0 EDITS=0 MOVES=0 DELETIONS=0 RESTORES_N=0 VANISH=0
	rand 3 # 1 to 3 changes, each to a guest of its own
	n=$((RND + 1))
	for ((k = 1; k <= n; k++)); do
		one_change "$c" "$k"
	done
	G "$AUTHOR" add -A
	G "$AUTHOR" commit -qm "commit $c: $(what)"
	G "$AUTHOR" push -q origin HEAD:main
	rev=$(G "$AUTHOR" rev-parse --short HEAD)
	for i in "${DELETED_NOW[@]}"; do DEL_REV[i]=$rev; done
	for i in "${RESTORED_NOW[@]}"; do RESTORED_AT[i]=$c; done
	note "commit $c ($rev): $(what) — expected: $MOVES renames/moves, $EDITS edits, $DELETIONS deletions, $RESTORES_N restores: $DELTA writes"
	TOTAL_EDITS=$((TOTAL_EDITS + EDITS))
	TOTAL_MOVES=$((TOTAL_MOVES + MOVES))
	TOTAL_DELETIONS=$((TOTAL_DELETIONS + DELETIONS))
	TOTAL_RESTORES=$((TOTAL_RESTORES + RESTORES_N))

	before=$(calls)
	p0=$(passes)
	EXPECTED=$((EXPECTED + DELTA))
	write_spec $((before + DELTA)) $((p0 + VANISH))
	if ! G "$DIR" pull -q --ff-only; then
		not_ok "commit $c: git pull --ff-only"
		break
	fi
	if wait_until "$SETTLE_S" settled; then
		ok "commit $c: settled ($WAITED ms)"
	else
		not_ok "commit $c: settled within $SETTLE_S s"
		settled -v
		UNSETTLED=$((UNSETTLED + 1))
	fi
	check_eq "commit $c: write calls" "$DELTA" "$(($(calls) - before))"
	guests_as_expected "commit $c: the guests kept their ids, the deleted are gone"
	alive_or_bail
	if [ "$UNSETTLED" -ge 5 ]; then
		not_ok "five commits did not settle: no more commits"
		break
	fi
done
now_ms
T_COMMITS=$(((NOW - T0) / 1000))

# ------------------------------------------------------------- verdict
note "$TOTAL_MOVES renames/moves, $TOTAL_EDITS edits, $TOTAL_DELETIONS deletions, $TOTAL_RESTORES restores"
check_eq "write calls: what the commits require" "$EXPECTED" "$(calls)"
note "write calls: $EXPECTED expected, $(calls) counted"

kept=0 same=0 restored=0 restored_ok=0 deleted=0 gone=0 pruned_ok=0
read_libvirt
for ((i = 0; i < GUESTS; i++)); do
	name=${NAME[i]}
	pruned=$(log_count "^$name: its file .* is gone; pruned$")
	if [ "$pruned" = "${DELS[i]}" ]; then
		pruned_ok=$((pruned_ok + 1))
	else
		not_ok "$name: pruned $pruned times, deleted ${DELS[i]} times"
	fi
	if [ -z "${FILE[i]}" ]; then
		deleted=$((deleted + 1))
		if defined "$name"; then
			not_ok "$name: its file is gone, the domain is still defined"
		else
			gone=$((gone + 1))
		fi
		continue
	fi
	uuid=$(virsh_ domuuid "$name")
	state=$(domstate "$name")
	id=${LV_ID[$name]:-}
	if [ "${RESTORES[i]}" = 0 ]; then
		kept=$((kept + 1))
		if [ "$uuid" = "${UUID0[i]}" ] && [ "$id" = "${ID0[i]}" ] &&
			[ "$state" = running ]; then
			same=$((same + 1))
		else
			not_ok "$name: UUID $uuid (was ${UUID0[i]}), id $id (was ${ID0[i]}), $state"
		fi
	else
		restored=$((restored + 1))
		if [ "$uuid" = "${UUID0[i]}" ] && [ "$id" = "${ID[i]}" ] &&
			[ "$id" != "${ID0[i]}" ] && [ "$state" = running ]; then
			restored_ok=$((restored_ok + 1))
		else
			not_ok "$name (restored): UUID $uuid (was ${UUID0[i]}), id $id (first ${ID0[i]}, after the restore ${ID[i]}), $state"
		fi
	fi
done
check_eq "guests never deleted: the same UUID and id, running" "$kept" "$same"
check_eq "guests restored: the same UUID, a new id, running" \
	"$restored" "$restored_ok"
check_eq "guests deleted at the end: gone from libvirt" "$deleted" "$gone"
check_eq "every guest pruned once per deletion of its file" \
	"$GUESTS" "$pruned_ok"
note "$same of $kept kept guests with their UUID and id; $restored_ok of $restored restored ones with their UUID and a new id; $gone of $deleted deleted ones gone; $TOTAL_DELETIONS deletions, each pruned once: $pruned_ok of $GUESTS guests"
check_eq "no failed call, no file error" 0 \
	"$(metric virt_reconcile_errors_total)"

# a full pass finds nothing to do
r0=$(metric virt_reconcile_reconciles_total)
p0=$(passes)
kill -HUP "$AGENT_PID"
check "SIGHUP: a full pass over every file" wait_until 30 eval \
	'[ "$(metric virt_reconcile_reconciles_total)" -ge $((r0 + $(present_count))) ] &&
	 metric_gt virt_reconcile_orphan_passes_total "$p0"'
check_eq "SIGHUP: no write call" "$EXPECTED" "$(calls)"
agent_stop TERM
check_eq "the agent exits 0" 0 "$AGENT_RC"
now_ms
note "run time: $(((NOW - T0) / 1000)) s ($T_COMMITS s to the last commit)"

echo "gitops: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
