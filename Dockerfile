# One image for every role: `docker run … boxoffice serve --role command|query|projector|all`,
# and the CLI (`docker run … boxoffice projections:status`).

# Production dependencies only, compiled for this platform (argon2, better-sqlite3).
FROM node:20-bookworm-slim AS deps
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --omit=dev

# The TypeScript sources compiled to dist/.
FROM deps AS build
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY domain ./domain
COPY eventstore ./eventstore
COPY command-api ./command-api
COPY query-api ./query-api
COPY legacy-api ./legacy-api
COPY projectors ./projectors
COPY migrations ./migrations
COPY app ./app
COPY lib ./lib
COPY read-models ./read-models
RUN npm run build

FROM node:20-bookworm-slim
# A 64 MiB young generation: a request's short-lived objects die young (bench/processes.ts,
# serverNodeFlags, runs the benchmarks' servers with the same flags).
ENV NODE_ENV=production \
    NODE_OPTIONS=--max-semi-space-size=64 \
    HOST=0.0.0.0 \
    PORT=3000 \
    BOXOFFICE_DATA_DIR=/data
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --retries=5 CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "bin/boxoffice.js"]
CMD ["serve"]
