#!/usr/bin/env bash
# Finishes the manifests `npx pepr build` wrote (hack/manifests/finish.ts: the Service
# webhook fails open and sees only LoadBalancer Services, the metallb.io webhook stays
# fail-closed, the admission Deployment gets anti-affinity and a PodDisruptionBudget).
#
#   hack/finish-manifests.sh [DIST_DIR]            finish what pepr build wrote (default dist/)
#   hack/finish-manifests.sh --build [FLAGS...]    npx pepr build FLAGS..., then finish its output
#                                                  directory (-o/--output, default dist/)
#   hack/finish-manifests.sh --live [NAME]         finish the webhook configurations NAME (default
#                                                  pepr-metallb-pepr) registered in the cluster
#                                                  (kubectl's), e.g. after `npx pepr dev` registered them
# `npm run build` is the second form, so `npm run build -- -i registry/pepr-controller:tag` works.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dist="$repo/dist"
if [[ "${1:-}" == "--build" ]]; then
  shift
  (cd "$repo" && npx pepr build "$@")
  while [[ $# -gt 0 ]]; do
    case "$1" in
      -o | --output) dist="$2"; shift ;;
      --output=*) dist="${1#--output=}" ;;
    esac
    shift
  done
  [[ "$dist" == /* ]] || dist="$repo/$dist"
elif [[ "${1:-}" == "--live" ]]; then
  dist=""
elif [[ $# -gt 0 ]]; then
  dist="$1"
fi
[[ -z "$dist" ]] || dist="$(cd "$dist" && pwd)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
(cd "$repo" && npx esbuild hack/manifests/finish-cli.ts --bundle --platform=node --target=node20 \
  --log-level=warning --outfile="$out/finish.js")
if [[ -z "$dist" ]]; then node "$out/finish.js" "$@"; else node "$out/finish.js" "$dist"; fi
