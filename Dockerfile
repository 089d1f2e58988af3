# apigw-diag: the diagnostic agent as a container. `daemon` by default; `diagnose` one-shot with
#   docker run --rm --init IMAGE diagnose --endpoint ... --api-id ... --stage ...
# Builds with `docker build .` and with `buildah bud .` alike.

ARG NODE_IMAGE=node:22-bookworm-slim

# --- build: dev dependencies and esbuild; nothing from here ships but dist/ ---
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# Scripts off: `prepare` builds, and the sources are not here yet (this layer is cached on the lockfile).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY scripts ./scripts
COPY src ./src
RUN npm run build

# --- runtime: the bundle alone (it holds its dependencies: no node_modules), run as `node` ---
FROM ${NODE_IMAGE} AS runtime
# The daemon's node flags (the entrypoint passes them to `daemon` only, and starts it without
# them, with one warning, if this node rejects one): a 1 MiB semi-space (V8's default grows to
# 16 MiB) and an old generation grown by 20 % over what the last full GC kept. At 100 targets each
# takes 31-37 MiB off the daemon's RSS on Node 20 and 22 (`npm run bench -- --only flags`,
# docs/performance.md, which also has the settings measured and not kept).
ENV APIGW_DIAG_DAEMON_NODE_FLAGS="--max-semi-space-size=1 --heap-growing-percent=20" \
    NODE_ENV=production \
    TMPDIR=/tmp \
    HOME=/tmp \
    NO_UPDATE_NOTIFIER=1

WORKDIR /app
# package.json: src/version.ts reads the version from it.
COPY package.json ./
RUN mkdir -p /etc/apigw-diag
COPY --from=build --chmod=0755 /src/scripts/container-entrypoint.sh /usr/local/bin/apigw-diag
COPY --from=build /src/dist ./dist

# Nothing is written outside /tmp (HOME and TMPDIR point there; Node's compile cache goes to
# /tmp/.cache/apigw-diag, and without a writable /tmp the agent runs without it), so the root
# filesystem can be read-only: `docker run --read-only --tmpfs /tmp`, or readOnlyRootFilesystem
# plus an emptyDir.
USER node
EXPOSE 9464
# No curl in the image: node itself asks /healthz. The port follows APIGW_DIAG_LISTEN if set.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "const p=(process.env.APIGW_DIAG_LISTEN||'').split(':').pop()||9464;require('http').get({host:'127.0.0.1',port:p,path:'/healthz',timeout:4000},r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1)).on('timeout',()=>process.exit(1))"]

# Last, so a new revision or date does not invalidate the dependency layer above.
ARG NODE_IMAGE
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="apigw-diag" \
      org.opencontainers.image.description="Diagnoses the path from an on-premises host to a private Amazon API Gateway REST API behind an interface VPC endpoint, layer by layer" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.base.name="${NODE_IMAGE}" \
      org.opencontainers.image.documentation="docs/container.md"
ENTRYPOINT ["apigw-diag"]
CMD ["daemon", "--config", "/etc/apigw-diag/config.yaml"]
