# apigw-diag: the diagnostic agent as a container. `daemon` by default; `diagnose` one-shot with
#   docker run --rm --init IMAGE diagnose --endpoint ... --api-id ... --stage ...
# Builds with `docker build .` and with `buildah bud .` alike.

ARG NODE_IMAGE=node:22-bookworm-slim

# --- build: dev dependencies and the TypeScript compiler; nothing from here ships but dist/ ---
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
# Scripts off: `prepare` builds, and the sources are not here yet (this layer is cached on the lockfile).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
RUN npm run build

# --- runtime: production dependencies only, owned by root, run as `node` ---
FROM ${NODE_IMAGE} AS runtime
# The daemon's heap: a 1 MiB semi-space (V8's default grows to 16 MiB: 32 MiB of young generation)
# and an old generation grown by 20 % over what the last full GC kept, not V8's 1.1x-4x: at 100
# targets 88-93 MiB RSS instead of 122-156 MiB (docs/performance.md). Soft limits: no heap cap.
# No Sparkplug (V8's baseline tier: its code for every warm function) and one V8 worker thread:
# about 5 MiB less at 100 targets, within the CPU spread between runs.
# WebAssembly (undici's HTTP parser) stays in its baseline tier: optimizing llhttp takes up to
# 19 MiB of malloc on V8's worker thread, and in most runs about 7 MiB of it stays resident.
# Its malloc (glibc) gives freed memory back once 128 KiB is free at the top of a heap, instead of
# a threshold that grows to 32 MiB: about 12 MiB less RSS, within the CPU spread between runs.
# On Node 22 and later also the lean flags (the entrypoint reads the line from NODE_VERSION): V8's
# heap limit grows by at least 8 MiB over what a full GC kept, whatever the growing percent;
# --optimize-for-size makes each full GC compact and give pages back, and TurboFan without inlining
# keeps less code: 78 MiB instead of 81-83 at 100 targets, for 5-10 % more CPU per check (on Node 20:
# 20 % more CPU for 0-3 MiB, so not there).
ENV APIGW_DIAG_DAEMON_NODE_FLAGS="--max-semi-space-size=1 --heap-growing-percent=20 --no-sparkplug --v8-pool-size=1 --liftoff-only" \
    APIGW_DIAG_DAEMON_LEAN_FLAGS="--optimize-for-size --no-turbo-inlining" \
    APIGW_DIAG_DAEMON_ENV="MALLOC_TRIM_THRESHOLD_=131072 MALLOC_TOP_PAD_=0" \
    NODE_ENV=production \
    TMPDIR=/tmp \
    HOME=/tmp \
    NO_UPDATE_NOTIFIER=1

WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would try to build without a compiler. The npm cache goes to a
# throwaway dir in the same layer so it never reaches the image.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund --cache /tmp/npm-cache \
 && rm -rf /tmp/npm-cache /tmp/* \
 && mkdir -p /etc/apigw-diag
# The entrypoint: V8 flags on node's command line, per command and Node line
# (scripts/container-entrypoint.sh, tested by test/container/entrypoint.test.ts).
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
