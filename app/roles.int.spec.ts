import { randomUUID } from 'node:crypto';
import t from 'tap';
import { testApp } from '../test/support/app.ts';

const read = `/api/v1/concerts/${randomUUID()}/availability`;
const command = { method: 'POST' as const, url: '/api/v1/users/register', payload: {} };

t.test('a command process serves the command routes only, a query process the read routes only', async (t) => {
  const commandSide = await testApp(t, { BOXOFFICE_ROLE: 'command' });
  t.equal((await commandSide.app.inject(command)).statusCode, 400, 'commands are served (and validated)');
  t.equal((await commandSide.app.inject({ method: 'GET', url: read })).statusCode, 404, 'reads are not');

  const querySide = await testApp(t, { BOXOFFICE_ROLE: 'query' });
  t.equal((await querySide.app.inject(command)).statusCode, 404, 'commands are not served');
  const answer = await querySide.app.inject({ method: 'GET', url: read });
  t.equal(answer.statusCode, 404);
  t.equal(answer.json<{ code: string }>().code, 'NOT_FOUND');
  t.match(answer.json<{ detail: string }>().detail, /no such concert/, 'the read route answered, about the concert');

  for (const made of [commandSide, querySide]) t.equal((await made.app.inject({ method: 'GET', url: '/health/live' })).statusCode, 200);
});
