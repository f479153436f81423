# Container image for deploy/k8s. Build where a Docker engine runs: docker build -t ig-otel-profiles .
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY proto ./proto
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY proto ./proto
COPY examples ./examples
USER 65532
# A capped heap makes V8 collect instead of growing RSS under a high allocation rate (see docs/benchmarks.md).
ENV NODE_OPTIONS="--max-old-space-size=192 --max-semi-space-size=8"
ENTRYPOINT ["node", "/app/bin/ig-otel-profiles.js"]
