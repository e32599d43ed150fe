/**
 * `boxoffice <command> …` (`npx boxoffice`, the package's bin): the operators' and auditors'
 * commands. Every command has --help; a failure exits non-zero (2: a wrong call or configuration,
 * 1: the command failed).
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../../lib/config.ts';
import { bookingHistoryCommand, concertAsOfCommand, eventsExport } from './audit.ts';
import { UsageError, type CliCommand, type Flag } from './command.ts';
import { importLegacyCommand } from './import-legacy.ts';
import {
  createAdminCommand, forgetCommand, migrateCommand, reactorsRetryCommand, reactorsStatusCommand, rebuildCommand, seedDemoCommand,
  seedUsersCommand, serveCommand, statusCommand,
} from './operate.ts';
import { salesReportCommand } from './reports.ts';

const COMMANDS: readonly CliCommand[] = [
  serveCommand, migrateCommand, seedDemoCommand, createAdminCommand, seedUsersCommand, forgetCommand,
  statusCommand, rebuildCommand, reactorsStatusCommand, reactorsRetryCommand, eventsExport, concertAsOfCommand, bookingHistoryCommand,
  salesReportCommand,
  importLegacyCommand,
];

const HELP_FLAG: Flag = { type: 'boolean', description: 'show this help' };

function overview(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  return [
    'boxoffice — concert tickets, sold exactly once',
    '',
    'usage: boxoffice <command> [arguments] [--help]',
    '',
    ...COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    '',
    'Every command works on the embedded data dir (BOXOFFICE_DATA_DIR, default ./data) or on the',
    'services EVENTSTORE_URL, MYSQL_URL, REDIS_URL and NATS_URL name (see the README).',
  ].join('\n');
}

function helpOf(command: CliCommand): string {
  const flags = Object.entries({ ...command.flags, help: HELP_FLAG });
  const width = Math.max(...flags.map(([name, flag]) => name.length + (flag.type === 'string' ? 4 : 0)));
  return [
    `usage: boxoffice ${command.name}${command.usage === '' ? '' : ` ${command.usage}`}`,
    '',
    `${command.summary[0]?.toUpperCase() ?? ''}${command.summary.slice(1)}.`,
    '',
    'options:',
    ...flags.map(([name, flag]) => `  --${`${name}${flag.type === 'string' ? ' <v>' : ''}`.padEnd(width)}  ${flag.description}`),
  ].join('\n');
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${overview()}\n`);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (command === undefined) {
    process.stderr.write(`boxoffice: no command "${name}"\n\n${overview()}\n`);
    return 2;
  }
  try {
    const { values, positionals } = parseArgs({
      args: [...rest],
      options: Object.fromEntries(Object.entries({ ...command.flags, help: HELP_FLAG }).map(([flag, { type }]) => [flag, { type }])),
      allowPositionals: true,
      strict: true,
    });
    if (values.help === true) {
      process.stdout.write(`${helpOf(command)}\n`);
      return 0;
    }
    if (positionals.length !== command.positionals) {
      throw new UsageError(`expects ${command.positionals} argument${command.positionals === 1 ? '' : 's'}, got ${positionals.length}`);
    }
    await command.run({
      config: loadConfig(),
      positionals,
      flags: values,
      out: (text) => void process.stdout.write(text),
      err: (text) => void process.stderr.write(text),
      interactive: process.stderr.isTTY === true,
    });
    return 0;
  } catch (error) {
    if (error instanceof UsageError || (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`boxoffice ${name}: ${error.message}\n\n${helpOf(command)}\n`);
      return 2;
    }
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    process.stderr.write(`boxoffice ${name} failed: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

const code = await main(process.argv.slice(2));
// serve never returns; every other command ends here, open handles or not.
await new Promise((resolve) => process.stdout.write('', resolve));
process.exit(code);
