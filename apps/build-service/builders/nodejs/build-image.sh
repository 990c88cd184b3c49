#!/bin/sh
# Builds the S2I builder image paas-builder/nodejs:latest without pulling anything:
# a root filesystem of busybox, the host's node (with the shared libraries it
# links) and npm, plus the S2I scripts, imported with `docker import`.
#
# Idempotent: the image carries a hash of its inputs (this script, the S2I
# scripts, node and npm versions, the host's CA bundle) in the label paas.dev/builder-hash; when the
# tagged image already has that hash, nothing is rebuilt.
#
# Env: BUILDER_TAG (paas-builder/nodejs:latest), BUSYBOX (/bin/busybox, static).
set -eu
umask 022

TAG=${BUILDER_TAG:-paas-builder/nodejs:latest}
BUSYBOX=${BUSYBOX:-/bin/busybox}
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt # optional; npm in assemble trusts it
here=$(cd "$(dirname "$0")" && pwd)

die() { echo "✗ $TAG: $*" >&2; exit 1; }

node_path=$(command -v node) || die "node is not on PATH"
node_bin=$(readlink -f "$node_path")
# npm ships beside node: <prefix>/bin/node and <prefix>/lib/node_modules/npm
npm_dir=$(dirname "$node_bin")/../lib/node_modules/npm
[ -f "$npm_dir/package.json" ] || npm_dir=$(npm root -g)/npm
[ -f "$npm_dir/package.json" ] || die "cannot find npm's folder next to $node_bin"
[ -x "$BUSYBOX" ] || die "$BUSYBOX not found (apt-get install busybox-static)"
node_version=$("$node_bin" -v)
npm_version=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$npm_dir/package.json" | head -n 1)

hash=$({
  cat "$here/build-image.sh" "$here/assemble" "$here/run" "$here/usage" "$here/save-artifacts"
  echo "node $node_version npm $npm_version"
  cat "$CA_BUNDLE" 2>/dev/null || true
} | sha256sum | cut -d ' ' -f 1)

# Missing image or unreachable engine both read as "not up to date"; an
# unreachable engine then fails loudly at docker import.
current=$(docker image inspect --format '{{ index .Config.Labels "paas.dev/builder-hash" }}' "$TAG" 2>/dev/null || true)
if [ "$current" = "$hash" ]; then
  echo "✓ $TAG up to date"
  exit 0
fi
old_id=$(docker image inspect --format '{{ .Id }}' "$TAG" 2>/dev/null || true)

# Ownership must be root for the system and 1001 for the app dirs; without root,
# fakeroot makes chown and tar agree.
if [ "$(id -u)" = 0 ]; then as_root=
elif command -v fakeroot >/dev/null; then as_root=fakeroot
else die "run as root or install fakeroot (the image needs files owned by root and by 1001)"
fi

echo "---> Building $TAG (node $node_version, npm $npm_version)"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/paas-builder-nodejs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT; trap 'exit 143' TERM; trap 'exit 129' HUP # so the EXIT trap runs
r=$tmp/root                  # the image's /, mode 755 (mktemp's 700 would lock 1001 out)
mkdir -p "$r/bin" "$r/usr/bin" "$r/usr/local/bin" "$r/usr/lib/node_modules" \
  "$r/usr/libexec/s2i" "$r/etc/ssl/certs" "$r/root" "$r/dev" "$r/proc" "$r/sys" \
  "$r/opt/app-root/src" "$r/opt/app-root/etc" "$r/tmp/src"

# busybox and a link for each of its applets (sh, tar, cp, env, sed, wget, ...);
# npm's `#!/usr/bin/env node` needs /usr/bin/env as well.
cp "$BUSYBOX" "$r/bin/busybox"
for applet in $("$BUSYBOX" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$r/bin/$applet"
done
ln -s ../../bin/busybox "$r/usr/bin/env"

# node, its shared libraries and the dynamic loader, at the paths ldd reports.
cp "$node_bin" "$r/usr/bin/node"
for lib in $(ldd "$node_bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
  mkdir -p "$r${lib%/*}"
  cp -L "$lib" "$r$lib"
done
cp -a "$npm_dir" "$r/usr/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$r/usr/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$r/usr/bin/npx"

# Users: root, and the app user 1001 in group 0 (OpenShift convention: files
# are group-0 writable so any uid in group 0 can run the app too).
cat >"$r/etc/passwd" <<'TXT'
root:x:0:0:root:/root:/bin/sh
default:x:1001:0:Default application user:/opt/app-root/src:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
TXT
cat >"$r/etc/group" <<'TXT'
root:x:0:
nogroup:x:65534:
TXT
# Without this glibc asks DNS before /etc/hosts.
printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$r/etc/nsswitch.conf"
if [ -f "$CA_BUNDLE" ]; then cp "$CA_BUNDLE" "$r/etc/ssl/certs/ca-certificates.crt"; fi

for s in assemble run usage save-artifacts; do cp "$here/$s" "$r/usr/libexec/s2i/$s"; done
chmod 755 "$r/usr/libexec/s2i"/*
chmod 700 "$r/root"
chmod 1777 "$r/tmp"
chmod -R g+rwX "$r/opt/app-root" "$r/tmp/src"

# npm: cache outside the app dir, no update check, and give up on an unreachable
# registry after ~15 s instead of npm's default ~70 s per package.
npm_env='NPM_CONFIG_CACHE=/tmp/.npm NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FETCH_RETRY_MINTIMEOUT=2000 NPM_CONFIG_FETCH_RETRY_MAXTIMEOUT=10000'

# chown and tar in one (fake)root session, streamed straight into docker import
# (a tar that dies midway leaves a truncated stream, which docker import rejects).
new_id=$($as_root sh -c 'chown -R 1001:0 "$1/opt/app-root" "$1/tmp/src" && tar --numeric-owner -C "$1" -c .' sh "$r" |
  docker import \
    --change 'LABEL io.openshift.s2i.scripts-url=image:///usr/libexec/s2i' \
    --change 'LABEL io.openshift.expose-services=8080:http' \
    --change 'LABEL io.openshift.tags=builder,nodejs' \
    --change "LABEL io.k8s.display-name=\"Node.js $node_version\"" \
    --change "LABEL io.k8s.description=\"S2I builder for Node.js $node_version apps (busybox, node, npm $npm_version)\"" \
    --change 'LABEL paas.dev/builder=nodejs' \
    --change "LABEL paas.dev/builder-hash=$hash" \
    --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin HOME=/opt/app-root/src PORT=8080 NODE_ENV=production' \
    --change "ENV $npm_env" \
    --change 'EXPOSE 8080' \
    --change 'USER 1001' \
    --change 'WORKDIR /opt/app-root/src' \
    --change 'CMD ["/usr/libexec/s2i/usage"]' \
    --message "paas-builder/nodejs $hash" \
    - "$TAG")

# Drop the image this one replaces (kept if app images still build on it).
if [ -n "$old_id" ] && [ "$old_id" != "$new_id" ]; then
  docker image rm "$old_id" >/dev/null 2>&1 || echo "note: previous image ${old_id#sha256:} is still in use, kept"
fi
size=$(docker image inspect --format '{{ .Size }}' "$TAG")
echo "✓ $TAG built (${new_id#sha256:}, $((size / 1000000)) MB)"
