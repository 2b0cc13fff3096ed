# meshsig in a container: `docker build -t meshsig .` then
#   docker run -d -p 127.0.0.1:4888:4888 -p 4889:4889 -p 4890:4890 -v meshsig-data:/data meshsig
# The node's identity, operator token and database live in the /data volume
# (MESHSIG_HOME): keep the volume and the node keeps its DID across restarts.
# The operator token is /data/api-token (read it with
# `docker exec <container> cat /data/api-token`; give it to curl with -H @file).

# --- build: compile TypeScript and the dashboard, keep production dependencies only
FROM node:22-slim AS build
# better-sqlite3 compiles from source when no prebuilt binary can be fetched
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# node-gyp builds against the image's own headers (/usr/local/include/node), never downloads them
ENV npm_config_nodedir=/usr/local
WORKDIR /app
COPY package.json package-lock.json ./
# Offline build (no npm registry in reach; how test/e2e/container.test.ts builds): lend the
# host's npm cache as an overlay and install from it only, e.g. with podman
#   podman build -v "$(npm config get cache)":/npm-cache:O \
#     --build-arg NPM_CI_FLAGS="--offline --cache=/npm-cache" -t meshsig .
ARG NPM_CI_FLAGS=""
RUN npm ci --no-audit --no-fund $NPM_CI_FLAGS
COPY . .
RUN npm run build && npm prune --omit=dev --no-audit --no-fund

# --- runtime: no compiler, no dev dependencies, never root
FROM node:22-slim
ENV NODE_ENV=production \
    MESHSIG_HOME=/data \
    MESHSIG_PORT=4888 \
    MESHSIG_P2P_PORT=4889
WORKDIR /app
COPY --from=build --chown=root:root /app/package.json ./
COPY --from=build --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist ./dist
COPY --from=build --chown=root:root /app/ui/dist ./ui/dist
# /data: 0700, owned by the unprivileged user `node` (uid 1000) of the base image
RUN mkdir -p /data && chown node:node /data && chmod 700 /data
VOLUME ["/data"]
USER node
# 4888 HTTP API and dashboard, 4889 mesh TCP, 4890 mesh WebSocket
EXPOSE 4888 4889 4890
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.MESHSIG_PORT||4888)+'/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# Refuses to run as root (`--user 0`): the keys in /data must not belong to root.
# `meshsig start` makes the identity and the operator token in /data on first start
# (the token is required to bind 0.0.0.0).
ENTRYPOINT ["/bin/sh", "-c", "if [ \"$(id -u)\" = 0 ]; then echo 'meshsig: refusing to run as root; run as an unprivileged user (the image default is node, uid 1000)' >&2; exit 1; fi; umask 077; exec node /app/dist/bin/meshsig.js \"$@\"", "meshsig"]
CMD ["start", "--host", "0.0.0.0"]
