/**
 * The operator's commands: run a role, migrate, seed, manage accounts, watch and rebuild the
 * projections, watch the reactors and retry what they parked. Each opens the services it needs from the same configuration as the server
 * (the embedded data dir, or the real services the variables name) and closes them after.
 */
import { randomUUID } from 'node:crypto';
import { pino } from 'pino';
import { commandLineGatewayOf, ConfigError, SETTINGS, type Config } from '../../lib/config.ts';
import { seedDemoConcert } from '../demo.ts';
import type { RebuildProgress } from '../../read-models/projection-status.ts';
import { serve } from '../server.ts';
import type { CommandRole } from '../wiring/command.ts';
import { everyRole, wireProcess, type AllRoles, type Wired } from '../wiring/process.ts';
import type { ProjectorRole } from '../wiring/projector.ts';
import { flagText, UsageError, uuidArgument, wholeNumber, type CliCommand, type CliContext } from './command.ts';

const ROLES = ['all', 'command', 'query', 'projector'] as const;

/**
 * Wires what the command needs as the role given (background failures to stderr), runs it, closes
 * it all. The gateway is the one `npm start` on the same data dir uses (the sandbox on the embedded
 * default), or PAYMENT_GATEWAY; on real services with none chosen, none (`commandLineGatewayOf`).
 */
async function withRole<T>(context: CliContext, role: Config['role'], use: (wired: Wired) => Promise<T>): Promise<T> {
  const logger = pino({ level: 'error' }, { write: (line: string) => context.err(line) });
  const wired = await wireProcess({ ...context.config, role, paymentGateway: commandLineGatewayOf(context.config) }, logger);
  try {
    return await use(wired);
  } finally {
    await wired.close();
  }
}

export const withCommandRole = <T>(context: CliContext, use: (command: CommandRole) => Promise<T>): Promise<T> =>
  withRole(context, 'command', (wired) => use(playedRole(wired, 'command')));
const withProjectorRole = <T>(context: CliContext, use: (projector: ProjectorRole) => Promise<T>): Promise<T> =>
  withRole(context, 'projector', (wired) => use(playedRole(wired, 'projector')));
const withEveryRole = <T>(context: CliContext, use: (all: AllRoles) => Promise<T>): Promise<T> =>
  withRole(context, 'all', (wired) => use(everyRole(wired)));

function playedRole<R extends 'command' | 'projector'>(wired: Wired, role: R): NonNullable<Wired[R]> {
  const played = wired[role];
  if (played === undefined) throw new Error(`the ${role} role was not wired`);
  return played;
}

