/**
 * import:legacy's rate: a generated fixture of confirmed, paid bookings (one seat each, a user
 * each) in the older schema, imported into a fresh event store; bookings per second over the
 * bookings phase (hold, booking, payment opened, paid, sold, confirmed, old ids: each decided and
 * appended through the command path). The baseline, in the same run on the same server: the raw
 * multi-row INSERTs (1,000 rows each) that wrote those same booking rows (bookings,
 * booking_seats, buyers, payments) into the older schema while the fixture was made.
 */
import { randomBytes } from 'node:crypto';
import { LegacyImporter } from '../command-api/legacy-import/importer.ts';
import { readLegacy } from '../command-api/legacy-import/legacy-source.ts';
import { SqlEventStore } from '../eventstore/sql/sql-event-store.ts';
import { emailDigest } from '../lib/personal-data/digest.ts';
import { KtpFingerprints } from '../lib/personal-data/fingerprint.ts';
import { KeyStore } from '../lib/personal-data/key-store.ts';
import { PersonalData } from '../lib/personal-data/personal-data.ts';
import { createLegacySchema, generateLegacy } from '../test/support/legacy.ts';
import { withDatabase } from './database.ts';

export interface ImportFigures {
  readonly bookings: number;
  readonly events: number;
  readonly ours: { readonly seconds: number; readonly bookingsPerSecond: number; readonly totalSeconds: number };
  readonly baseline: { readonly seconds: number; readonly bookingsPerSecond: number };
}

export async function benchImport(serverUrl: string, options: { bookings: number; log: (line: string) => void }): Promise<ImportFigures> {
  return withDatabase(serverUrl, (usersDb) => withDatabase(serverUrl, (bookingsDb) => withDatabase(serverUrl, (paymentsDb) => withDatabase(serverUrl, async (storeUrl) => {
    const databases = { usersDb, bookingsDb, paymentsDb };
    await createLegacySchema(databases);
    // Ten concerts, whatever the size: their bookings are imported side by side, each concert's in order.
    const generated = await generateLegacy(databases, options.bookings, { seatsPerConcert: Math.max(1, Math.ceil(options.bookings / 10)) });
    const baselineSeconds = generated.bookingRowsMs / 1000;
    options.log(`  fixture: ${options.bookings.toLocaleString('en-US')} bookings; their rows inserted raw in ${baselineSeconds.toFixed(1)} s`);
    const data = await readLegacy(databases);
    const store = await SqlEventStore.open({ client: 'mysql2', url: storeUrl });
    const keys = await KeyStore.open({ client: 'mysql2', url: storeUrl }, randomBytes(32));
    const personalData = new PersonalData(keys);
    const digestKey = randomBytes(32);
    const ktp = new KtpFingerprints(digestKey);
    try {
      let bookingsFrom = 0;
      let bookingsTo = 0;
      let lastLog = 0;
      const started = performance.now();
      const report = await new LegacyImporter({
        store,
        seal: (userId, value) => personalData.seal(userId, value),
        emailDigest: (email) => emailDigest(digestKey, email),
        ktpFingerprint: (number) => ktp.of(number),
        maxTicketsPerKtp: 5,
        dryRun: false,
        onProgress: (progress) => {
          const now = performance.now();
          if (progress.phase === 'bookings' && bookingsFrom === 0) bookingsFrom = now;
          if (progress.phase === 'payments' && bookingsTo === 0) bookingsTo = now;
          if (now - lastLog > 10_000) {
            lastLog = now;
            options.log(`  ${progress.done.toLocaleString('en-US')}/${progress.total.toLocaleString('en-US')} rows (${progress.phase})`);
          }
        },
      }).run(data);
      const totalSeconds = (performance.now() - started) / 1000;
      const seconds = ((bookingsTo || performance.now()) - bookingsFrom) / 1000;
      if (report.tables.bookings.taken !== options.bookings) throw new Error(`only ${report.tables.bookings.taken} of ${options.bookings} bookings were taken`);
      options.log(`  imported in ${totalSeconds.toFixed(1)} s (bookings phase ${seconds.toFixed(1)} s), ${report.events_appended.toLocaleString('en-US')} events`);
      return {
        bookings: options.bookings,
        events: report.events_appended,
        ours: { seconds, bookingsPerSecond: options.bookings / seconds, totalSeconds },
        baseline: { seconds: baselineSeconds, bookingsPerSecond: options.bookings / baselineSeconds },
      };
    } finally {
      await keys.close();
      await store.close();
    }
  }))));
}
