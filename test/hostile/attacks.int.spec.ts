/**
 * Attacks, on every route they apply to: forged, foreign, expired and revoked tokens; someone
 * else's objects by id (IDOR); rate limits dodged with a spoofed X-Forwarded-For; payment
 * webhooks forged or replayed. Each refused the documented way, and nothing appended.
 */
import { createHmac, randomUUID } from 'node:crypto';
import { createSigner } from 'fast-jwt';
import t from 'tap';
import { testApp } from '../support/app.ts';
import { adminToken, book, byClass, createConcert, customer, webhook, type Concert } from '../support/booking.ts';
import { bearer } from '../support/users.ts';

t.test('every authenticated route refuses forged, foreign, expired and revoked tokens', async (t) => {
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false' });
  const { app, services } = made;
  const admin = await adminToken(made);
  const concert = await createConcert(app, admin, [{ name: 'Festival', price: 500_000, total_seats_in_class: 10 }]);
  const fan = await customer(app);
  const booked = await book(app, fan.token, byClass(concert.id, (concert.ticket_classes[0] as Concert['ticket_classes'][number]).id, 1));
  const bookingId = booked.json<{ id: string }>().id;
  const secret = services.auth.secret;
  const sub = JSON.parse(Buffer.from(admin.split('.')[1] ?? '', 'base64url').toString()) as { sub: string };
  const now = Math.floor(Date.now() / 1000);
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const claims = { sub: sub.sub, role: 'admin', jti: randomUUID(), ev: true, iat: now, exp: now + 600 };
  const hmac = (header: unknown, body: unknown, algorithm = 'sha256') => {
    const signingInput = `${encode(header)}.${encode(body)}`;
    return `${signingInput}.${createHmac(algorithm, secret).update(signingInput).digest('base64url')}`;
  };
  const loggedOut = (await customer(app)).token;
  t.equal((await app.inject({ method: 'POST', url: '/api/v1/users/logout', headers: bearer(loggedOut) })).statusCode, 204);
  const attacks: Record<string, string> = {
    'a customer token made admin': `${fan.token.split('.')[0] ?? ''}.${encode({ ...claims, sub: 'x' })}.${fan.token.split('.')[2] ?? ''}`,
    'alg none': `${encode({ alg: 'none', typ: 'JWT' })}.${encode(claims)}.`,
    'alg NONE': `${encode({ alg: 'NONE', typ: 'JWT' })}.${encode(claims)}.`,
    'key confusion: RS256 header, HMAC with our key': hmac({ alg: 'RS256', typ: 'JWT' }, claims),
    'HS512 with our key': hmac({ alg: 'HS512', typ: 'JWT' }, claims, 'sha512'),
    'another key': createSigner({ key: 'x'.repeat(40), algorithm: 'HS256' })(claims),
    'expired': hmac({ alg: 'HS256', typ: 'JWT' }, { ...claims, iat: now - 3600, exp: now - 60 }),
    'not yet valid': hmac({ alg: 'HS256', typ: 'JWT' }, { ...claims, nbf: now + 3600 }),
    'revoked (signed out)': loggedOut,
    'empty': '',
    'three dots': '...',
  };
  const routes: { method: 'GET' | 'POST' | 'PUT' | 'DELETE'; url: string; payload?: Record<string, unknown> }[] = [
    { method: 'GET', url: '/api/v1/users/profile' },
    { method: 'PUT', url: '/api/v1/users/profile', payload: { current_password: 'whatever-it-is-1' } },
    { method: 'POST', url: '/api/v1/users/logout' },
    { method: 'POST', url: '/api/v1/users/verify-email/resend' },
    { method: 'POST', url: '/api/v1/bookings', payload: byClass(concert.id, randomUUID(), 1) },
    { method: 'PUT', url: `/api/v1/bookings/${bookingId}/cancel` },
    { method: 'POST', url: '/api/v1/payments', payload: { booking_id: bookingId, payment_method: 'e_wallet' } },
    { method: 'GET', url: '/api/v1/bookings/my' },
    { method: 'GET', url: `/api/v1/bookings/${bookingId}` },
    { method: 'GET', url: `/api/v1/payments/${randomUUID()}` },
    { method: 'GET', url: `/api/v1/admin/streams/concert-${concert.id}` },
    { method: 'POST', url: '/api/v1/admin/concerts', payload: { name: 'x', artist: 'x', date: '2099-01-01T00:00:00Z', venue: 'x', ticket_classes: [{ name: 'A', price: 1, total_seats_in_class: 1 }] } },
    { method: 'POST', url: `/api/v1/admin/concerts/${concert.id}/cancel` },
    { method: 'DELETE', url: `/api/v1/admin/users/${sub.sub}/personal-data` },
    { method: 'GET', url: '/api/v1/admin/projections' },
    { method: 'POST', url: '/api/v1/admin/projections/concerts/rebuild' },
  ];
  const head = await services.shared.store.headPosition();
  let refused = 0;
  for (const route of routes) {
    for (const [name, token] of Object.entries(attacks)) {
      const response = await app.inject({ ...route, headers: { authorization: `Bearer ${token}` } });
      t.equal(response.statusCode, 401, `${route.method} ${route.url}: ${name}`);
      refused++;
    }
    const anonymous = await app.inject(route);
    t.equal(anonymous.statusCode, 401, `${route.method} ${route.url}: no token`);
  }
  t.equal(await services.shared.store.headPosition(), head, `${refused} forged requests appended nothing`);
});

