# syntax=docker/dockerfile:1
# k8s-consul-sync: build with dev dependencies, run the bundled CLI alone. `npm run build`
# compiles with tsc and bundles src/cli.ts with esbuild (bundle.mjs) into dist/bundle/ (the CLI,
# its chunks and every dependency it uses, tree-shaken), so the runtime image needs no
# node_modules: it starts faster and holds less (see README, Performance).

FROM node:20.19-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json bundle.mjs ./
COPY src ./src
COPY handlers ./handlers
RUN npm run build

FROM node:20.19-bookworm-slim AS runtime
ENV NODE_ENV=production
# --max-semi-space-size=8 (MiB): a young generation of at most 2 × 8 MiB instead of V8's default
# of up to 2 × 16 MiB, which stays committed once a burst of requests has grown it; 2 MiB idles
# 4 MiB lower but costs the event path about 15 % more CPU (collections) and lengthens a
# maximum-size Service's admission and /healthz stalls. --max-old-space-size=192
# (MiB): V8 collects before its heap outgrows the Deployment's 256Mi memory limit, instead of
# growing into it (README, Performance: serve's RSS after 1,000 admissions, and the 1.5 MiB
# reviews of heavy-input, peak 255 -> 132 MiB). A manifest that sets NODE_OPTIONS replaces this
# value, so it repeats what it keeps (the reconcile CronJob sets its own heap bound). `npm run
# bench` starts the built serve and the reconcile with the NODE_OPTIONS of this line and of the
# CronJob.
ENV NODE_OPTIONS="--max-semi-space-size=8 --max-old-space-size=192"
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
