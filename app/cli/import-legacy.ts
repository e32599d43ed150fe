/** `import:legacy`: the older system's three databases become boxoffice history (shared/API.md). */
import { LegacyImporter, type ImportProgress } from '../../command-api/legacy-import/importer.ts';
import { readLegacy } from '../../command-api/legacy-import/legacy-source.ts';
import { formatReconciliation } from '../../command-api/legacy-import/reconciliation.ts';
import type { Sealed } from '../../domain/index.ts';
import { MAX_TICKETS_PER_BOOKING } from '../../domain/concert/index.ts';
import { flagText, UsageError, wholeNumber, type CliCommand } from './command.ts';
import { progressLine, withCommandRole } from './operate.ts';

/** What a dry run seals with: nothing is kept, so no data key is made for anyone. */
const NOT_SEALED: Sealed = { key_id: 'dry-run', alg: 'A256GCM', iv: 'dry-run', ciphertext: '', tag: 'dry-run' };

function databaseUrl(value: string | undefined, flag: string): string {
  if (value === undefined || !/^mysql:\/\/[^/]+\/[^/?]+/.test(value)) throw new UsageError(`--${flag} is required: mysql://user:password@host:port/database`);
  return value;
}

export const importLegacyCommand: CliCommand = {
  name: 'import:legacy',
  usage: '--users-db URL --bookings-db URL --payments-db URL [--dry-run] [--json]',
  summary: "take the older system's users, concerts, seats, bookings and payments over as boxoffice events, then reconcile",
  positionals: 0,
  flags: {
    'users-db': { type: 'string', description: "the older user-service database (mysql://…/user_db)" },
    'bookings-db': { type: 'string', description: "the older booking-service database (mysql://…/booking_db)" },
    'payments-db': { type: 'string', description: "the older payment-service database (mysql://…/payment_db)" },
    'dry-run': { type: 'boolean', description: 'decide and report everything, append nothing' },
    'max-tickets-per-ktp': { type: 'string', description: `the per-KTP limit of every imported concert (default ${MAX_TICKETS_PER_BOOKING})` },
    json: { type: 'boolean', description: 'print the reconciliation as JSON' },
  },
  run: async (context) => {
    const databases = {
      usersDb: databaseUrl(flagText(context, 'users-db'), 'users-db'),
      bookingsDb: databaseUrl(flagText(context, 'bookings-db'), 'bookings-db'),
      paymentsDb: databaseUrl(flagText(context, 'payments-db'), 'payments-db'),
    };
    const maxTicketsPerKtp = wholeNumber(flagText(context, 'max-tickets-per-ktp') ?? String(MAX_TICKETS_PER_BOOKING), '--max-tickets-per-ktp');
    if (maxTicketsPerKtp < 1) throw new UsageError('--max-tickets-per-ktp must be at least 1');
    const dryRun = context.flags['dry-run'] === true;
    const data = await readLegacy(databases);
    await withCommandRole(context, async (command) => {
      const started = Date.now();
      let lastPrinted = 0;
      const show = (progress: ImportProgress): void => {
        const seconds = (Date.now() - started) / 1000;
        const perSecond = progress.done / Math.max(seconds, 0.001);
        const line = progressLine({
          done: progress.done,
          total: progress.total,
          eventsPerSecond: perSecond,
          etaSeconds: perSecond > 0 ? (progress.total - progress.done) / perSecond : null,
          phase: progress.phase,
        }, 30, 'rows');
        if (context.interactive) context.err(`\r${line}`);
        else if (Date.now() - lastPrinted >= 1_000 || progress.phase === 'done') {
          lastPrinted = Date.now();
          context.err(`${line}\n`);
        }
      };
      const importer = new LegacyImporter({
        store: command.api.store,
        seal: dryRun ? () => Promise.resolve(NOT_SEALED) : (userId, value) => command.personalData.seal(userId, value),
        emailDigest: command.emailDigest,
        ktpFingerprint: (ktp) => command.ktp.of(ktp),
        maxTicketsPerKtp,
        dryRun,
        onProgress: show,
      });
      const report = await importer.run(data);
      if (context.interactive) context.err('\n');
      context.out(context.flags.json === true ? `${JSON.stringify(report)}\n` : formatReconciliation(report));
    });
  },
};
