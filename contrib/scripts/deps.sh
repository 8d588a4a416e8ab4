#!/bin/sh
# Installs the Debian packages a group of tasks needs, from the project's one
# list of them, debian/control's Build-Depends, and only when any is missing:
#   build  to build (the nocheck build profile)
#   test   to build and run every test suite (no profile)
#   bench  that and the benchmark (the pkg.virt-reconcile.bench profile)
# Works on a bare Debian (apt alone): apt-get build-dep brings
# build-essential too.
# usage: deps.sh build|test|bench
set -eu
cd "$(dirname "$0")/../.."

case "${1:-build}" in
  build) profile=nocheck ;;
  test) profile= ;;
  bench) profile=pkg.virt-reconcile.bench ;;
  *) echo "usage: $0 build|test|bench" >&2; exit 1 ;;
esac
# The profile is this script's argument, never the caller's environment.
unset DEB_BUILD_PROFILES

# dpkg-checkbuilddeps (dpkg-dev, which build-essential brings) tells in a
# moment whether anything is missing; without it, everything is installed.
if command -v dpkg-checkbuilddeps >/dev/null 2>&1 &&
  dpkg-checkbuilddeps ${profile:+-P "$profile"} debian/control 2>/dev/null; then
  exit 0
fi

sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo

# Packages with a service (prometheus; libvirt's) start it when they are
# installed. Nothing here needs prometheus running, and the scripts start
# libvirtd themselves when tests need it (start-libvirtd.sh), so for this
# install a policy-rc.d (invoke-rc.d(8), honoured by deb-systemd-invoke too)
# refuses every start: ours only if there is none, removed afterwards.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# contrib/scripts/deps.sh: no service starts while it installs\nexit 101\n' |
    $sudo tee "$policy" >/dev/null
  trap '$sudo rm -f "$policy"' EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  $sudo chmod 755 "$policy"
fi

echo "deps: installing the build dependencies for '${1:-build}' from debian/control" >&2
# Another apt or dpkg at work (unattended-upgrades) is waited for.
apt="apt-get -q -y -o DPkg::Lock::Timeout=300"
$sudo env DEBIAN_FRONTEND=noninteractive $apt update
$sudo env DEBIAN_FRONTEND=noninteractive $apt build-dep --no-install-recommends \
  ${profile:+-P "$profile"} ./
