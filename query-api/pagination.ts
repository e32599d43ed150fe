/**
 * Lists page by keyset, not OFFSET: the cursor is the sort key of the last item shown, so a page
 * costs the same deep in the list as at its start, and rows added meanwhile shift nothing. To
 * clients the cursor is opaque (base64url of JSON); a cursor that does not decode is a 400.
 */
import Type from 'typebox';
import { AppError } from '../lib/errors.ts';

export const PageQuery = {
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 512, pattern: '^[A-Za-z0-9_-]+$', description: 'next_cursor of the previous page' })),
};

export function pageOf<T>(items: readonly T[], limit: number, keyOf: (last: T) => readonly (string | number)[]): { items: T[]; next_cursor: string | null } {
  const page = items.slice(0, limit);
  const last = page.at(-1);
  return { items: page, next_cursor: items.length > limit && last !== undefined ? encodeCursor(keyOf(last)) : null };
}

export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** The sort key a cursor carries, checked against the kinds of its parts. */
export function decodeCursor(cursor: string, kinds: readonly ('string' | 'number')[]): (string | number)[] {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new AppError('INVALID_CURSOR', 'the cursor is not one this API gave out');
  }
  if (!Array.isArray(key) || key.length !== kinds.length || key.some((part, i) => typeof part !== kinds[i] || (typeof part === 'string' && part.length > 200))) {
    throw new AppError('INVALID_CURSOR', 'the cursor is not one this API gave out');
  }
  return key as (string | number)[];
}
