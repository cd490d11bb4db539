# One image for the worker and the sandbox carriers (docker-compose.yml picks the entry point).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production LOG_FORMAT=json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
# The operator dashboard's page and stylesheet are served from the source tree.
COPY --from=build /app/dashboard/page ./dashboard/page
COPY package.json ./
USER node
CMD ["node", "dist/workers/main.js"]
