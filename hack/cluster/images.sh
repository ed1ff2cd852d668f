#!/usr/bin/env bash
# The images the lab cluster runs, built here without a registry or a container
# engine, cached by content, and imported into the lab's containerd:
#
#   pause   the pod sandbox: a static C program (images/pause.c)
#   httpd   the test workload: busybox httpd from Debian's busybox-static, answering
#           "hello from <pod name>" on :8080
#   agent   ghcr.io/metallb-pepr/agent:<package version>: what the Dockerfile builds
#           (same files under /app, same entrypoint and command, root user), on a
#           runtime made of this machine's Node 20 and the libraries it links
#   pepr    ghcr.io/defenseunicorns/pepr/controller:v<pepr version>: Pepr's controller
#           image the way Pepr's Dockerfile makes it (pepr and its production
#           dependencies in /app/node_modules, no @types, no .ts, node as entrypoint),
#           from the npm package, tagged as `pepr build` manifests expect
#
#   hack/cluster/images.sh name IMAGE      the reference the cluster uses for IMAGE
#   hack/cluster/images.sh build [IMAGE..] build what is missing; prints the archives
#   hack/cluster/images.sh import DIR      build what is missing, import all into the
#                                          containerd of hack/cluster/cluster.sh at DIR
#
# Archives are cached under $CONTROL_PLANE_CACHE/images (default /var/cache/metallb-pepr),
# named by a hash of what goes into them: a change to the agent's sources, the Pepr
# version or Node rebuilds just that image.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
# The sources the agent image is built from: this repository, or a checkout of it
# (METALLB_PEPR_SRC; the cluster suite builds from a clean checkout of HEAD).
src="$(cd "${METALLB_PEPR_SRC:-$repo}" && pwd)"
cache="${CONTROL_PLANE_CACHE:-/var/cache/metallb-pepr}/images"
all=(pause httpd agent pepr)

die() { echo "images: $*" >&2; exit 1; }

pkg_version() { node -p "require('$src/package.json').version"; }
pepr_version() { node -p "require('$src/package.json').dependencies.pepr"; }

name() {
  case "$1" in
    pause) echo "localhost/metallb-pepr-lab/pause:$(key pause)" ;;
    httpd) echo "localhost/metallb-pepr-lab/httpd:1" ;; # hack/cluster/web.yaml names it
    agent) echo "ghcr.io/metallb-pepr/agent:$(pkg_version)" ;;
    pepr) echo "ghcr.io/defenseunicorns/pepr/controller:v$(pepr_version)" ;;
    *) die "unknown image $1 (one of: ${all[*]})" ;;
  esac
}

hash_of() { sha256sum | cut -c1-16; }

# The content key: everything that decides the image's bytes.
key() {
  case "$1" in
    pause) { cat "$here/images/pause.c"; gcc --version | head -1; } | hash_of ;;
    httpd) { sha256sum /bin/busybox; name httpd; } | hash_of ;;
    agent)
      {
        node --version
        pkg_version
        cat "$src/Dockerfile" "$src/package-lock.json" "$src/binding.gyp" "$src/bin/metallb-pepr.js"
        (cd "$src" && find capabilities crds native hack/build-agent.sh hack/build-native.sh -type f \
          ! -name '*.test.ts' -print0 | sort -z | xargs -0 sha256sum)
      } | hash_of ;;
    pepr) { node --version; pepr_version; echo "v1"; } | hash_of ;;
  esac
}

archive() { echo "$cache/$1-$(key "$1").tar"; }

# Copies the node binary and the shared libraries it links to ROOTFS (at their paths),
# as NODE_PATH_IN_IMAGE.
add_node_runtime() {
  local rootfs="$1" dest="$2" node lib
  node="$(readlink -f "$(command -v node)")"
  install -D -m 0755 "$node" "$rootfs$dest"
  for lib in $(ldd "$node" | awk '/=>/ { print $3 } /^\t\/lib/ { print $1 }'); do
    install -D -m 0755 "$(readlink -f "$lib")" "$rootfs$lib"
  done
}

add_etc() { # ROOTFS: the passwd/group a distroless base has (root and nonroot)
  mkdir -p "$1/etc" "$1/tmp"
  chmod 1777 "$1/tmp"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$1/etc/passwd"
  printf 'root:x:0:\nnonroot:x:65532:\n' >"$1/etc/group"
}

