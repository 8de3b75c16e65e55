# syntax=docker/dockerfile:1
# k8s-consul-sync: build with dev dependencies, run the bundled CLI alone. `npm run build`
# compiles with tsc and bundles src/cli.ts with esbuild into dist/bundle/ (the CLI, its chunks
# and every dependency it uses, tree-shaken), so the runtime image needs no node_modules: it
# starts faster and holds less (see README, Performance).

FROM node:20.19-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY handlers ./handlers
RUN npm run build

FROM node:20.19-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
# package.json: the version --version prints.
COPY package.json ./
COPY --from=build /src/dist/bundle ./dist/bundle
COPY infra ./infra
# The image's built-in unprivileged user (uid 1000); the Deployment also sets runAsNonRoot.
USER 1000:1000
EXPOSE 8443
ENTRYPOINT ["node", "dist/bundle/k8s-consul-sync.mjs"]
CMD ["serve"]