t.test('IDOR: every by-id route of another user answers 404 and changes nothing; customers get 403 on admin routes', async (t) => {
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false' });
  const { app, services } = made;
  services.projector.start();
  const admin = await adminToken(made);
  const concert = await createConcert(app, admin, [{ name: 'Festival', price: 500_000, total_seats_in_class: 10 }]);
  const classId = (concert.ticket_classes[0] as Concert['ticket_classes'][number]).id;
  const alice = await customer(app);
  const mallory = await customer(app);
  const booked = await book(app, alice.token, byClass(concert.id, classId, 2));
  const { id: bookingId } = booked.json<{ id: string }>();
  const paid = await app.inject({ method: 'POST', url: '/api/v1/payments', headers: bearer(alice.token), payload: { booking_id: bookingId, payment_method: 'e_wallet' } });
  const { id: paymentId, position } = paid.json<{ id: string; position: number }>();
  const head = await services.shared.store.headPosition();
  const asMallory = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: Record<string, unknown>) => app.inject({ method, url, headers: bearer(mallory.token), ...(payload === undefined ? {} : { payload }) });

  for (const [what, response] of [
    ['read the booking', await asMallory('GET', `/api/v1/bookings/${bookingId}?min_position=${position}`)],
    ['read the payment', await asMallory('GET', `/api/v1/payments/${paymentId}?min_position=${position}`)],
    ['cancel the booking', await asMallory('PUT', `/api/v1/bookings/${bookingId}/cancel`)],
    ['pay for the booking', await asMallory('POST', '/api/v1/payments', { booking_id: bookingId, payment_method: 'e_wallet' })],
  ] as const) {
    t.equal(response.statusCode, 404, `Mallory may not ${what}`);
    t.equal(response.json<{ code: string }>().code, 'NOT_FOUND', `${what}: as if it did not exist`);
  }
  const mine = await asMallory('GET', `/api/v1/bookings/my?min_position=${position}`);
  t.same(mine.json<{ items: unknown[] }>().items, [], "Mallory's list has none of Alice's");
  for (const [method, url] of [
    ['GET', `/api/v1/admin/streams/booking-${bookingId}`], ['GET', '/api/v1/admin/projections'], ['POST', `/api/v1/admin/concerts/${concert.id}/cancel`],
    ['DELETE', `/api/v1/admin/users/${alice.id}/personal-data`], ['POST', '/api/v1/admin/projections/bookings/rebuild'],
  ] as const) {
    const response = await asMallory(method, url);
    t.equal(response.statusCode, 403, `a customer on ${method} ${url}`);
  }
  t.equal(await services.shared.store.headPosition(), head, 'nothing appended');
  const own = await app.inject({ method: 'GET', url: `/api/v1/bookings/${bookingId}`, headers: bearer(alice.token) });
  t.equal(own.json<{ status: string }>().status, 'pending', "Alice's booking untouched");
});

