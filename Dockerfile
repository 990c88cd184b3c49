# One image recipe for every service: `--build-arg SERVICE=<app>` picks which one is built
# and run. Build context: the repository root (docker compose passes it), e.g.
#   docker build --build-arg SERVICE=router -t paas/router .
# Node 22, as `npm run up` runs the services: replicas share ports with SO_REUSEPORT,
# which Node 20 ignores (docs/architecture.md, "Replicas and ports").
ARG SERVICE=api-gateway

FROM node:22-bookworm-slim AS build
ARG SERVICE
WORKDIR /src
ENV CI=true NX_DAEMON=false NX_NO_CLOUD=true
COPY . .
RUN npm ci --no-audit --no-fund \
 && npx nx build "$SERVICE" \
 && npm prune --omit=dev --no-audit --no-fund

FROM node:22-bookworm-slim
ARG SERVICE
# The build-service fetches sources with git; the router makes its default certificate with openssl.
RUN apt-get update && apt-get install -y --no-install-recommends git ca-certificates openssl \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production PAAS_HOME=/var/lib/paas SERVICE=${SERVICE}
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules node_modules
COPY --from=build /src/libs libs
COPY --from=build /src/apps/${SERVICE} apps/${SERVICE}
CMD ["sh", "-c", "exec node apps/$SERVICE/dist/main.js"]
