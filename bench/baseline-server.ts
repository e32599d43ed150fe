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
