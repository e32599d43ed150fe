/**
 * The README's journey, over HTTP against `npm start` in a fresh data dir: register, verify the
 * address from the outbox, sign in, find the demo concert, book, pay at the sandbox checkout, see
 * the booking confirmed, its tickets, the door (scan, scan again, transfer, the old code refused,
 * the new one admitted); then a restart, and everything is still there.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { freePort } from '../harness/servers.ts';
import { eventually } from '../support/eventually.ts';
import { startNpmStart } from '../support/process.ts';

interface Concert { id: string; name: string; ticket_classes: { id: string; name: string; available_seats_in_class: number }[] }
interface Booking { id: string; status: string; total_price: number; seats: { id: string }[]; position: number }
interface Ticket { id: string; status: string; revision: number; holder_name: string; qr: string }

t.test('npm start: the README journey, and the same data after a restart', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'boxoffice-journey-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = { PORT: String(port), BOXOFFICE_DATA_DIR: dataDir, BOXOFFICE_ADMIN_PASSWORD: 'Journey-Admin-Pass-1', ARGON2_MEMORY_KIB: '8192' };
  let token = '';
  const call = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(token === '' ? {} : { authorization: `Bearer ${token}` }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : text) as T };
  };

  const first = startNpmStart(env);
  t.teardown(() => first.signal('SIGKILL'));
  await first.listening();
  const demoUrl = /demo: +(\S+)/.exec(first.output())?.[1];
  t.ok(demoUrl, `prints the demo concert's URL:\n${first.output()}`);

  t.equal((await call('POST', '/api/v1/users/register', { username: 'rina', email: 'rina@example.com', password: 'Senja-di-Istora-2026' })).status, 201);
  const mail = await eventually(async () => {
    const text = await readFile(join(dataDir, 'mail-outbox.jsonl'), 'utf8').catch(() => '');
    const lines = text.slice(0, text.lastIndexOf('\n') + 1).split('\n').filter(Boolean); // complete lines only
    return lines.map((line) => JSON.parse(line) as { to: string; text: string }).find((m) => m.to === 'rina@example.com');
  }, 'the verification mail');
  const link = new URL(/http\S+/.exec(mail.text)?.[0] ?? '');
  t.equal((await call('GET', `${link.pathname}${link.search}`)).status, 200, 'the link verifies');
  const login = await call<{ access_token: string }>('POST', '/api/v1/users/login', { username: 'rina', password: 'Senja-di-Istora-2026' });
  t.equal(login.status, 200);
  token = login.body.access_token;

  const concerts = await eventually(async () => {
    const list = await call<{ items: Concert[] }>('GET', '/api/v1/concerts');
    return list.body.items.length > 0 ? list.body.items : undefined;
  }, 'the demo concert projected');
  const demo = concerts[0] as Concert;
  t.equal(`${base.replace('127.0.0.1', 'localhost')}/api/v1/concerts/${demo.id}`, demoUrl?.replace('127.0.0.1', 'localhost'));
  const vip = demo.ticket_classes.find((c) => c.name === 'VIP');
  t.equal(vip?.available_seats_in_class, 100);

  const booked = await call<Booking>('POST', '/api/v1/bookings', {
    concert_id: demo.id,
    tickets_by_class: [{ ticket_class_id: vip?.id, quantity: 2 }],
    buyer_info: { full_name: 'Rina Lestari', phone_number: '081234567890', email: 'rina@example.com', ktp_number: '3171234567890123' },
  });
  t.equal(booked.status, 201);
  t.equal(booked.body.status, 'pending');
  t.equal(booked.body.total_price, 5_000_000);
  const payment = await call<{ id: string; amount: number; checkout_url: string }>('POST', '/api/v1/payments', { booking_id: booked.body.id, payment_method: 'virtual_account' });
  t.equal(payment.status, 201);
  t.equal(payment.body.amount, 5_000_000);
  const checkout = new URL(payment.body.checkout_url);
  t.equal((await call('GET', checkout.pathname)).status, 200, 'the sandbox checkout page');
  t.equal((await call('POST', `${checkout.pathname}/pay`)).status, 200, 'Pay');
  const confirmed = await eventually(async () => {
    const shown = await call<Booking>('GET', `/api/v1/bookings/${booked.body.id}`);
    return shown.body.status === 'confirmed' ? shown.body : undefined;
  }, 'the booking confirmed');
  t.equal(confirmed.seats.length, 2);

  // Tickets, and the door: scan, scan again, transfer, the old code refused and the new one let in.
  const tickets = await eventually(async () => {
    const listed = await call<Ticket[]>('GET', `/api/v1/bookings/${booked.body.id}/tickets`);
    return listed.status === 200 && listed.body.length === 2 ? listed : undefined;
  }, 'the tickets projected');
  t.equal(tickets.body.length, 2, 'one ticket per seat');
  const [kept, given] = tickets.body as [Ticket, Ticket];
  t.match(kept, { status: 'valid', revision: 1, holder_name: 'Rina Lestari', holder_ktp_last4: '0123', qr: /^BX1\./ });
  const buyerToken = token;
  token = (await call<{ access_token: string }>('POST', '/api/v1/users/login', { username: 'admin', password: 'Journey-Admin-Pass-1' })).body.access_token;
  const admitted = await call<{ result: string }>('POST', '/api/v1/checkin', { qr: kept.qr, gate: 'north-1' });
  t.equal(admitted.status, 200);
  t.equal(admitted.body.result, 'admitted');
  const rescan = await call<{ code: string; gate: string; admitted_at: string }>('POST', '/api/v1/checkin', { qr: kept.qr, gate: 'south-2' });
  t.equal(rescan.status, 409);
  t.match(rescan.body, { code: 'ALREADY_ADMITTED', gate: 'north-1', admitted_at: /^20/ });
  token = buyerToken;
  const moved = await call<Ticket>('POST', `/api/v1/tickets/${given.id}/transfer`, { full_name: 'Dewi Lestari', ktp_number: '3171234567890456' });
  t.equal(moved.status, 200, JSON.stringify(moved.body));
  t.match(moved.body, { id: given.id, revision: 2, holder_name: 'Dewi Lestari', qr: /^BX1\./ });
  token = (await call<{ access_token: string }>('POST', '/api/v1/users/login', { username: 'admin', password: 'Journey-Admin-Pass-1' })).body.access_token;
  t.equal((await call<{ code: string }>('POST', '/api/v1/checkin', { qr: given.qr })).body.code, 'TICKET_SUPERSEDED', 'the old code of a transferred ticket');
  t.equal((await call('POST', '/api/v1/checkin', { qr: moved.body.qr })).status, 200, 'the new one gets in');
  token = buyerToken;

  first.signal('SIGTERM');
  await first.closed;
  t.match(first.output(), /"msg":"shutting down"/, 'a graceful stop');
  t.match(first.output(), /"clean":true,"msg":"stopped"/, 'that ran to its end');
  t.notMatch(first.output(), /failed/);

  const second = startNpmStart(env);
  t.teardown(() => second.signal('SIGKILL'));
  await second.listening();
  const again = await call<{ access_token: string }>('POST', '/api/v1/users/login', { username: 'rina', password: 'Senja-di-Istora-2026' });
  t.equal(again.status, 200, 'the account survived');
  token = again.body.access_token;
  const after = await call<Booking>('GET', `/api/v1/bookings/${booked.body.id}`);
  t.equal(after.status, 200);
  t.equal(after.body.status, 'confirmed', 'and the booking, confirmed');
  t.same(after.body.seats.map((seat) => seat.id), confirmed.seats.map((seat) => seat.id));
  const mine = await call<{ items: { id: string }[] }>('GET', '/api/v1/bookings/my');
  t.same(mine.body.items.map((b) => b.id), [booked.body.id]);
  const detail = await call<Concert>('GET', `/api/v1/concerts/${demo.id}`);
  t.equal(detail.body.ticket_classes.find((c) => c.name === 'VIP')?.available_seats_in_class, 98, 'two VIP seats sold');
  const concertsAfter = await call<{ items: Concert[] }>('GET', '/api/v1/concerts');
  t.equal(concertsAfter.body.items.length, 1, 'the demo concert seeded once, not again at the restart');
  second.signal('SIGTERM');
  await second.closed;
});