export const serveCommand: CliCommand = {
  name: 'serve',
  usage: '[--role all|command|query|projector]',
  summary: 'run the server: every role in one process (default), or one role',
  positionals: 0,
  flags: { role: { type: 'string', description: 'the role to play (BOXOFFICE_ROLE otherwise)' } },
  run: async (context) => {
    const role = flagText(context, 'role') ?? context.config.role;
    if (!(ROLES as readonly string[]).includes(role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}, not "${role}"`);
    const config: Config = { ...context.config, role: role as Config['role'] };
    await serve(config);
    // Runs until a signal ends the process.
    await new Promise(() => undefined);
  },
};

export const migrateCommand: CliCommand = {
  name: 'migrate',
  usage: '',
  summary: 'create or update every table (event store, keys, reactors, read models); safe to repeat',
  positionals: 0,
  run: (context) => withEveryRole(context, async () => {
    // Opening the stores runs their migrations, one process at a time.
    context.out('migrations applied\n');
  }),
};

export const seedDemoCommand: CliCommand = {
  name: 'seed:demo',
  usage: '',
  summary: 'create the demo concert (once: running it again changes nothing)',
  positionals: 0,
  run: (context) => withCommandRole(context, async (command) => {
    const concert = await seedDemoConcert(command.api.concerts);
    context.out(`demo concert ${concert.id}: ${concert.ticket_classes.map((c) => `${c.name} ${c.total_seats_in_class} seats`).join(', ')}\n`);
  }),
};

export const createAdminCommand: CliCommand = {
  name: 'user:create-admin',
  usage: '[--email E]',
  summary: 'make sure the account "admin" exists with the password in BOXOFFICE_ADMIN_PASSWORD',
  positionals: 0,
  flags: { email: { type: 'string', description: 'its address (ADMIN_EMAIL otherwise)' } },
  run: (context) => withCommandRole(context, async (command) => {
    const password = context.config.adminPassword;
    if (password === null) throw new ConfigError('BOXOFFICE_ADMIN_PASSWORD', "must be set: it is the admin's password (not taken on the command line, where shells keep history)");
    await command.api.users.ensureAdmin(password, flagText(context, 'email') ?? context.config.adminEmail);
    context.out('admin account ready: sign in as "admin"\n');
  }),
};

export const forgetCommand: CliCommand = {
  name: 'user:forget',
  usage: '<userId>',
  summary: "crypto-shred a user's personal data (key deleted, read-model columns cleared); events stay and replay",
  positionals: 1,
  run: (context) => withEveryRole(context, async ({ command, projector }) => {
    const userId = uuidArgument(context.positionals[0] ?? '', 'userId');
    const forgotten = await command.api.users.forgetPersonalData(userId, null, { correlationId: `cli-${randomUUID()}`, causationId: 'cli user:forget' });
    if (forgotten === null) throw new Error(`no user ${userId}`);
    // The read models clear their sealed columns when they reach the event: project up to it here,
    // so the command ends with nothing of the user left to read (a running projector may race
    // us to it; the checkpoints let only one apply each batch).
    projector.start();
    await waitFor(async () => (await projector.projectors.status()).every((view) => view.position >= forgotten.position), 60_000, 'the read models to clear the personal data');
    context.out(`user ${userId} forgotten at position ${forgotten.position}: key deleted, read models cleared\n`);
  }),
};

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} after ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export const seedUsersCommand: CliCommand = {
  name: 'users:seed',
  usage: '<count> --prefix P --password X',
  summary: 'create verified users P1…Pcount through the normal command path (for load tests)',
  positionals: 1,
  flags: {
    prefix: { type: 'string', description: 'username prefix (3–40 of [a-zA-Z0-9_.-])' },
    password: { type: 'string', description: 'their password (at least 10 characters)' },
    concurrency: { type: 'string', description: 'accounts created at once (default 16: hashing runs on the libuv pool)' },
  },
  run: (context) => withCommandRole(context, async (command) => {
    const count = wholeNumber(context.positionals[0] ?? '', 'count');
    const prefix = flagText(context, 'prefix');
    const password = flagText(context, 'password');
    if (prefix === undefined || !/^[a-zA-Z0-9_.-]{3,40}$/.test(prefix)) throw new UsageError('--prefix is required: 3–40 of [a-zA-Z0-9_.-]');
    if (password === undefined || password.length < 10) throw new UsageError('--password is required: at least 10 characters');
    const concurrency = wholeNumber(flagText(context, 'concurrency') ?? '16', '--concurrency');
    const started = Date.now();
    let next = 1;
    let created = 0;
    let existed = 0;
    const worker = async (): Promise<void> => {
      while (next <= count) {
        const n = next++;
        const outcome = await command.api.users.createVerified({ username: `${prefix}${n}`, email: `${prefix}${n}@users.example.test`.toLowerCase(), password }, { correlationId: `cli-${randomUUID()}`, causationId: 'cli users:seed' });
        if (outcome === 'created') created++;
        else existed++;
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
    const seconds = (Date.now() - started) / 1000;
    context.out(`${created} users created, ${existed} existed already, in ${seconds.toFixed(1)} s (${Math.round(count / Math.max(seconds, 0.001))} per second)\n`);
  }),
};

/** Rows as aligned columns, the first row their headings; `numbersFrom`: columns from that one on line up on the right. */
export function table(rows: readonly (readonly string[])[], numbersFrom = Number.POSITIVE_INFINITY): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows.map((row) => row.map((cell, column) => column >= numbersFrom ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd()).join('\n');
}

export const statusCommand: CliCommand = {
  name: 'projections:status',
  usage: '[--json]',
  summary: 'each projection: position, head, lag, status',
  positionals: 0,
  flags: { json: { type: 'boolean', description: "the admin route's array" } },
  run: (context) => withProjectorRole(context, async ({ projectors }) => {
    const views = await projectors.status();
    if (context.flags.json === true) {
      context.out(`${JSON.stringify(views.map(({ rebuild: _progress, ...view }) => view))}\n`);
      return;
    }
    context.out(`${table([
      ['NAME', 'POSITION', 'HEAD', 'LAG', 'STATUS', 'REBUILT AT'],
      ...views.map((view) => [view.name, String(view.position), String(view.head_position), String(view.lag), view.status, view.rebuilt_at ?? '-']),
    ])}\n`);
  }),
};

/** `[#######.......]  52%  520,000/1,000,000 events  31,000 events/s  ETA 15 s` */
/** What a progress bar shows: a rebuild's progress, or any other count of things done (`unit`). */
export type ProgressFigures = Pick<RebuildProgress, 'done' | 'total' | 'eventsPerSecond' | 'etaSeconds'> & { readonly phase: string };

export function progressLine(progress: ProgressFigures, width = 30, unit = 'events'): string {
  const fraction = progress.total === 0 ? 1 : Math.min(1, progress.done / progress.total);
  const filled = Math.round(fraction * width);
  const eta = progress.etaSeconds === null ? '-' : `${Math.ceil(progress.etaSeconds)} s`;
  const number = (n: number) => Math.round(n).toLocaleString('en-US');
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(fraction * 100)).padStart(3)}%  ${number(progress.done)}/${number(progress.total)} ${unit}  ${number(progress.eventsPerSecond)} ${unit}/s  ETA ${eta}  ${progress.phase}`;
}

export const rebuildCommand: CliCommand = {
  name: 'projections:rebuild',
  usage: '<name>',
  summary: 'rebuild a projection blue/green (reads keep being served), with a progress bar',
  positionals: 1,
  run: (context) => withProjectorRole(context, async ({ projectors }) => {
    const name = context.positionals[0] ?? '';
    if (!projectors.projections.has(name)) throw new UsageError(`no projection named "${name}": ${[...projectors.projections.keys()].join(', ')}`);
    let lastPrinted = 0;
    const result = await projectors.rebuild(name, (progress) => {
      if (context.interactive) {
        context.err(`\r${progressLine(progress)}`);
      } else if (Date.now() - lastPrinted >= 1_000 || progress.phase !== 'copying') {
        lastPrinted = Date.now();
        context.err(`${progressLine(progress)}\n`);
      }
    });
    if (context.interactive) context.err('\n');
    if (result.phase !== 'done') throw new Error(`rebuild of ${name} ended ${result.phase}${result.error === undefined ? '' : `: ${result.error}`}`);
    context.out(`${name} rebuilt: ${result.done.toLocaleString('en-US')} events, swapped in\n`);
  }),
};

export const reactorsStatusCommand: CliCommand = {
  name: 'reactors:status',
  usage: '[--json]',
  summary: 'each reactor: position, head, lag, and the events it parked (could not handle) with the reason',
  positionals: 0,
  flags: { json: { type: 'boolean', description: 'an array: name, position, head_position, lag, parked_count, parked' } },
  run: (context) => withCommandRole(context, async ({ runners }) => {
    const reactors = await Promise.all(runners.map((runner) => runner.status()));
    if (context.flags.json === true) {
      context.out(`${JSON.stringify(reactors)}\n`);
      return;
    }
    context.out(`${table([
      ['NAME', 'POSITION', 'HEAD', 'LAG', 'PARKED'],
      ...reactors.map((reactor) => [reactor.name, String(reactor.position), String(reactor.head_position), String(reactor.lag), String(reactor.parked_count)]),
    ])}\n`);
    const parked = reactors.flatMap((reactor) => reactor.parked.map((event) => [
      reactor.name, event.event_id, String(event.position), event.type, String(event.tries), event.last_failed_at, event.reason,
    ]));
    if (parked.length > 0) context.out(`\n${table([['REACTOR', 'EVENT', 'POSITION', 'TYPE', 'TRIES', 'LAST FAILED', 'REASON'], ...parked])}\n`);
  }),
};

/** The reactors that reach the gateway: payments (opens and settles payments there) and refunds (pays money back). */
const REACTORS_AT_THE_GATEWAY: readonly string[] = ['payments', 'refunds'];

export const reactorsRetryCommand: CliCommand = {
  name: 'reactors:retry',
  usage: '<reactor> (--event ID | --all)',
  summary: 'hand parked events to their reactor again: handled ones are unparked, failing ones stay with the new reason',
  positionals: 1,
  flags: {
    event: { type: 'string', description: 'the parked event to retry' },
    all: { type: 'boolean', description: 'every event the reactor parked' },
  },
  run: (context) => withCommandRole(context, async ({ runners }) => {
    const name = context.positionals[0] ?? '';
    const runner = runners.find((candidate) => candidate.name === name);
    if (runner === undefined) throw new UsageError(`no reactor named "${name}": ${runners.map((candidate) => candidate.name).join(', ')}`);
    // Named, never guessed: the sandbox the embedded data dir defaults to would "refund" a payment
    // that a server on this data dir took through Midtrans, and pay nothing back.
    if (context.config.paymentGateway === null && REACTORS_AT_THE_GATEWAY.includes(name)) {
      throw new ConfigError(SETTINGS.paymentGateway.variable, `must be set: the ${name} reactor takes or pays money through the gateway`);
    }
    const event = flagText(context, 'event');
    const all = context.flags.all === true;
    if ((event === undefined) === !all) throw new UsageError('give either --event ID or --all');
    const outcomes = await runner.retry(event === undefined ? undefined : [event]);
    if (event !== undefined && outcomes.length === 0) throw new Error(`reactor ${name} has no parked event ${event}`);
    for (const outcome of outcomes) context.out(`${outcome.event_id}  ${outcome.handled ? 'handled, unparked' : `still fails: ${outcome.reason ?? ''}`}\n`);
    const failing = outcomes.filter((outcome) => !outcome.handled).length;
    if (failing > 0) throw new Error(`${failing} of ${outcomes.length} parked events still fail; they stay parked`);
    context.out(`${outcomes.length} parked events handled\n`);
  }),
};
