/**
 * The layer rules are enforced, not just written down: the project's own dependency-cruiser
 * configuration must flag every deliberate violation in test/fixtures/layers, and the domain
 * must stay free of clocks, randomness and the environment.
 */
import { execFile } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';

const root = join(import.meta.dirname, '..');
const fixture = join(root, 'test', 'fixtures', 'layers');

t.test('dependency-cruiser flags each deliberate layer violation, and nothing else', async (t) => {
  let stdout: string;
  let exitCode = 0;
  try {
    ({ stdout } = await promisify(execFile)(
      join(root, 'node_modules', '.bin', 'depcruise'),
      ['--config', join(root, '.dependency-cruiser.cjs'), 'app', 'domain', 'eventstore', 'lib', 'projectors', 'query-api', 'command-api', 'legacy-api', 'read-models', 'test'],
      { cwd: fixture, maxBuffer: 16 * 1024 * 1024 },
    ));
  } catch (error) {
    const failed = error as { code: number; stdout: string };
    exitCode = failed.code;
    stdout = failed.stdout;
  }
  t.not(exitCode, 0, 'depcruise exits non-zero, so npm test fails');
  // The reporter npm test uses prints "  error <rule>: <from> → <to>" per violation.
  const found = [...stdout.matchAll(/^\s*error ([\w-]+): (\S+) →/gm)].map((m) => `${m[1]}: ${m[2]}`).sort();
  t.strictSame(found, [
    'apis-not-projectors: query-api/reads-projector.ts',
    'command-api-not-query-api: command-api/peeks.ts',
    'domain-is-pure: domain/reads-files.ts',
    'domain-is-pure: domain/uses-store.ts',
    'domain-specs-stay-pure: domain/helper.unit.spec.ts',
    'esdb-driver-only-in-its-adapter: eventstore/port.ts',
    'eventstore-imports-no-role: eventstore/imports-read-model.ts',
    'kernel-imports-no-role: lib/imports-role.ts',
    'legacy-api-only-from-app: command-api/uses-legacy.ts',
    'no-raw-sql-driver: lib/raw-driver.ts',
    'only-entry-points-import-app: command-api/wires-itself.ts',
    'production-code-not-tests: lib/uses-tests.ts',
    'projectors-not-apis: projectors/uses-api.ts',
    'query-api-not-command-api: query-api/reads.ts',
    'read-models-import-no-role: read-models/imports-role.ts',
    'sql-driver-only-in-its-adapter: eventstore/port.ts',
  ]);
});

async function* sourceFiles(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sourceFiles(path);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) yield path;
  }
}

t.test('the domain reads no clock, draws no random numbers and reads no environment', async (t) => {
  // The same check as `grep -rE "Date\.now|new Date\(\)|randomUUID|Math\.random|process\.env" domain/`.
  const impure = /Date\.now|new Date\(\)|randomUUID|Math\.random|process\.env/;
  const offenders: string[] = [];
  let files = 0;
  for await (const file of sourceFiles(join(root, 'domain'))) {
    files++;
    const lines = (await readFile(file, 'utf8')).split('\n');
    lines.forEach((line, i) => {
      if (impure.test(line)) offenders.push(`${relative(root, file)}:${i + 1}: ${line.trim()}`);
    });
  }
  t.ok(files > 20, `${files} domain files read`);
  t.strictSame(offenders, []);
});
