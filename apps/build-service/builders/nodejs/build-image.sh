#!/bin/sh
# Builds the S2I builder image paas-builder/nodejs:latest without pulling anything:
# the busybox root filesystem of ../lib.sh, the host's node (with the shared
# libraries it links) and npm, plus the S2I scripts, imported with `docker import`.
#
# Idempotent: the image carries a hash of its inputs (this script, ../lib.sh, the
# S2I scripts, node and npm versions, the host's CA bundle) in the label
# paas.dev/builder-hash; when the tagged image already has that hash, nothing is
# rebuilt.
#
# Env: BUILDER_TAG (paas-builder/nodejs:latest), BUSYBOX (/bin/busybox, static).
set -eu
. "$(dirname "$0")/../lib.sh"

node_path=$(command -v node) || die "node is not on PATH"
node_bin=$(readlink -f "$node_path")
# npm ships beside node: <prefix>/bin/node and <prefix>/lib/node_modules/npm
npm_dir=$(dirname "$node_bin")/../lib/node_modules/npm
[ -f "$npm_dir/package.json" ] || npm_dir=$(npm root -g)/npm
[ -f "$npm_dir/package.json" ] || die "cannot find npm's folder next to $node_bin"
node_version=$("$node_bin" -v)
npm_version=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$npm_dir/package.json" | head -n 1)

builder_begin nodejs "node $node_version npm $npm_version"
echo "---> Building $TAG (node $node_version, npm $npm_version)"

# node, its shared libraries and the dynamic loader, at the paths ldd reports;
# npm's `#!/usr/bin/env node` finds it through the /usr/bin/env of lib.sh.
mkdir -p "$r/usr/lib/node_modules"
cp "$node_bin" "$r/usr/bin/node"
for lib in $(ldd "$node_bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
  mkdir -p "$r${lib%/*}"
  cp -L "$lib" "$r$lib"
done
cp -a "$npm_dir" "$r/usr/lib/node_modules/npm"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$r/usr/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$r/usr/bin/npx"

# npm: cache outside the app dir, no update check, and give up on an unreachable
# registry after ~15 s instead of npm's default ~70 s per package.
npm_env='NPM_CONFIG_CACHE=/tmp/.npm NPM_CONFIG_UPDATE_NOTIFIER=false NPM_CONFIG_FETCH_RETRY_MINTIMEOUT=2000 NPM_CONFIG_FETCH_RETRY_MAXTIMEOUT=10000'

builder_import "Node.js $node_version" "S2I builder for Node.js $node_version apps (busybox, node, npm $npm_version)" builder,nodejs \
  --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin HOME=/opt/app-root/src PORT=8080 NODE_ENV=production' \
  --change "ENV $npm_env"
