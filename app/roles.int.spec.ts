import { randomUUID } from 'node:crypto';
import t from 'tap';
import { roleApp } from '../test/support/app.ts';

const read = `/api/v1/concerts/${randomUUID()}/availability`;
const command = { method: 'POST' as const, url: '/api/v1/users/register', payload: {} };

t.test('a command process serves the command routes only, a query process the read routes only', async (t) => {
  const commandSide = await roleApp(t, { BOXOFFICE_ROLE: 'command' });
  t.equal((await commandSide.app.inject(command)).statusCode, 400, 'commands are served (and validated)');
  t.equal((await commandSide.app.inject({ method: 'GET', url: read })).statusCode, 404, 'reads are not');
  t.ok(commandSide.wired.command, 'the command role is wired');
  t.equal(commandSide.wired.query, undefined, 'the command process wires no query side');
  t.equal(commandSide.wired.projector, undefined, 'nor the projections');
  t.strictSame(Object.keys(commandSide.wired.readiness), ['event store', 'payments'], 'it is ready when the event store answers: it opens no read model (and says the sandbox simulates payments)');

  const querySide = await roleApp(t, { BOXOFFICE_ROLE: 'query' });
  t.equal((await querySide.app.inject(command)).statusCode, 404, 'commands are not served');
  const answer = await querySide.app.inject({ method: 'GET', url: read });
  t.equal(answer.statusCode, 404);
  t.equal(answer.json<{ code: string }>().code, 'NOT_FOUND');
  t.match(answer.json<{ detail: string }>().detail, /no such concert/, 'the read route answered, about the concert');
  t.ok(querySide.wired.query, 'the query role is wired');
  t.equal(querySide.wired.command, undefined, 'the query process opens no concert writer, no reactor');
  t.equal(querySide.wired.projector, undefined, 'and runs no projection');
  t.strictSame(Object.keys(querySide.wired.readiness), ['read models'], 'it is ready when the read models answer');

  for (const made of [commandSide, querySide]) t.equal((await made.app.inject({ method: 'GET', url: '/health/live' })).statusCode, 200);
});
