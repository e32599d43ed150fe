import { readFileSync } from 'node:fs';
import t from 'tap';
import { configTable, README, TABLE_END, TABLE_START, withConfigTable } from './config-docs.ts';
import { declaredVariables } from './config-schema.ts';
import { SETTINGS } from './config.ts';

t.test("README.md's configuration table is the one the declarations render (npm run docs:config rewrites it)", async (t) => {
  const readme = readFileSync(README, 'utf8');
  const start = readme.indexOf(TABLE_START);
  const end = readme.indexOf(TABLE_END);
  t.ok(start !== -1 && end > start, 'README.md has the markers');
  t.equal(readme.slice(start + TABLE_START.length, end).trim(), configTable(), 'README.md is up to date: run npm run docs:config');
});

t.test('the table has one row per declared variable, with its default', async (t) => {
  const rows = configTable().split('\n').slice(2);
  const variables = [...declaredVariables(SETTINGS)].map(({ setting }) => setting.variable);
  t.strictSame(rows.map((row) => /^\| `([A-Z0-9_]+)` \|/.exec(row)?.[1]), variables);
  t.match(rows.find((row) => row.startsWith('| `PORT` |')), /\| `3000` \|$/);
  t.match(rows.find((row) => row.startsWith('| `PUBLIC_URL` |')), /\| `http:\/\/localhost:PORT` \|$/);
  t.match(rows.find((row) => row.startsWith('| `CAPTCHA_SECRET` |')), /set together with `CAPTCHA_VERIFY_URL`/);
  t.match(rows.find((row) => row.startsWith('| `MAIL_FROM` |')), /sender address like "boxoffice \\<no-reply@example.com\\>"/, 'angle brackets do not turn into a link');
});

t.test('the table replaces what is between the markers, and only that', async (t) => {
  const readme = `# x\n\nbefore\n${TABLE_START}\n| old | table |\n${TABLE_END}\nafter\n`;
  const updated = withConfigTable(readme, '| new |');
  t.equal(updated, `# x\n\nbefore\n${TABLE_START}\n| new |\n${TABLE_END}\nafter\n`);
  t.equal(withConfigTable(updated, '| new |'), updated, 'rendering twice changes nothing');
  t.throws(() => withConfigTable('# no markers\n'), /no <!-- config:start -->/);
});
