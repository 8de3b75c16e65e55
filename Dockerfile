# syntax=docker/dockerfile:1
# k8s-consul-sync: build with dev dependencies, run compiled JS with production dependencies only.

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
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /src/dist ./dist
COPY infra ./infra
# The image's built-in unprivileged user (uid 1000); the Deployment also sets runAsNonRoot.
USER 1000:1000
EXPOSE 8443
ENTRYPOINT ["node", "dist/src/cli.js"]
CMD ["serve"]
