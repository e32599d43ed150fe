import Type from 'typebox';

/** The building blocks every event schema uses. */
export const Id = Type.String({ minLength: 1 });
/** An ISO-8601 UTC instant. */
export const Instant = Type.String({ format: 'date-time' });
/** Rupiah (the smallest unit of the currency); money is never a float. */
export const Money = Type.Integer({ minimum: 0 });
