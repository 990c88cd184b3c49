# Shared by every <builder>/build-image.sh (sourced, POSIX sh): the hash that
# keeps an up-to-date image, a root filesystem of static busybox or one a builder
# made itself, the users and files the builder contract needs, the builder's S2I
# scripts, and `docker import` with the labels every builder has. Nothing is
# pulled. Each builder adds what it runs (node, python, ...) under "$r".
#
# builder_check <name> <file or text describing an input>...: sets TAG, hash,
#   r (the image's /, not yet created) and as_root; exits 0 when the tagged image
#   already carries the hash of those inputs, this library and the builder's scripts.
# builder_begin <name> <input>...: builder_check, then a busybox root in "$r"
#   with builder_files.
# builder_files: what the contract needs in any root "$r": the app dirs, user
#   1001 (added to the root's /etc/passwd), the host's CA bundle, the S2I scripts.
# builder_import <display name> <description> <tags> [--change ...]...: imports
#   "$r" as $TAG and drops the image it replaces.
set -eu
umask 022

BUSYBOX=${BUSYBOX:-/bin/busybox}
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt # optional; copied when present
lib_dir=$(cd "$(dirname "$0")/.." && pwd)

die() { echo "✗ ${TAG:-builder}: $*" >&2; exit 1; }

builder_check() {
  name=$1; shift
  here=$lib_dir/$name
  TAG=${BUILDER_TAG:-paas-builder/$name:latest}
  hash=$({
    cat "$lib_dir/lib.sh" "$here/build-image.sh"
    for script in assemble run usage save-artifacts; do [ ! -f "$here/$script" ] || cat "$here/$script"; done
    for input in "$@"; do if [ -f "$input" ]; then cat "$input"; else echo "$input"; fi; done
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
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/paas-builder-$name.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  trap 'exit 130' INT; trap 'exit 143' TERM; trap 'exit 129' HUP # so the EXIT trap runs
  r=$tmp/root # the image's /, mode 755 (mktemp's 700 would lock 1001 out)
}

builder_begin() {
  builder_check "$@"
  [ -x "$BUSYBOX" ] || die "$BUSYBOX not found (apt-get install busybox-static)"
  mkdir -p "$r/bin" "$r/usr/bin" "$r/etc" "$r/root" "$r/dev" "$r/proc" "$r/sys"

  # busybox and a link for each of its applets (sh, tar, cp, env, httpd, ...).
  cp "$BUSYBOX" "$r/bin/busybox"
  for applet in $("$BUSYBOX" --list); do
    [ "$applet" = busybox ] || ln -s busybox "$r/bin/$applet"
  done
  ln -s ../../bin/busybox "$r/usr/bin/env"

  cat >"$r/etc/passwd" <<'TXT'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
TXT
  cat >"$r/etc/group" <<'TXT'
root:x:0:
nogroup:x:65534:
TXT
  chmod 700 "$r/root"
  builder_files
}

builder_files() {
  mkdir -p "$r/usr/local/bin" "$r/usr/libexec/s2i" "$r/etc/ssl/certs" "$r/tmp/src" \
    "$r/opt/app-root/src" "$r/opt/app-root/etc"
  # The app user 1001 in group 0 (OpenShift convention: files are group-0
  # writable so any uid in group 0 can run the app too).
  grep -q '^[^:]*:[^:]*:1001:' "$r/etc/passwd" ||
    echo 'default:x:1001:0:Default application user:/opt/app-root/src:/bin/sh' >>"$r/etc/passwd"
  # Without this glibc asks DNS before /etc/hosts.
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$r/etc/nsswitch.conf"
  if [ -f "$CA_BUNDLE" ]; then cp "$CA_BUNDLE" "$r/etc/ssl/certs/ca-certificates.crt"; fi

  for script in assemble run usage save-artifacts; do
    [ ! -f "$here/$script" ] || cp "$here/$script" "$r/usr/libexec/s2i/$script"
  done
  chmod 755 "$r/usr/libexec/s2i"/*
  chmod 1777 "$r/tmp"
}

builder_import() {
  display=$1 description=$2 tags=$3
  shift 3
  chmod -R g+rwX "$r/opt/app-root" "$r/tmp/src"
  # chown and tar in one (fake)root session, streamed straight into docker import
  # (a tar that dies midway leaves a truncated stream, which docker import rejects).
  new_id=$($as_root sh -c 'chown -R 1001:0 "$1/opt/app-root" "$1/tmp/src" && tar --numeric-owner -C "$1" -c .' sh "$r" |
    docker import \
      --change 'LABEL io.openshift.s2i.scripts-url=image:///usr/libexec/s2i' \
      --change 'LABEL io.openshift.expose-services=8080:http' \
      --change "LABEL io.openshift.tags=$tags" \
      --change "LABEL io.k8s.display-name=\"$display\"" \
      --change "LABEL io.k8s.description=\"$description\"" \
      --change "LABEL paas.dev/builder=$name" \
      --change "LABEL paas.dev/builder-hash=$hash" \
      --change 'EXPOSE 8080' \
      --change 'USER 1001' \
      --change 'WORKDIR /opt/app-root/src' \
      --change 'CMD ["/usr/libexec/s2i/usage"]' \
      "$@" \
      --message "paas-builder/$name $hash" \
      - "$TAG")
  # Drop the image this one replaces (kept if app images still build on it).
  if [ -n "$old_id" ] && [ "$old_id" != "$new_id" ]; then
    docker image rm "$old_id" >/dev/null 2>&1 || echo "note: previous image ${old_id#sha256:} is still in use, kept"
  fi
  size=$(docker image inspect --format '{{ .Size }}' "$TAG")
  echo "✓ $TAG built (${new_id#sha256:}, $((size / 1000000)) MB)"
}