build_one() {
  local img="$1" out ref work rootfs
  out="$(archive "$img")"
  [[ -f "$out" ]] && { echo "$out"; return 0; }
  ref="$(name "$img")"
  mkdir -p "$cache"
  work="$(mktemp -d "$cache/.build-$img.XXXXXX")"
  rootfs="$work/rootfs"
  mkdir -p "$rootfs"
  local t0=$SECONDS
  case "$img" in
    pause)
      gcc -static -Os -s -o "$rootfs/pause" "$here/images/pause.c"
      node "$here/images/oci-archive.js" --rootfs "$rootfs" --name "$ref" --out "$out" \
        --entrypoint '["/pause"]' --user 65535:65535 >/dev/null
      ;;
    httpd)
      install -D -m 0755 /bin/busybox "$rootfs/bin/busybox"
      add_etc "$rootfs"
      node "$here/images/oci-archive.js" --rootfs "$rootfs" --name "$ref" --out "$out" \
        --entrypoint '["/bin/busybox", "sh", "-c"]' \
        --cmd '["mkdir -p /tmp/www && echo \"hello from $(hostname)\" > /tmp/www/index.html && exec busybox httpd -f -v -p 8080 -h /tmp/www"]' \
        --env PATH=/bin --port 8080 >/dev/null
      ;;
    agent)
      # The Dockerfile's build stage: the addon and the agent bundle.
      (cd "$src" && bash hack/build-native.sh >&2 && bash hack/build-agent.sh >&2)
      add_etc "$rootfs"
      add_node_runtime "$rootfs" /nodejs/bin/node
      install -D -m 0644 "$src/bin/metallb-pepr.js" "$rootfs/app/bin/metallb-pepr.js"
      install -D -m 0644 "$src/dist/agent/agent.js" "$rootfs/app/dist/agent/agent.js"
      install -D -m 0644 "$src/build/Release/rawnet.node" "$rootfs/app/build/Release/rawnet.node"
      node "$here/images/oci-archive.js" --rootfs "$rootfs" --name "$ref" --out "$out" \
        --entrypoint '["/nodejs/bin/node", "/app/bin/metallb-pepr.js"]' --cmd '["agent"]' --workdir /app \
        --env NODE_ENV=production --env PATH=/nodejs/bin:/usr/bin:/bin --port 7472 >/dev/null
      ;;
    pepr)
      # Pepr's Dockerfile: production dependencies only, then no @types, no Ramda
      # dist/es, no .ts files; the result is /app/node_modules (pepr itself included).
      local v; v="$(pepr_version)"
      mkdir -p "$work/npm"
      printf '{"name":"pepr-controller-image","private":true,"dependencies":{"pepr":"%s"}}\n' "$v" >"$work/npm/package.json"
      (cd "$work/npm" && npm install --omit=dev --omit=peer --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
      rm -rf "$work/npm/node_modules/@types" "$work/npm/node_modules/ramda/dist" "$work/npm/node_modules/ramda/es"
      find "$work/npm/node_modules" -name '*.ts' -type f -delete
      add_etc "$rootfs"
      add_node_runtime "$rootfs" /usr/local/bin/node
      mkdir -p "$rootfs/app"
      mv "$work/npm/node_modules" "$rootfs/app/node_modules"
      # The controller writes the module it loads to /app and runs as uid 65532.
      chown 65532:65532 "$rootfs/app"
      node "$here/images/oci-archive.js" --rootfs "$rootfs" --name "$ref" --out "$out" \
        --entrypoint '["/usr/local/bin/node"]' --workdir /app --user 65532:65532 \
        --env PATH=/usr/local/bin:/usr/bin:/bin --env NODE_ENV=production >/dev/null
      ;;
  esac
  rm -rf "$work"
  echo "images: built $img ($ref) in $((SECONDS - t0))s: $out" >&2
  echo "$out"
}

import_all() {
  local dir="$1" img
  local sock="$dir/containerd/containerd.sock"
  [[ -S "$sock" ]] || die "no containerd socket at $sock (start the cluster first)"
  for img in "${all[@]}"; do
    local out; out="$(build_one "$img")"
    ctr --address "$sock" -n k8s.io images import "$out" >/dev/null \
      || die "ctr images import $out failed"
  done
}

cmd="${1:-}"
shift || true
case "$cmd" in
  name) name "${1:?image}" ;;
  build)
    (($#)) || set -- "${all[@]}"
    for img in "$@"; do build_one "$img"; done ;;
  import) import_all "${1:?DIR}" ;;
  *) die "usage: images.sh name IMAGE | build [IMAGE...] | import DIR" ;;
esac
