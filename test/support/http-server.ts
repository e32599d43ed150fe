/**
 * The HTTP server kit alone (lib/http/server-kit.ts) for specs of its plugins and hooks: a test
 * secret, an in-memory revocation list, the given readiness checks; log lines captured when asked.
 */
import { Writable } from 'node:stream';
import type { Test } from 'tap';
import { loadConfig } from '../../lib/config.ts';
import type { ReadinessCheck } from '../../lib/http/health.ts';
import { serverLogger } from '../../lib/http/logger.ts';
import { createHttpServer, type HttpServer } from '../../lib/http/server-kit.ts';
import { Metrics } from '../../lib/observability/metrics.ts';
import { MemoryExpiringKeys } from '../../lib/security/expiring-keys.ts';
import { RevocationList } from '../../lib/security/revocations.ts';
import { Sessions } from '../../lib/security/sessions.ts';

export const KIT_SECRET = 's'.repeat(32);

export async function kitServer(
  t: Test,
  options: { readonly readiness?: Record<string, ReadinessCheck>; readonly logs?: string[] } = {},
): Promise<HttpServer> {
  const keys = new MemoryExpiringKeys();
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: options.logs === undefined ? 'silent' : 'error' });
  const logs = options.logs;
  const stream = logs === undefined ? undefined : new Writable({ write: (chunk: Buffer, _e, done) => void (logs.push(chunk.toString()), done()) });
  const app = await createHttpServer(config, {
    logger: serverLogger(config, stream),
    // No user changes here: every token's claims stand.
    auth: { secret: KIT_SECRET, revocations: new RevocationList(keys), sessions: new Sessions({ keys, load: async () => null, tokenTtlMs: 900_000 }) },
    readiness: options.readiness ?? {},
    metrics: new Metrics(),
  });
  t.teardown(async () => {
    await app.close();
    keys.close();
  });
  return app;
}
