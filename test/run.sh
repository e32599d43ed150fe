#!/usr/bin/env bash
# `npm test`: the one test command, the same on a laptop and in CI. Installs missing servers,
# checks types, lint, layer rules and docker-compose.yml, then runs every spec against throwaway MariaDB, Redis and
# NATS servers (test/harness/run.ts), which it stops afterwards. Extra arguments go to tap.
set -euo pipefail
cd "$(dirname "$0")/.."

bash test/harness/install-servers.sh
echo "== typecheck" >&2
npx --no-install tsc -p tsconfig.json --noEmit
echo "== lint" >&2
npx --no-install eslint .
echo "== layer rules" >&2
npx --no-install depcruise --config .dependency-cruiser.cjs .
echo "== docker-compose.yml" >&2
docker-compose -f docker-compose.yml config -q
echo "== specs" >&2
exec node --import tsx test/harness/run.ts "$@"