t.test('booking rate limits hold against a spoofed X-Forwarded-For (no trusted proxy configured)', async (t) => {
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false', RATE_LIMIT: 'on', BOOKING_LIMIT_PER_MINUTE: '2', BOOKING_IP_LIMIT_PER_MINUTE: '4', REGISTER_LIMIT_PER_HOUR: '1000' });
  const { app } = made;
  const admin = await adminToken(made);
  const concert = await createConcert(app, admin, [{ name: 'Festival', price: 500_000, total_seats_in_class: 50 }]);
  const classId = (concert.ticket_classes[0] as Concert['ticket_classes'][number]).id;
  const post = (token: string, forwardedFor: string) => app.inject({
    method: 'POST', url: '/api/v1/bookings', headers: { ...bearer(token), 'x-forwarded-for': forwardedFor }, payload: byClass(concert.id, classId, 1),
  });
  const one = await customer(app);
  const perAccount = [await post(one.token, '10.0.0.1'), await post(one.token, '10.0.0.2'), await post(one.token, '10.0.0.3')];
  t.equal(perAccount[2]?.statusCode, 429, 'the third booking attempt of one account in a minute, from a "new" address each time');
  t.equal(perAccount[2]?.json<{ code: string }>().code, 'RATE_LIMITED');
  const others = await Promise.all(Array.from({ length: 3 }, () => customer(app)));
  const perAddress = [];
  for (const [i, other] of others.entries()) perAddress.push(await post(other.token, `192.168.${i}.${i}`));
  t.equal(perAddress.at(-1)?.statusCode, 429, 'the fifth booking attempt from one address, whatever X-Forwarded-For says');
  t.ok(Number(perAddress.at(-1)?.headers['retry-after']) > 0, 'with Retry-After');
});

t.test('payment webhooks: forged ones are refused, a replay changes nothing', async (t) => {
  const made = await testApp(t, { REQUIRE_EMAIL_VERIFICATION: 'false' });
  const { app, services } = made;
  const admin = await adminToken(made);
  const concert = await createConcert(app, admin, [{ name: 'Festival', price: 500_000, total_seats_in_class: 10 }]);
  const fan = await customer(app);
  const booked = await book(app, fan.token, byClass(concert.id, (concert.ticket_classes[0] as Concert['ticket_classes'][number]).id, 2));
  const paid = await app.inject({ method: 'POST', url: '/api/v1/payments', headers: bearer(fan.token), payload: { booking_id: booked.json<{ id: string }>().id, payment_method: 'e_wallet' } });
  const { transaction_id: transactionId, amount } = paid.json<{ transaction_id: string; amount: number }>();
  const body = { transaction_id: transactionId, status: 'succeeded', amount };
  const raw = JSON.stringify(body);
  const sign = (key: string, text: string, algorithm = 'sha256') => `${algorithm}=${createHmac(algorithm, key).update(text).digest('hex')}`;
  const secret = services.command.api.webhookSecret;
  const head = await services.shared.store.headPosition();
  const forgeries: Record<string, string | undefined> = {
    'no signature': undefined,
    'another key': sign('not-the-webhook-secret', raw),
    'signed for another body': sign(secret, JSON.stringify({ ...body, amount: 1 })),
    'sha1': sign(secret, raw, 'sha1'),
    'bare hex, no scheme': createHmac('sha256', secret).update(raw).digest('hex'),
    'truncated': sign(secret, raw).slice(0, 40),
    'empty': '',
  };
  for (const [name, signature] of Object.entries(forgeries)) {
    const response = await app.inject({
      method: 'POST', url: '/api/v1/payments/webhook', payload: raw,
      headers: { 'content-type': 'application/json', ...(signature === undefined ? {} : { 'x-signature': signature }) },
    });
    t.equal(response.statusCode, 401, name);
  }
  t.equal(await services.shared.store.headPosition(), head, 'no forged webhook appended anything');
  t.equal((await webhook(app, secret, body)).statusCode, 200, 'the real one');
  const settled = await services.shared.store.headPosition();
  t.ok(settled > head, 'and it was recorded');
  for (let i = 0; i < 3; i++) t.equal((await webhook(app, secret, body)).statusCode, 200, 'a replay answers 200');
  t.equal(await services.shared.store.headPosition(), settled, 'replays append nothing');
  const flipped = await webhook(app, secret, { ...body, status: 'failed' });
  t.ok(flipped.statusCode === 200 || flipped.statusCode === 409, 'a contradicting notice for a settled payment is not applied');
  t.equal(await services.shared.store.headPosition(), settled, 'and changes nothing');
});
