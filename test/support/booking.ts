/** Concerts, bookings and payments for HTTP tests. */
import { randomBytes } from 'node:crypto';
import { signWebhook } from '../../command-api/payments/gateway.ts';
import type { HttpServer } from '../../lib/http/server-kit.ts';
import type { TestApp } from './app.ts';
import { bearer, login, register, secret } from './users.ts';

export interface Concert {
  readonly id: string;
  readonly ticket_classes: { id: string; name: string; price: number; total_seats_in_class: number }[];
  readonly position: number;
}

export async function adminToken(made: TestApp): Promise<string> {
  const password = secret('Test-Admin-Pass-2026');
  await made.services.command.api.users.ensureAdmin(password, 'ops@example.test');
  return login(made.app, { username: 'admin', password });
}

export async function createConcert(
  app: HttpServer,
  token: string,
  classes: { name: string; price: number; total_seats_in_class: number }[] = [{ name: 'Festival', price: 750_000, total_seats_in_class: 100 }],
  extra: Record<string, unknown> = {},
): Promise<Concert> {
  const response = await app.inject({
    method: 'POST',
    url: '/api/v1/admin/concerts',
    headers: bearer(token),
    payload: { name: 'Senandung Senja', artist: 'Nadin Amizah', date: '2099-02-14T12:00:00.000Z', venue: 'Istora Senayan', ticket_classes: classes, ...extra },
  });
  if (response.statusCode !== 201) throw new Error(`concert answered ${response.statusCode}: ${response.body}`);
  return response.json<Concert>();
}

/** A 16-digit KTP number nobody else in the run has. */
export const ktp = (): string => secret(`32${BigInt(`0x${randomBytes(7).toString('hex')}`).toString().padStart(14, '0').slice(-14)}`);

export function buyer(overrides: Record<string, string> = {}) {
  return {
    full_name: secret(`Rina ${randomBytes(3).toString('hex')}`),
    phone_number: secret(`0812${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`),
    email: secret(`buyer.${randomBytes(3).toString('hex')}@example.test`),
    ktp_number: ktp(),
    ...overrides,
  };
}

export function byClass(concertId: string, ticketClassId: string, quantity: number, extra: Record<string, unknown> = {}) {
  return { concert_id: concertId, tickets_by_class: [{ ticket_class_id: ticketClassId, quantity }], buyer_info: buyer(), ...extra };
}

export function bySeat(concertId: string, seatIds: string[], extra: Record<string, unknown> = {}) {
  return { concert_id: concertId, seat_ids: seatIds, buyer_info: buyer(), ...extra };
}

/** A signed-in customer (verification not needed when REQUIRE_EMAIL_VERIFICATION=false). */
export async function customer(app: HttpServer): Promise<{ id: string; token: string }> {
  const account = await register(app);
  return { id: account.id, token: await login(app, account) };
}

export async function book(app: HttpServer, token: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return app.inject({ method: 'POST', url: '/api/v1/bookings', headers: { ...bearer(token), ...headers }, payload: body });
}

export async function webhook(app: HttpServer, webhookSecret: string, body: Record<string, unknown>, signature?: string) {
  const raw = JSON.stringify(body);
  return app.inject({
    method: 'POST',
    url: '/api/v1/payments/webhook',
    headers: { 'content-type': 'application/json', 'x-signature': signature ?? signWebhook(webhookSecret, raw) },
    payload: raw,
  });
}
