/**
 * The door: the public keys a scanner checks QR codes with, check-in (one scan, or a batch from a
 * gate that was offline) for staff, and a ticket's transfer for its buyer.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { AppError } from '../../lib/errors.ts';
import { principalOf } from '../../lib/http/auth.ts';
import { requireUuid } from '../../lib/http/authorization.ts';
import { FullNameSchema, Instant, KtpSchema, PositionSchema, problemResponses, requestContext, UuidSchema } from '../../lib/http/schemas.ts';
import { parseInstant } from '../../domain/index.ts';
import type { TicketCodes } from '../../lib/tickets/ticket-codes.ts';
import { TicketViewSchema } from '../../lib/tickets/ticket-view.ts';
import type { Door } from '../tickets/door.ts';
import type { ReadAtHead } from '../read-at-head.ts';
import { MinPositionQuery } from '../../lib/http/min-position.ts';

const Qr = Type.String({ minLength: 1, maxLength: 1024, description: 'the ticket QR code: BX1.<payload>.<signature>' });
const Gate = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9 _.:-]+$', description: 'the gate scanning' });
/** Scans uploaded at once by a gate that was offline. */
const MAX_BATCH = 500;
/** How far ahead of our clock a gate's clock may run. */
const CLOCK_SKEW_MS = 5 * 60_000;

const AdmittedTicket = Type.Object({
  id: Type.String(),
  seat_number: Type.Integer(),
  ticket_class_name: Type.String(),
  holder_name: Type.Union([Type.String(), Type.Null()]),
  holder_ktp_last4: Type.Union([Type.String(), Type.Null()]),
});


const ScanResult = Type.Union([
  Type.Object({ result: Type.Literal('admitted'), ticket: AdmittedTicket, position: PositionSchema }),
  Type.Object({
    result: Type.Literal('refused'),
    code: Type.String(),
    detail: Type.String(),
    admitted_at: Type.Optional(Type.String()),
    gate: Type.Optional(Type.String()),
  }),
]);

const tags = ['door'];
const bearer = [{ bearer: [] }];

export const doorRoutes: FastifyPluginAsyncTypebox<{ door: Door; codes: TicketCodes; now: () => Date; atHead: ReadAtHead }> = async (app, { door, codes, now, atHead }) => {
  app.get('/api/v1/checkin/keys', {
    // The keys are static: the position named is the store's head when they were read.
    preHandler: atHead,
    schema: {
      tags,
      querystring: Type.Object(MinPositionQuery, { additionalProperties: false }),
      summary: "The public keys tickets' QR codes are signed with (Ed25519, JWK members): a scanner checks a code with these alone",
      response: {
        200: Type.Object({
          keys: Type.Array(Type.Object({ kid: Type.String(), kty: Type.String(), crv: Type.String(), alg: Type.String(), use: Type.String(), x: Type.String() })),
        }),
      },
    },
  }, async () => ({ keys: [...codes.publicKeys()] }));

  app.post('/api/v1/checkin', {
    preHandler: app.requireStaff,
    schema: {
      tags,
      summary: 'Scan a ticket at a gate: admitted once; again → ALREADY_ADMITTED with when and where',
      security: bearer,
      querystring: Type.Object({ concert_id: Type.Optional(UuidSchema) }, { additionalProperties: false }),
      body: Type.Object({ qr: Qr, gate: Type.Optional(Gate) }, { additionalProperties: false }),
      response: { 200: Type.Object({ result: Type.Literal('admitted'), ticket: AdmittedTicket, position: PositionSchema }), ...problemResponses },
    },
  }, async (request) => {
    const { ticket, position } = await door.checkin(request.body.qr, { gate: request.body.gate ?? 'main', concertId: request.query.concert_id }, principalOf(request), requestContext(request));
    return { result: 'admitted' as const, ticket, position };
  });

  app.post('/api/v1/checkin/batch', {
    preHandler: app.requireStaff,
    schema: {
      tags,
      summary: 'Upload the scans of a gate that was offline: the earliest scan of a ticket wins, one result per scan in order',
      security: bearer,
      body: Type.Object({
        scans: Type.Array(Type.Object({ qr: Qr, gate: Gate, scanned_at: Instant }, { additionalProperties: false }), { minItems: 1, maxItems: MAX_BATCH }),
      }, { additionalProperties: false }),
      response: {
        200: Type.Object({
          results: Type.Array(ScanResult),
          position: Type.Integer({ minimum: 0, description: 'the global position of the last admission the batch appended; with none, the position its refusals stand on (0: it named no ticket)' }),
        }),
        ...problemResponses,
      },
    },
  }, async (request) => {
    const latest = now().getTime() + CLOCK_SKEW_MS;
    for (const scan of request.body.scans) {
      if ((parseInstant(scan.scanned_at) ?? Infinity) > latest) throw new AppError('VALIDATION_FAILED', `scanned_at ${scan.scanned_at} is not a time before now`);
    }
    return door.checkinBatch(request.body.scans, principalOf(request), requestContext(request));
  });

  app.post('/api/v1/tickets/:id/transfer', {
    preHandler: app.requireUser,
    schema: {
      tags,
      summary: 'Give a ticket to someone else before the concert: its revision goes up, the old QR code is refused from then on',
      security: bearer,
      params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
      body: Type.Object({ full_name: FullNameSchema, ktp_number: KtpSchema }, { additionalProperties: false }),
      response: { 200: Type.Object({ ...TicketViewSchema.properties, position: PositionSchema }), ...problemResponses },
    },
  }, async (request) => {
    requireUuid(request.params.id, 'ticket');
    return door.transfer(principalOf(request), request.params.id, request.body, requestContext(request));
  });
};
