# The node agent image (ghcr.io/metallb-pepr/agent:<version>): the bundled agent
# plus the rawnet N-API addon, nothing else. The Pepr controller does not use
# this image; it runs Pepr's own controller image with our module bundle.
#
#   docker build -t ghcr.io/metallb-pepr/agent:$(node -p 'require("./package.json").version') .
#
# Build stage: compilers for the addon and the dev dependencies for esbuild.
FROM node:20-bookworm-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY binding.gyp ./
COPY native/ native/
COPY hack/build-native.sh hack/build-agent.sh hack/
RUN bash hack/build-native.sh
COPY tsconfig.json ./
COPY bin/ bin/
COPY crds/ crds/
COPY capabilities/ capabilities/
RUN bash hack/build-agent.sh

# Runtime: distroless Node 20 on Debian 12 (same glibc as the build stage):
# no shell, no package manager, no npm. The agent runs as uid 0 for its raw
# sockets, but the DaemonSet drops every capability except NET_RAW, keeps
# privilege escalation off and mounts the root filesystem read-only
# (docs/install.md, "Security context", says why not a non-root user).
FROM gcr.io/distroless/nodejs20-debian12
WORKDIR /app
COPY --from=build /src/bin/metallb-pepr.js bin/metallb-pepr.js
COPY --from=build /src/dist/agent/agent.js dist/agent/agent.js
# native.ts looks for build/Release/rawnet.node in the bundle's parent directories.
COPY --from=build /src/build/Release/rawnet.node build/Release/rawnet.node
ENV NODE_ENV=production
EXPOSE 7472
ENTRYPOINT ["/nodejs/bin/node", "/app/bin/metallb-pepr.js"]
CMD ["agent"]
