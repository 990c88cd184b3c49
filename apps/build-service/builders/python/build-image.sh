#!/bin/sh
# Builds the S2I builder image paas-builder/python:latest without pulling any
# image: a Debian root filesystem made by mmdebstrap from Debian's packages
# (python3, venv, pip, CA certificates; what apt on this machine reaches), a
# virtualenv at /opt/app-root/venv owned by the app user, plus the files and S2I
# scripts of ../lib.sh, imported with `docker import`. Idempotent, as ../lib.sh says.
#
# Env: BUILDER_TAG (paas-builder/python:latest), DEBIAN_SUITE (bookworm),
#      DEBIAN_MIRROR (the host's apt sources when they name Debian, else deb.debian.org).
set -eu
. "$(dirname "$0")/../lib.sh"

command -v mmdebstrap >/dev/null || die "mmdebstrap is not installed (apt-get install mmdebstrap)"
suite=${DEBIAN_SUITE:-bookworm}
mirror=${DEBIAN_MIRROR:-$(sed -n 's/^URIs: *\(http[^ ]*\/debian\)$/\1/p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)}
mirror=${mirror:-http://deb.debian.org/debian}
packages=python3,python3-venv,python3-pip,ca-certificates

builder_check python "debian $suite $packages"
echo "---> Building $TAG (Debian $suite: $packages, from $mirror)"

# minbase: essential packages and apt only; no documentation, manuals or
# translations (~60 MB less). Run as root: mmdebstrap's root mode needs no
# namespaces.
[ -z "$as_root" ] || die "mmdebstrap needs root here"
mmdebstrap --quiet --variant=minbase --include="$packages" \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  "$suite" "$r" "deb $mirror $suite main" ||
  die "mmdebstrap could not make the root filesystem (is $mirror reachable?)"
rm -rf "$r/var/lib/apt/lists"/* "$r/var/cache/apt"/*.bin "$r/var/log"/*

builder_files
# The app's packages go into a virtualenv the app user owns (pip refuses the
# system site-packages on Debian: PEP 668).
chroot "$r" /usr/bin/python3 -m venv /opt/app-root/venv || die "python3 -m venv failed"
python_version=$(chroot "$r" /usr/bin/python3 -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')

builder_import "Python $python_version" "S2I builder for Python $python_version apps (Debian $suite, pip, a virtualenv)" builder,python \
  --change 'ENV PATH=/opt/app-root/venv/bin:/usr/local/bin:/usr/bin:/bin VIRTUAL_ENV=/opt/app-root/venv HOME=/opt/app-root/src PORT=8080' \
  --change 'ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_DEFAULT_TIMEOUT=15'
