# LimeDB node image: production dependencies installed in one stage, a slim non-root runtime in the next.
# The Bun version is pinned here as in .ci/run and the README; change them together.

FROM oven/bun:1.4.4-slim AS deps
WORKDIR /app
COPY package.json bun.lock bunfig.toml ./
# The lockfile decides every version; dev dependencies (typescript, mitata, types) stay out of the image.
RUN bun install --frozen-lockfile --production

FROM oven/bun:1.4.4-slim
WORKDIR /app
# Listen on every interface of the container (the node's own default is loopback only) and keep data in /data,
# a directory the unprivileged bun user owns; mount a volume there to keep data across containers.
# MIMALLOC_PURGE_HOLES=0: Bun's allocator no longer hands back the free gaps inside pages still in use, to
# fault them in again on the next request (see src/config/process-env.ts); the scripts in package.json set it too.
ENV SERVER_HOST=0.0.0.0 \
    SERVER_PORT=8484 \
    DATA_DIR=/data \
    MIMALLOC_PURGE_HOLES=0
# Code and dependencies stay owned by root: the node can read its code but never rewrite it.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
RUN mkdir -p /data && chown bun:bun /data
USER bun
EXPOSE 8484
# The image has no curl; Bun's fetch asks the node itself, bounded so a hung node counts as unhealthy.
HEALTHCHECK --interval=10s --timeout=5s --start-period=10s --retries=3 \
  CMD ["bun", "-e", "fetch('http://127.0.0.1:' + (process.env.SERVER_PORT || '8484') + '/api/v1/health', { signal: AbortSignal.timeout(3000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
CMD ["bun", "src/main.ts"]
