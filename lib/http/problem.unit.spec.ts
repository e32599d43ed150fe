import t from 'tap';
import { DOMAIN_ERROR_CODES, DomainError } from '../../domain/index.ts';
import { APP_ERROR_CODES, AppError, isRefusal, notFound, unauthorized } from '../errors.ts';
import { statusOf } from './problem.ts';
import { kitServer } from '../../test/support/http-server.ts';

t.test('every code of both vocabularies has an HTTP status', async (t) => {
  const codes = [...DOMAIN_ERROR_CODES, ...APP_ERROR_CODES];
  t.equal(new Set(codes).size, codes.length, 'no code is in both vocabularies');
  for (const code of codes) {
    const status = statusOf(code);
    t.ok(Number.isInteger(status) && status >= 400 && status <= 599, `${code} -> ${status}`);
  }
});

t.test('isRefusal: one predicate over domain and application codes', async (t) => {
  const soldOut = new DomainError('SOLD_OUT', 'none left');
  const overloaded = new AppError('OVERLOADED', 'busy');
  t.ok(isRefusal(soldOut, 'SOLD_OUT'));
  t.ok(isRefusal(soldOut, 'OVERLOADED', 'SOLD_OUT'), 'any of the codes');
  t.notOk(isRefusal(soldOut, 'SEAT_UNAVAILABLE'));
  t.ok(isRefusal(overloaded, 'OVERLOADED'));
  t.notOk(isRefusal(overloaded, 'NOT_FOUND'));
  t.ok(isRefusal(soldOut) && isRefusal(overloaded), 'no code named: any refusal');
  const driverError = Object.assign(new Error('deadlock'), { code: 'SOLD_OUT' });
  t.notOk(isRefusal(driverError), 'an error that merely has a code is no refusal');
  t.notOk(isRefusal(driverError, 'SOLD_OUT'));
  t.notOk(isRefusal(undefined));
});

t.test('a refusal thrown in a route leaves as problem+json with the status, code and headers of its code', async (t) => {
  const app = await kitServer(t);
  const thrown: Record<string, () => Error> = {
    overloaded: () => new AppError('OVERLOADED', 'this concert is busy'),
    locked: () => new AppError('ACCOUNT_LOCKED', 'too many failed sign-ins', { retryAfterSeconds: 42 }),
    unauthorized: () => unauthorized('sign in'),
    missing: () => notFound('no such thing'),
    reused: () => new AppError('IDEMPOTENCY_KEY_REUSED', 'another request'),
    'sold-out': () => new DomainError('SOLD_OUT', 'none left'),
  };
  app.get('/throw/:what', async (request) => {
    const { what } = request.params as { what: string };
    throw (thrown[what] ?? (() => new Error('unknown case')))();
  });
  await app.ready();
  const problem = async (what: string) => {
    const response = await app.inject({ method: 'GET', url: `/throw/${what}` });
    t.match(response.headers['content-type'], /^application\/problem\+json/, `${what}: problem+json`);
    const body = response.json<{ status: number; code: string; detail: string; error: string; type: string }>();
    t.equal(body.status, response.statusCode, `${what}: the body repeats the status`);
    return { status: response.statusCode, headers: response.headers, body };
  };

  const overloaded = await problem('overloaded');
  t.equal(overloaded.status, 503);
  t.equal(overloaded.body.code, 'OVERLOADED');
  t.equal(overloaded.headers['retry-after'], '1', 'OVERLOADED carries Retry-After without the thrower naming it');
  t.equal(overloaded.body.type, 'urn:boxoffice:problem:overloaded');

  const locked = await problem('locked');
  t.equal(locked.status, 429);
  t.equal(locked.body.code, 'ACCOUNT_LOCKED');
  t.equal(locked.headers['retry-after'], '42', 'the error\'s own retryAfterSeconds');

  const denied = await problem('unauthorized');
  t.equal(denied.status, 401);
  t.equal(denied.body.code, 'UNAUTHORIZED');
  t.equal(denied.headers['www-authenticate'], 'Bearer');
  t.equal(denied.body.detail, 'sign in');
  t.equal(denied.body.error, 'sign in');

  const missing = await problem('missing');
  t.equal(missing.status, 404);
  t.equal(missing.body.code, 'NOT_FOUND');
  t.equal(missing.headers['retry-after'], undefined);
  t.equal(missing.headers['www-authenticate'], undefined);

  const reused = await problem('reused');
  t.equal(reused.status, 422);
  t.equal(reused.body.code, 'IDEMPOTENCY_KEY_REUSED');

  const soldOut = await problem('sold-out');
  t.equal(soldOut.status, 409);
  t.equal(soldOut.body.code, 'SOLD_OUT');
  t.equal(soldOut.body.detail, 'none left');

  const crashed = await problem('crash');
  t.equal(crashed.status, 500);
  t.equal(crashed.body.code, 'INTERNAL_ERROR');
  t.notMatch(crashed.body.detail, /unknown case/, 'a 500 sends nothing of its cause');
});
