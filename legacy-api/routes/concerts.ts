/**
 * The older booking-service's concert routes: every concert as a bare array (null when there is
 * none), one concert and its seat map by integer id, and the admin's new concert. Reads go
 * through the query API's ConcertReads; the new concert through the command API's ConcertService.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Knex } from 'knex';
import Type from 'typebox';
import type { ConcertService } from '../../command-api/concerts/concerts.ts';
import type { Config } from '../../lib/config.ts';
import { notFound } from '../../lib/errors.ts';
import { principalOf } from '../../lib/http/auth.ts';
import { ConcertDetailsFields, NewTicketClassSchema, requestContext } from '../../lib/http/schemas.ts';
import type { ConcertReads, ConcertView } from '../../query-api/concerts/concert-reads.ts';
import type { ProjectionWaiter } from '../../query-api/read-your-writes/waiter.ts';
import type { AsRead, ConcertRow } from '../../read-models/tables.ts';
import type { ReadSources } from '../../read-models/replicas.ts';
import { everyPage, LEGACY_IDS, legacyList, LegacyReadQuery, readSource, rememberPosition, waitFor } from '../http.ts';
import type { LegacyIdReads } from '../legacy-ids.ts';
import { ErrorBody, LegacyIdParams, legacyConcert, LegacyConcert, legacySeat, LegacySeat } from '../shapes.ts';

export interface LegacyConcertRoutesOptions {
  readonly config: Config;
  readonly concerts: ConcertService;
  readonly concertReads: ConcertReads;
  readonly ids: LegacyIdReads;
  readonly waiter: ProjectionWaiter;
  readonly sources: ReadSources;
}

const errors = { '4xx': ErrorBody, '5xx': ErrorBody };
const READS = ['concerts', LEGACY_IDS] as const;

/** Concerts in the older shape; those not numbered yet are left out. */
export async function legacyConcerts(db: Knex, ids: LegacyIdReads, concerts: readonly ConcertView[]): Promise<LegacyConcert[]> {
  if (concerts.length === 0) return [];
  const [concertNumbers, classNumbers, created] = await Promise.all([
    ids.numbers(db, 'concert', concerts.map((c) => c.id)),
    ids.numbers(db, 'ticket_class', concerts.flatMap((c) => c.ticket_classes.map((tc) => tc.id))),
    db('concerts').whereIn('id', concerts.map((c) => c.id)).select<Pick<AsRead<ConcertRow>, 'id' | 'created_at'>[]>('id', 'created_at'),
  ]);
  const createdAt = new Map(created.map((row) => [row.id, row.created_at]));
  return concerts.flatMap((concert) => legacyConcert(concert, createdAt.get(concert.id) ?? concert.date, { concerts: concertNumbers, classes: classNumbers }) ?? []);
}

export const legacyConcertRoutes: FastifyPluginAsyncTypebox<LegacyConcertRoutesOptions> = async (app, { config, concerts, concertReads, ids, waiter, sources }) => {
  const idOf = async (db: Knex, number: number): Promise<string> => {
    const id = await ids.idOf(db, 'concert', number);
    if (id === undefined) throw notFound('concert not found');
    return id;
  };

  app.get('/api/v1/concerts', {
    schema: { tags: ['legacy'], querystring: LegacyReadQuery, response: { 200: Type.Union([Type.Array(LegacyConcert), Type.Null()]), ...errors } },
  }, async (request, reply) => {
    const source = await readSource(request, reply, waiter, sources, READS);
    const all = await source.run(async (db) => legacyConcerts(db, ids, await everyPage((cursor) => concertReads.list(db, { limit: 100, cursor }))));
    return legacyList(all);
  });

  app.get('/api/v1/concerts/:id', {
    schema: { tags: ['legacy'], params: LegacyIdParams, querystring: LegacyReadQuery, response: { 200: LegacyConcert, ...errors } },
  }, async (request, reply) => {
    const source = await readSource(request, reply, waiter, sources, READS);
    const [concert] = await source.run(async (db) => {
      const view = await concertReads.one(db, await idOf(db, Number(request.params.id)));
      return view === undefined ? [] : legacyConcerts(db, ids, [view]);
    });
    if (concert === undefined) throw notFound('concert not found');
    return concert;
  });

  app.get('/api/v1/concerts/:id/seats', {
    schema: { tags: ['legacy'], params: LegacyIdParams, querystring: LegacyReadQuery, response: { 200: Type.Union([Type.Array(LegacySeat), Type.Null()]), ...errors } },
  }, async (request, reply) => {
    const source = await readSource(request, reply, waiter, sources, READS);
    const seats = await source.run(async (db) => {
      const concertId = await idOf(db, Number(request.params.id));
      const concert = await concertReads.one(db, concertId);
      if (concert === undefined) throw notFound('concert not found');
      const map = await concertReads.seats(db, concertId, { limit: 1_000_000 });
      const items = map?.items ?? [];
      const [classNumbers, seatNumbers] = await Promise.all([
        ids.numbers(db, 'ticket_class', concert.ticket_classes.map((c) => c.id)),
        ids.seatNumbers(db, items),
      ]);
      const className = new Map(concert.ticket_classes.map((c) => [c.id, c.name]));
      return items.flatMap((seat) => {
        const number = seatNumbers.get(seat.id);
        const classNumber = classNumbers.get(seat.ticket_class_id);
        return number === undefined || classNumber === undefined ? [] : [legacySeat(
          { ...seat, ticket_class_name: className.get(seat.ticket_class_id) ?? null },
          { seat: number, concert: Number(request.params.id), ticketClass: classNumber },
        )];
      });
    });
    return legacyList(seats);
  });

  app.post('/api/v1/admin/concerts', {
    preHandler: app.requireAdmin,
    schema: {
      tags: ['legacy'],
      body: Type.Object({
        ...ConcertDetailsFields,
        ticket_classes: Type.Array(NewTicketClassSchema, { minItems: 1, maxItems: 50 }),
      }, { additionalProperties: false }),
      response: { 201: LegacyConcert, ...errors },
    },
  }, async (request, reply) => {
    const created = await concerts.create(principalOf(request), request.body, undefined, requestContext(request));
    rememberPosition(request, reply, created.position, config.nodeEnv !== 'development');
    await waitFor(waiter, READS, created.position);
    const source = await sources.choose('concerts', Number.MAX_SAFE_INTEGER);
    const [concert] = await source.run(async (db) => {
      const view = await concertReads.one(db, created.id);
      return view === undefined ? [] : legacyConcerts(db, ids, [view]);
    });
    if (concert === undefined) throw notFound('concert not found');
    return reply.code(201).send(concert);
  });
};
