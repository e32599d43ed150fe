/**
 * The QR code of a ticket: `BX1.<payload>.<signature>`, where `payload` is the base64url (no
 * padding) JSON `{t, c, s, r, h, k, kid}` — ticket id, concert id, seat number, revision, the
 * holder's initials and KTP's last 4 digits, the signing key's id — and `signature` the base64url
 * Ed25519 signature of the ASCII text `BX1.<payload>`. A gate checks it with the published public
 * key alone (GET /api/v1/checkin/keys), offline too; only a check-in decides whether it gets in.
 *
 * Keys rotate: the first key signs, every key listed verifies, so codes printed before a rotation
 * still scan until their key is dropped.
 */
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { DomainError } from '../../domain/index.ts';
import { isUuid } from '../../domain/concert/seats.ts';

export interface TicketClaims {
  /** ticket id */
  readonly t: string;
  /** concert id */
  readonly c: string;
  /** seat number within its class */
  readonly s: number;
  /** revision: 1 at the sale, one more per transfer */
  readonly r: number;
  /** the holder's initials */
  readonly h: string;
  /** the last 4 digits of the holder's KTP */
  readonly k: string;
}

export interface PublishedKey {
  readonly kid: string;
  readonly kty: 'OKP';
  readonly crv: 'Ed25519';
  readonly alg: 'EdDSA';
  readonly use: 'sig';
  readonly x: string;
}

interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly published: PublishedKey;
}

const PREFIX = 'BX1';
/** A code is a few hundred characters; anything much longer is not one of ours. */
const MAX_CODE_LENGTH = 1024;
/** PKCS#8 DER header of an Ed25519 private key; the 32-byte seed follows. */
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** A key id of 8 base64url characters taken from the public key, so the same seed always has the same id. */
export function keyIdOf(seed: Buffer): string {
  const publicKey = createPublicKey(privateKeyOf(seed)).export({ format: 'der', type: 'spki' });
  return createHash('sha256').update(publicKey).digest('base64url').slice(0, 8);
}

function privateKeyOf(seed: Buffer): KeyObject {
  if (seed.length !== 32) throw new Error('an Ed25519 signing key is a 32-byte seed');
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' });
}

const invalid = (detail = 'this is not a boxoffice ticket, or it was altered'): DomainError => new DomainError('INVALID_TICKET', detail);

export class TicketCodes {
  readonly #keys: readonly SigningKey[];
  readonly #byKid: ReadonlyMap<string, SigningKey>;

  /** `seeds`: 32-byte Ed25519 seeds, the one that signs first. */
  constructor(seeds: readonly Buffer[]) {
    if (seeds.length === 0) throw new Error('at least one ticket signing key is needed');
    this.#keys = seeds.map((seed) => {
      const privateKey = privateKeyOf(seed);
      const publicKey = createPublicKey(privateKey);
      const kid = keyIdOf(seed);
      const { x } = publicKey.export({ format: 'jwk' });
      if (typeof x !== 'string') throw new Error('an Ed25519 public key exports its x');
      return { kid, privateKey, publicKey, published: { kid, kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig', x } };
    });
    this.#byKid = new Map(this.#keys.map((key) => [key.kid, key]));
  }

  /** The public keys a scanner checks codes with (JWK members, plus the key id). */
  publicKeys(): readonly PublishedKey[] {
    return this.#keys.map((key) => key.published);
  }

  sign(claims: TicketClaims): string {
    const key = this.#keys[0] as SigningKey;
    const payload = Buffer.from(JSON.stringify({ t: claims.t, c: claims.c, s: claims.s, r: claims.r, h: claims.h, k: claims.k, kid: key.kid })).toString('base64url');
    const signed = `${PREFIX}.${payload}`;
    return `${signed}.${sign(null, Buffer.from(signed, 'ascii'), key.privateKey).toString('base64url')}`;
  }

  /** The claims of a code signed by one of our keys; `INVALID_TICKET` for anything else. */
  verify(code: string): TicketClaims & { readonly kid: string } {
    if (code.length > MAX_CODE_LENGTH) throw invalid();
    const parts = code.split('.');
    const [prefix, payload, signature] = parts;
    if (parts.length !== 3 || prefix !== PREFIX || payload === undefined || signature === undefined || !BASE64URL.test(payload) || !BASE64URL.test(signature)) {
      throw invalid();
    }
    const signatureBytes = Buffer.from(signature, 'base64url');
    const payloadBytes = Buffer.from(payload, 'base64url');
    // Canonical base64url only: a last character whose unused bits differ would decode to the same bytes.
    if (signatureBytes.toString('base64url') !== signature || payloadBytes.toString('base64url') !== payload) throw invalid();
    let claims: unknown;
    try {
      claims = JSON.parse(payloadBytes.toString('utf8'));
    } catch {
      throw invalid();
    }
    if (!isClaims(claims)) throw invalid();
    const key = this.#byKid.get(claims.kid);
    if (key === undefined) throw invalid('this ticket was signed with a key that is no longer valid');
    if (!verify(null, Buffer.from(`${PREFIX}.${payload}`, 'ascii'), key.publicKey, signatureBytes)) throw invalid();
    return claims;
  }
}

function isClaims(value: unknown): value is TicketClaims & { kid: string } {
  if (typeof value !== 'object' || value === null) return false;
  const claims = value as Record<string, unknown>;
  return typeof claims.t === 'string' && isUuid(claims.t)
    && typeof claims.c === 'string' && isUuid(claims.c)
    && Number.isSafeInteger(claims.s) && (claims.s as number) >= 1
    && Number.isSafeInteger(claims.r) && (claims.r as number) >= 1
    && typeof claims.h === 'string' && claims.h.length <= 8
    && typeof claims.k === 'string' && /^[0-9]{4}$/.test(claims.k)
    && typeof claims.kid === 'string' && claims.kid.length <= 64;
}

/** The initials a code shows of a holder's name: the first letter of up to three of its words. */
export function initialsOf(fullName: string): string {
  return fullName.trim().split(/\s+/u).slice(0, 3).map((word) => [...word][0] ?? '').join('').toUpperCase();
}
