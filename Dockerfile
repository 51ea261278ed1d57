# syntax=docker/dockerfile:1
# One image for every app; pick the app with the command:
#   docker run cronbundle dist/apps/worker/main.js
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
# npm install, not npm ci: see .ci/run.
RUN --mount=type=cache,target=/root/.npm npm install --no-audit --no-fund

FROM deps AS build
COPY . .
RUN npm run build

# Production dependencies only, installed apart from the build so no dev tool reaches the image.
# Install scripts are skipped: no runtime dependency needs one, and it keeps the stage hermetic.
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm install --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=prod-deps --chown=root:root /app/node_modules ./node_modules
COPY --from=build --chown=root:root /app/dist/apps ./dist/apps
COPY --chown=root:root package.json ./
# The image's `node` user, numerically, so Kubernetes' runAsNonRoot can verify it. Files stay
# owned by root: the app never writes under /app (temporary files go to /tmp).
USER 1000:1000
EXPOSE 3000 3001 3002
ENTRYPOINT ["node"]
CMD ["dist/apps/api/main.js"]
