import Type from 'typebox';

/** The building blocks every event schema uses. */
export const Id = Type.String({ minLength: 1 });
/** A time: an RFC 3339 instant, checked by the one parser of times (instant.ts). */
export { Instant } from './instant.ts';
/** Rupiah (the smallest unit of the currency); money is never a float. */
export const Money = Type.Integer({ minimum: 0 });
