/**
 * A snapshot as the stores keep it: its JSON, gzipped and in base64 (marked `gz:`) once it is
 * big, since a long sale's concert snapshot runs to megabytes; compression runs on the libuv
 * pool, off the event loop. A text too long for what the store takes in one go (a statement on
 * MySQL, an append on EventStoreDB) is kept in pieces, each store its own way.
 */
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

const COMPRESS_FROM_BYTES = 64 * 1024;
const GZIPPED = 'gz:';

export async function packSnapshot(json: string): Promise<string> {
  if (json.length < COMPRESS_FROM_BYTES) return json;
  return GZIPPED + (await gzipAsync(json)).toString('base64');
}

export async function unpackSnapshot(text: string): Promise<string> {
  return text.startsWith(GZIPPED) ? (await gunzipAsync(Buffer.from(text.slice(GZIPPED.length), 'base64'))).toString('utf8') : text;
}

/** The stored text in pieces of `size`. It is gzip's base64 (a text this long is always compressed), ASCII: no character is cut in two. */
export function piecesOf(packed: string, size: number): string[] {
  const pieces: string[] = [];
  for (let at = 0; at < packed.length; at += size) pieces.push(packed.slice(at, at + size));
  return pieces;
}
