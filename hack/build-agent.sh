#!/usr/bin/env bash
# Bundles the node agent into dist/agent/agent.js (one file; Node 20).
# The rawnet addon stays outside the bundle: native.ts finds it at run time from
# $METALLB_PEPR_RAWNET, or build/Release/rawnet.node / rawnet.node in the bundle's
# directory or any parent (so dist/agent/agent.js in the repo finds build/Release/,
# and an image can copy rawnet.node next to agent.js).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# --keep-names: kubernetes-fluent-client maps kinds by class name (V1Service, ...).
npx esbuild capabilities/announcer/agent/main.ts --bundle --platform=node --target=node20 --keep-names \
  --external:*.node --log-level=warning --outfile=dist/agent/agent.js
echo "build-agent: built $(pwd)/dist/agent/agent.js"
