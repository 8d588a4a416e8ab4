#!/bin/bash
# eval '…' conditions are expanded at each poll, on purpose:
# shellcheck disable=SC2016
# Which domains the agent prunes, on libvirt's test driver (no daemon).
# Pruning is decided on the whole directory once it is quiet, never on one
# file event:
# - a renamed file (mv, git checkout), and a file deleted and written again
#   10 ms later, keep their running guest: the same UUID and id, and only
#   the mark written (the write counter says how many calls were made);
# - a file really removed is pruned (shutdown, undefine) after the quiet
#   window;
# - an emptied directory, one removed and made again, and a directory
#   with a file that does not parse (it might name the domain) prune
#   nothing, and the orphans' notes say why;
# - without --prune, a renamed file leaves no orphan entry and no clash
#   with the name that is gone.
# usage: agent-prune.sh VIRT_RECONCILE
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/agent/lib.sh
. "$HERE/agent/lib.sh"
test_driver_suite prune "$@"
on_exit() {
	end_run 0 true # WORK is kept only when a check failed
}
trap on_exit EXIT

file_of() { # NAME: a desired-state file's text
	printf 'name: %s\nmemory: 64 MiB\n' "$1"
}

calls() { metric virt_reconcile_libvirt_calls_total; }
passes() { metric virt_reconcile_orphan_passes_total; }

# remember DOMAIN: its UUID and id now (UUID, ID), the write calls so far
# (CALLS) and the orphan passes so far (PASSES).
remember() {
	UUID=$(st domain "$1" uuid)
	ID=$(st domain "$1" id)
	CALLS=$(calls)
	PASSES=$(passes)
}

# a_pass_since: an orphan pass ran after remember (up to 10 s).
a_pass_since() {
	wait_until 10 metric_gt virt_reconcile_orphan_passes_total "$PASSES"
}

# same_guest WHAT DOMAIN DELTA: the domain still has the UUID and id that
# remember saw (it was neither redefined nor restarted), and DELTA write
# calls were made since.
same_guest() {
	check "$1: the domain is known" test -n "$UUID" -a "$UUID" != null
	check_eq "$1: the same UUID" "$UUID" "$(st domain "$2" uuid)"
	check_eq "$1: the same id (never restarted)" "$ID" "$(st domain "$2" id)"
	check_eq "$1: write calls made" "$3" "$(($(calls) - CALLS))"
}

# ------------------------------------------------------------ --prune
file_of vr-web >"$DIR/web.yaml"
file_of vr-db >"$DIR/db.yaml"
git -C "$DIR" init -q && git -C "$DIR" add . &&
	git -C "$DIR" -c user.name=t -c user.email=t@t commit -qm one
PASSES=0
agent_start --prune --resync 3600
check "both files converge" wait_until 10 st_all_in_sync "" 2
check "the first orphan pass ran" a_pass_since
check "the guest runs" test "$(st domain vr-web id)" -gt 0

remember vr-web
mv "$DIR/web.yaml" "$DIR/web01.yaml"
check "mv: the new file's domain is in sync" \
	wait_until 10 st_is web01.yaml phase in-sync
check "mv: an orphan pass ran after it" a_pass_since
same_guest "mv" vr-web 1
check "mv: the old name has no entry" st_lacks web.yaml
check_eq "mv: one entry for the domain" 1 "$(st entries vr-web)"
check_eq "mv: no error" null "$(st file web01.yaml error)"

remember vr-web
rm "$DIR/web01.yaml"
sleep 0.01
file_of vr-web >"$DIR/web01.yaml"
check "delete and write again: an orphan pass ran" a_pass_since
check "delete and write again: in sync" st_is web01.yaml phase in-sync
same_guest "delete and write again" vr-web 0

# git: a commit that renames, then a checkout back and forth
git -C "$DIR" add -A && git -C "$DIR" -c user.name=t -c user.email=t@t \
	commit -qm renamed
remember vr-web
git -C "$DIR" checkout -q HEAD~1
check "git checkout: an orphan pass ran" a_pass_since
check "git checkout: the old name is back, in sync" \
	wait_until 10 st_is web.yaml phase in-sync
