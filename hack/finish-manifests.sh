#!/usr/bin/env bash
# Finishes the manifests `npx pepr build` wrote (hack/manifests/finish.ts: the Service
# webhook fails open and sees only LoadBalancer Services, the metallb.io webhook stays
# fail-closed, the admission Deployment gets anti-affinity and a PodDisruptionBudget).
# `npm run build` runs it after `pepr build`.   Usage: hack/finish-manifests.sh [DIST_DIR]
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dist="$(cd "${1:-$repo/dist}" && pwd)"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
(cd "$repo" && npx esbuild hack/manifests/finish-cli.ts --bundle --platform=node --target=node20 \
  --log-level=warning --outfile="$out/finish.js")
node "$out/finish.js" "$dist"
