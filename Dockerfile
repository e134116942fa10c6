# syntax=docker/dockerfile:1
# offboard: one image for every role (`api`, `worker`, `demo`, one-off CLI commands).
#   docker build -t offboard .
#   docker run --rm --env-file .env offboard worker
# Secrets are never baked in: they come from the environment (env file, Kubernetes Secret) at run time.

# Node.js LTS on Debian slim. Pin a digest in CI (node:24-bookworm-slim@sha256:…) for reproducible builds.
ARG NODE_IMAGE=node:24-bookworm-slim

# ---- build: all dependencies, compile TypeScript ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
# tsc does not copy .lua or .json files: `npm run build` copies the Lua scripts (src/lua) and the Graph
# v1.0 contract (src/graph/contract, read by the simulator) next to the compiled modules that load
# them; the image build stops here if any is missing.
RUN npm run build && ls dist/lua/*/*.lua dist/graph/contract/v1.0-subset.json dist/graph/contract/v1.0-paths.json > /dev/null

# ---- deps: production dependencies only ----
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts are needed at run time (msgpackr's native extension ships prebuilt, and falls back to JS).
# TypeScript (~30 MB) lands here only as valibot's optional peer (bull-board), for types: nothing requires it
# at run time, so it is dropped.
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && rm -rf node_modules/typescript node_modules/@typescript node_modules/.bin/tsc node_modules/.bin/tsserver \
 && npm cache clean --force

# ---- runtime ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
# Everything is owned by root and read-only for the app user: the process cannot modify its own code.
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY deploy/healthcheck.mjs ./deploy/healthcheck.mjs
RUN chmod 0755 dist/cli.js && ln -s /app/dist/cli.js /usr/local/bin/offboard
# The `node` user (uid 1000) of the official image; no root at run time.
USER node
EXPOSE 8080
# api: GET /healthz. worker: its heartbeat in Redis is fresh (passes when Redis itself is down).
# The role is read from the container's command line; other commands are always healthy.
HEALTHCHECK --interval=30s --timeout=10s --start-period=30s --retries=3 \
  CMD ["node", "/app/deploy/healthcheck.mjs"]
ENTRYPOINT ["offboard"]
CMD ["--help"]
