/** Schemas every role's routes share: the problem body, ids, pagination, command answers. */
import Type from 'typebox';
import type { FastifyRequest } from 'fastify';
import type { CommandContext } from '../../domain/index.ts';

export const ProblemSchema = Type.Object({
  type: Type.String(),
  title: Type.String(),
  status: Type.Integer(),
  detail: Type.String(),
  code: Type.String(),
  error: Type.String(),
}, {
  $id: 'Problem',
  additionalProperties: true,
  description: 'RFC 9457 problem details; `code` is stable, `error` repeats `detail` for older clients. A refusal may add extension members that say more (`ALREADY_ADMITTED`: `admitted_at`, `gate`).',
});

/** The error answers a route may give, for the OpenAPI document and fast serialization. */
export const problemResponses = {
  '4xx': ProblemSchema,
  '5xx': ProblemSchema,
} as const;

export const PositionSchema = Type.Integer({ minimum: 0, description: 'global position of the last event this command appended' });

export const UuidSchema = Type.String({ format: 'uuid' });

/** A KTP (national id) number, and a person's name as a buyer or a ticket holder gives it. */
export const KtpSchema = Type.String({ pattern: '^[0-9]{16}$', description: 'KTP (national id) number: 16 digits' });
export const FullNameSchema = Type.String({ minLength: 1, maxLength: 100 });
/** The buyer's details as a booking names them (sealed before they are stored). */
export const BuyerInfoSchema = Type.Object({
  full_name: FullNameSchema,
  phone_number: Type.String({ pattern: '^[0-9]{10,15}$' }),
  email: Type.String({ format: 'email', maxLength: 254 }),
  ktp_number: KtpSchema,
}, { additionalProperties: false });

/** A time in a request, a query string or an answer: the domain's one parser of times checks it. */
import { Instant } from '../../domain/index.ts';
export { Instant };

/**
 * An absolute http(s) address with a host, such as a poster's: what a browser may load or follow
 * without running anything (`javascript:`, `data:`, `vbscript:`, `file:` and relative paths are refused).
 */
export const WebUrlSchema = Type.String({
  format: 'uri',
  pattern: '^[Hh][Tt][Tt][Pp][Ss]?://[^/?#\\s@]+([/?#]\\S*)?$',
  maxLength: 2048,
  description: 'an absolute http or https URL',
});

/** A concert's details as an admin writes them, on the main API and on the older system's. */
export const ConcertDetailsFields = {
  name: Type.String({ minLength: 1, maxLength: 200 }),
  artist: Type.String({ minLength: 1, maxLength: 200 }),
  date: Instant,
  venue: Type.String({ minLength: 1, maxLength: 200 }),
  description: Type.Optional(Type.String({ maxLength: 5000 })),
  image_url: Type.Optional(WebUrlSchema),
};

/** A new ticket class with its numbered seats. */
export const NewTicketClassSchema = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 100 }),
  price: Type.Integer({ minimum: 0, maximum: 1_000_000_000_000, description: 'whole rupiah' }),
  total_seats_in_class: Type.Integer({ minimum: 1, maximum: 200_000 }),
}, { additionalProperties: false });

/** The headers of a command that creates something: an optional Idempotency-Key. */
export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:-]+$' })),
});

/** Who is asking, for event metadata; the acting user is filled in per operation. */
export type RequestContext = Pick<CommandContext, 'correlationId' | 'causationId'>;

const CORRELATION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The request as event metadata sees it: who correlates it, what caused it. */
export function requestContext(request: FastifyRequest): RequestContext {
  const given = request.headers['x-correlation-id'];
  return {
    correlationId: typeof given === 'string' && CORRELATION_ID.test(given) ? given : request.id,
    causationId: request.id,
  };
}
