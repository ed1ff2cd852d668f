#!/usr/bin/env bash
# Builds the rawnet N-API addon (native/rawnet.c) into build/Release/rawnet.node.
# Linux only: the addon wraps AF_PACKET and TCP_MD5SIG. Needs a C compiler, make and python3.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ "$(uname -s)" != "Linux" ]]; then
  echo "build-native: skipped, the rawnet addon is Linux-only (AF_PACKET, TCP_MD5SIG)" >&2
  exit 0
fi

find_node_gyp() {
  local npm_bin npm_dir candidate
  if npm_bin="$(command -v npm 2>/dev/null)"; then
    npm_dir="$(dirname "$(readlink -f "$npm_bin")")"
    for candidate in \
      "$npm_dir/../node_modules/node-gyp/bin/node-gyp.js" \
      "$npm_dir/node_modules/node-gyp/bin/node-gyp.js" \
      "$npm_dir/../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js"; do
      if [[ -f "$candidate" ]]; then
        readlink -f "$candidate"
        return 0
      fi
    done
  fi
  if [[ -f /usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js ]]; then
    echo /usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js
    return 0
  fi
  return 1
}

args=(rebuild)
# Distribution packages put the headers in /usr/include/node; use them instead of downloading.
if [[ -f /usr/include/node/node_api.h ]]; then
  args+=(--nodedir=/usr)
fi

if gyp="$(find_node_gyp)"; then
  node "$gyp" "${args[@]}"
else
  echo "build-native: npm's bundled node-gyp not found, falling back to npx node-gyp" >&2
  npx --yes node-gyp "${args[@]}"
fi

test -f build/Release/rawnet.node
echo "build-native: built $(pwd)/build/Release/rawnet.node"
