/**
 * Object-level authorization for every read or change by id: a malformed id is a 400; a
 * missing object and someone else's get the same 404 (nobody learns what exists); a failing
 * store is a 500 whose cause is logged, never sent. Admins may see everyone's (`loadOwned`);
 * what only the owner may do (pay for a booking) is `loadOwnedByCaller`, for admins too.
 */
import type { Principal } from './auth.ts';
import { AppError, notFound } from '../errors.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A malformed id is a 400 before anything is looked up. */
export function requireUuid(id: string, what: string): void {
  if (!UUID.test(id)) throw new AppError('INVALID_ID', `a ${what} id is a UUID`);
}

export async function loadOwned<T>(
  principal: Principal,
  id: string,
  load: (id: string) => Promise<T | null>,
  ownerOf: (value: T) => string,
  what: string,
): Promise<T> {
  return loadChecked(principal, id, load, ownerOf, what, principal.role === 'admin');
}

/** As `loadOwned`, but only the owner passes: someone else's is a 404 for an admin as for anyone. */
export async function loadOwnedByCaller<T>(
  principal: Principal,
  id: string,
  load: (id: string) => Promise<T | null>,
  ownerOf: (value: T) => string,
  what: string,
): Promise<T> {
  return loadChecked(principal, id, load, ownerOf, what, false);
}

async function loadChecked<T>(
  principal: Principal,
  id: string,
  load: (id: string) => Promise<T | null>,
  ownerOf: (value: T) => string,
  what: string,
  anyOwner: boolean,
): Promise<T> {
  requireUuid(id, what);
  const value = await load(id.toLowerCase());
  if (value === null || (!anyOwner && ownerOf(value) !== principal.userId)) {
    throw notFound(`no such ${what}`);
  }
  return value;
}