same_guest "git checkout" vr-web 1
git -C "$DIR" checkout -q -
check "git checkout -: in sync again" \
	wait_until 10 st_is web01.yaml phase in-sync

# a file really removed: pruned once the directory is quiet
remember vr-db
rm "$DIR/db.yaml"
check "rm: the domain is pruned" wait_until 10 eval \
	'[ "$(st entries vr-db)" = 0 ]'
check_eq "rm: shutdown and undefine" 2 "$(($(calls) - CALLS))"
check "rm: said so" log_has '^vr-db: its file db.yaml is gone; pruned'

# a file that never parsed might name any domain: nothing is pruned
file_of vr-db >"$DIR/db.yaml"
check "db back" wait_until 10 st_is db.yaml phase in-sync
printf 'name: [\n' >"$DIR/bad.yaml"
check "bad.yaml has problems" wait_until 10 st_is bad.yaml phase error
remember vr-db
rm "$DIR/db.yaml"
check "a file with problems: an orphan pass ran" a_pass_since
check_eq "a file with problems: the orphan is kept" orphaned \
	"$(st domain vr-db phase)"
check "a file with problems: the note names it" eval \
	'st domain vr-db note | grep -q "bad.yaml has not been read"'
same_guest "a file with problems" vr-db 0
remember vr-db
file_of vr-other >"$DIR/bad.yaml"
check "bad.yaml fixed: the orphan is pruned" wait_until 10 eval \
	'[ "$(st entries vr-db)" = 0 ]'
rm "$DIR/bad.yaml"
check "vr-other pruned" wait_until 10 eval '[ "$(st entries vr-other)" = 0 ]'

# an emptied directory prunes nothing
file_of vr-db >"$DIR/db.yaml"
check "db back again" wait_until 10 st_is db.yaml phase in-sync
remember vr-web
rm "$DIR"/*.yaml
check "emptied: an orphan pass ran" a_pass_since
check_eq "emptied: web kept" orphaned "$(st domain vr-web phase)"
check_eq "emptied: db kept" orphaned "$(st domain vr-db phase)"
check "emptied: the note says why" eval \
	'st domain vr-web note | grep -q "holds no desired-state file"'
same_guest "emptied" vr-web 0
git -C "$DIR" checkout -q -- .
check "files back: in sync" wait_until 10 st_all_in_sync "" 2
same_guest "files back" vr-web 0

# the directory removed and made again, empty, then filled
remember vr-web
rm -rf "$DIR"
check "removed: an orphan pass ran" a_pass_since
check_eq "removed: web kept" orphaned "$(st domain vr-web phase)"
remember vr-web
mkdir -m 0700 "$DIR"
check "made again: an orphan pass ran" a_pass_since
check_eq "made again, empty: web kept" orphaned "$(st domain vr-web phase)"
same_guest "removed and made again" vr-web 0
file_of vr-web >"$STAGE/web01.yaml" && mv "$STAGE/web01.yaml" "$DIR/"
file_of vr-db >"$STAGE/db.yaml" && mv "$STAGE/db.yaml" "$DIR/"
check "filled again: in sync" wait_until 10 st_all_in_sync "" 2
same_guest "filled again" vr-web 0
check_eq "filled again: no orphan entry" 1 "$(st entries vr-web)"
agent_stop TERM
check_eq "the agent exits 0" 0 "$AGENT_RC"

# ------------------------------------------------------------ no --prune
rm -rf "$DIR"
mkdir -m 0700 "$DIR"
file_of vr-keep >"$DIR/keep.yaml"
PASSES=0
agent_start --resync 3600
check "keep converges" wait_until 10 st_is keep.yaml phase in-sync
check "the first orphan pass ran" a_pass_since
remember vr-keep
mv "$DIR/keep.yaml" "$DIR/kept.yaml"
check "mv: the new name is in sync" \
	wait_until 10 st_is kept.yaml phase in-sync
check "mv: an orphan pass ran after it" a_pass_since
same_guest "mv without --prune" vr-keep 1
check_eq "mv: one entry for the domain, no orphan" 1 "$(st entries vr-keep)"
check_eq "mv: no clash with the name that is gone" null \
	"$(st file kept.yaml error)"
agent_stop TERM
check_eq "the agent exits 0" 0 "$AGENT_RC"

echo "agent-prune: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
