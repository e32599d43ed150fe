/**
 * The read side's contract stays in one place: read-models/checkpoints.ts is the only code that
 * touches projection_checkpoints (migrations/ creates it), and read-models/tables.ts declares the
 * row type of every read-model table, column for column with the migrations, and nobody else
 * declares one of its own.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import t from 'tap';

const root = join(import.meta.dirname, '..');

/** The row type of each table the read-model migrations create. */
const ROW_TYPES: Readonly<Record<string, string>> = {
  projection_checkpoints: 'ProjectionCheckpointRow',
  users: 'UserRow',
  concerts: 'ConcertRow',
  ticket_classes: 'TicketClassRow',
  seats: 'SeatRow',
  bookings: 'BookingRow',
  booking_seats: 'BookingSeatRow',
  buyers: 'BuyerRow',
  ticket_holders: 'TicketHolderRow',
  payments: 'PaymentRow',
  tickets: 'TicketRow',
  ticket_holds: 'TicketHoldRow',
  ticket_admissions: 'TicketAdmissionRow',
  legacy_ids: 'LegacyIdRow',
  legacy_seat_ranges: 'LegacySeatRangeRow',
  legacy_id_high: 'LegacyIdHighRow',
  legacy_id_refusals: 'LegacyIdRefusalRow',
};

interface SourceFile {
  /** Relative to the repository, with `/` separators. */
  readonly path: string;
  readonly text: string;
}

const CODE = /\.(ts|mts|cts|js|mjs|cjs)$/;
const NOT_SOURCE = new Set(['node_modules', 'dist', 'data', 'coverage']);

async function* codeFiles(dir: string): AsyncGenerator<string> {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || NOT_SOURCE.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* codeFiles(path);
    else if (CODE.test(entry.name)) yield path;
  }
}

async function readSourceTree(): Promise<SourceFile[]> {
  const files: SourceFile[] = [];
  for await (const path of codeFiles(root)) files.push({ path: relative(root, path).split(sep).join('/'), text: await readFile(path, 'utf8') });
  return files;
}

let tree: Promise<SourceFile[]> | undefined;
const sourceTree = (): Promise<SourceFile[]> => (tree ??= readSourceTree());

const inReadModels = (path: string): boolean => path.startsWith('read-models/');

/** Files outside read-models/ and migrations/ that name the checkpoint table. */
export function checkpointTableOutsiders(files: readonly SourceFile[]): string[] {
  return files.filter((file) => !inReadModels(file.path) && !file.path.startsWith('migrations/') && file.text.includes('projection_checkpoints'))
    .map((file) => file.path);
}

/** `path: Name` for every interface, type alias or class named like a read-model row, declared where it should not be. */
export function rowTypesDeclaredOutside(files: readonly SourceFile[]): string[] {
  const names = new Set(Object.values(ROW_TYPES));
  return files.filter((file) => !inReadModels(file.path)).flatMap((file) =>
    [...file.text.matchAll(/\b(?:interface|type|class)\s+([A-Za-z_$][\w$]*)/g)]
      .map((match) => match[1] ?? '').filter((name) => names.has(name)).map((name) => `${file.path}: ${name}`));
}

/** The knex column builders the migrations use: `table.<type>('column', …)` adds a column. */
const COLUMN_TYPES = new Set([
  'string', 'text', 'integer', 'bigInteger', 'tinyint', 'smallint', 'mediumint', 'boolean', 'float', 'double', 'decimal',
  'date', 'datetime', 'timestamp', 'json', 'jsonb', 'uuid', 'binary', 'increments', 'bigIncrements', 'enu', 'enum', 'specificType',
]);

/**
 * Applies the `up` of one migration's text to `tables` (table → its columns): createTable
 * starts a table, alterTable adds (or dropColumn drops) columns. A call this parse does not know
 * (`table.renameColumn('a', …)`, `table.index('a')` …) is returned, for the spec to refuse
 * rather than to guess; index/unique/primary over arrays name no column and are skipped.
 */
