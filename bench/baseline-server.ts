/**
 * The HTTP front every baseline server shares: fastify with an HS256 JWT check and a compiled
 * TypeBox body check, as small as a row-lock design's front would be (no problem+json, no rate
 * limits), and a knex pool of 50 on its MySQL database.
 */
import fastifyJwt from '@fastify/jwt';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify from 'fastify';
import knex from 'knex';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';

export async function baselineServer(mysqlUrl: string, jwtSecret: string) {
  const db = knex({ client: 'mysql2', connection: mysqlUrl, pool: { min: 50, max: 50 } });
  const app = Fastify({ logger: false }).withTypeProvider<TypeBoxTypeProvider>();
  app.setValidatorCompiler(({ schema }) => {
    const check = Compile(schema as TSchema);
    return (value: unknown) => (check.Check(value) ? { value } : { error: new Error('invalid body') });
  });
  await app.register(fastifyJwt, { secret: jwtSecret, verify: { algorithms: ['HS256'] } });
  return { db, app };
}

/** Listens on PORT, says so on stdout (the bench waits for it), and closes on SIGTERM. */
export async function listenUntilStopped(app: { listen: (options: { port: number; host: string }) => Promise<unknown>; close: () => Promise<unknown> }, db: { destroy: () => Promise<void> }, port: number): Promise<void> {
  await app.listen({ port, host: '127.0.0.1' });
  process.stdout.write('baseline listening\n');
  process.once('SIGTERM', () => void app.close().then(() => db.destroy()).then(() => process.exit(0)));
}

/** Runs a baseline's main when the file is run as a script (not imported by a bench). */
export function runAsScript(url: string, main: () => Promise<void>): void {
  if (url !== `file://${process.argv[1]}`) return;
  main().catch((error: unknown) => {
    process.stderr.write(`baseline failed: ${String(error)}\n`);
    process.exit(1);
  });
}
