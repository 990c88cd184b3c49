#!/bin/sh
# Builds the S2I builder image paas-builder/static:latest without pulling anything:
# the busybox root filesystem of ../lib.sh (its httpd serves the files) and the S2I
# scripts, imported with `docker import`. Idempotent, as ../lib.sh says.
#
# Env: BUILDER_TAG (paas-builder/static:latest), BUSYBOX (/bin/busybox, static).
set -eu
. "$(dirname "$0")/../lib.sh"

builder_begin static
echo "---> Building $TAG (busybox httpd)"
builder_import "Static files" "S2I builder for static sites: the files served by busybox httpd" builder,static,httpd \
  --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin HOME=/opt/app-root/src PORT=8080'