export function applyMigration(text: string, tables: Map<string, string[]>): string[] {
  const down = text.search(/\bdown\s*\(\s*\w*\s*\)\s*\{/);
  const up = down === -1 ? text : text.slice(0, down);
  const unknown: string[] = [];
  for (const part of up.split(/(?=\b(?:createTable|alterTable)\(\s*')/)) {
    const head = /^(createTable|alterTable)\(\s*'(\w+)'/.exec(part);
    if (head === null) continue;
    const [, how, table = ''] = head;
    const columns = how === 'createTable' ? [] : [...(tables.get(table) ?? [])];
    for (const [, method = '', column = ''] of part.matchAll(/\btable\.(\w+)\(\s*'(\w+)'/g)) {
      if (COLUMN_TYPES.has(method)) columns.push(column);
      else if (method === 'dropColumn' && columns.includes(column)) columns.splice(columns.indexOf(column), 1);
      else unknown.push(`${table}: table.${method}('${column}')`);
    }
    tables.set(table, columns);
  }
  return unknown;
}

/** Field names of `interface name { … }` in a file's text, or undefined when it is not declared there. */
export function interfaceFields(text: string, name: string): string[] | undefined {
  const body = new RegExp(`\\binterface\\s+${name}\\s*\\{([^}]*)\\}`).exec(text)?.[1];
  if (body === undefined) return undefined;
  const withoutComments = body.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  return [...withoutComments.matchAll(/^\s*(?:readonly\s+)?(\w+)\??\s*:/gm)].map((match) => match[1] ?? '');
}

t.test('the checks catch what they are for', async (t) => {
  const files = [
    { path: 'read-models/checkpoints.ts', text: "const TABLE = 'projection_checkpoints'; interface BookingRow {}" },
    { path: 'migrations/001_read_models.ts', text: "createTable('projection_checkpoints')" },
    { path: 'query-api/lag.ts', text: "db('projection_checkpoints').select('position')" },
    { path: 'query-api/bookings/reads.ts', text: 'interface BookingRow { id: string }\ntype SeatRow = { id: string };\ninterface BookingView {}' },
    { path: 'eventstore/sql/rows.ts', text: 'export interface EventRow { position: number }' },
  ];
  t.strictSame(checkpointTableOutsiders(files), ['query-api/lag.ts']);
  t.strictSame(rowTypesDeclaredOutside(files), ['query-api/bookings/reads.ts: BookingRow', 'query-api/bookings/reads.ts: SeatRow']);
  const tables = new Map<string, string[]>();
  t.strictSame(applyMigration("up(db) {\ncreateTable('a', (table) => {\n table.string('id', 36);\n table.bigInteger('n').index('a_n');\n table.index(['id'], 'x');\n});\n"
    + "createTable('b', (table) => { table.integer('n'); table.text('gone'); }) },\ndown(db) { dropTableIfExists('a') }", tables), []);
  t.strictSame(applyMigration("up(db) { alterTable('a', (table) => { table.string('added'); }); alterTable('b', (table) => { table.dropColumn('gone'); }) },\n"
    + "down(db) { alterTable('a', (table) => { table.dropColumn('added'); }) }", tables), []);
  t.strictSame([...tables], [['a', ['id', 'n', 'added']], ['b', ['n']]]);
  t.strictSame(applyMigration("up(db) { alterTable('a', (table) => { table.renameColumn('n', 'm'); }) }", tables), ["a: table.renameColumn('n')"]);
  t.strictSame(interfaceFields('export interface ARow {\n  /** why */\n  id: string;\n  readonly n?: number | null;\n}', 'ARow'), ['id', 'n']);
  t.equal(interfaceFields('interface BRow { id: string }', 'ARow'), undefined);
});

t.test('only read-models/ and migrations/ name projection_checkpoints', async (t) => {
  t.strictSame(checkpointTableOutsiders(await sourceTree()), [], 'read and write checkpoints through read-models/checkpoints.ts');
});

t.test('no row type of a read-model table is declared outside read-models/', async (t) => {
  t.strictSame(rowTypesDeclaredOutside(await sourceTree()), [], 'import the row types from read-models/tables.ts');
});

t.test('read-models/tables.ts declares every table\'s row, column for column with the migrations', async (t) => {
  const migrationsDir = join(root, 'migrations');
  const created = new Map<string, string[]>();
  for (const name of (await readdir(migrationsDir)).filter((file) => /^\d+_.*\.ts$/.test(file)).sort()) {
    t.strictSame(applyMigration(await readFile(join(migrationsDir, name), 'utf8'), created), [], `${name}: every schema call is one this spec can follow`);
  }
  t.strictSame([...created.keys()].sort(), Object.keys(ROW_TYPES).sort(), 'ROW_TYPES names the row type of every table the migrations create');

  const tables = await readFile(join(root, 'read-models', 'tables.ts'), 'utf8');
  for (const [table, columns] of created) {
    const rowType = ROW_TYPES[table] ?? '';
    t.strictSame(interfaceFields(tables, rowType)?.sort(), [...columns].sort(), `${rowType} has the columns of ${table}`);
  }
});
