/**
 * `npm run bench [-- name…]`: runs the benchmarks (all, or those named), keeps each one's
 * figures in bench/results/<name>.json, and writes bench/REPORT.md from every result there.
 * Servers come from the test harness (throwaway, on free ports) unless MYSQL_URL is set.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { cpus, totalmem, release, platform } from 'node:os';
import { join } from 'node:path';
import knex from 'knex';
import { startMariaDb, type ManagedServer } from '../test/harness/servers.ts';
import { benchAppends, type AppendFigures } from './eventstore.ts';
import { benchBaseline, benchOurs, type SaleFigures } from './flash-sale.ts';
import { benchRebuild, type RebuildFigures } from './projections.ts';
import { benchQuery, type QueryFigures } from './query.ts';
import { benchColdLoad, type ColdLoadFigures } from './cold-load.ts';
import { benchCheckin, type CheckinFigures } from './checkin.ts';
import { benchReadYourWrites, type PhaseFigures, type ReadYourWritesFigures } from './read-your-writes.ts';
import { benchSearch, type SearchFigures } from './search.ts';
import { benchImport, type ImportFigures } from './import.ts';

const here = import.meta.dirname;
const resultsDir = join(here, 'results');

interface Result {
  readonly name: string;
  readonly measuredAt: string;
  readonly machine: Record<string, string>;
  /** `ratio <name>: …` lines. */
  readonly ratios: readonly string[];
  /** Markdown: what the figures say, and any target missed. */
  readonly reading: string;
}

type Benchmark = (mysqlUrl: string) => Promise<Omit<Result, 'name' | 'measuredAt' | 'machine'> & { machine?: Record<string, string> }>;

const benchmarks: Record<string, Benchmark> = {
  eventstore: async (mysqlUrl) => {
    const db = knex({ client: 'mysql2', connection: mysqlUrl, pool: { min: 0, max: 1 } });
    const [[{ version }]] = (await db.raw('SELECT VERSION() AS version')) as [[{ version: string }]];
    const setting = async (value: number): Promise<void> => {
      await db.raw('SET GLOBAL innodb_flush_log_at_trx_commit = ?', [value]);
    };
    try {
      await setting(1);
      const durable = await benchAppends(mysqlUrl, { rounds: 3, seconds: 4 });
      await setting(2);
      const relaxed = await benchAppends(mysqlUrl, { rounds: 3, seconds: 4 });
      return appendReport(version, durable, relaxed);
    } finally {
      await db.destroy();
    }
  },
  'flash-sale': async (mysqlUrl) => {
    const rounds = 2;
    const ours: SaleFigures[] = [];
    const baseline: SaleFigures[] = [];
    for (let round = 0; round < rounds; round++) {
      baseline.push(await benchBaseline(mysqlUrl, 8, 40_000));
      ours.push(await benchOurs(mysqlUrl, 8, 40_000));
    }
    return flashSaleReport(ours, baseline);
  },
  query: async (mysqlUrl) => queryReport(await benchQuery(mysqlUrl, { rounds: 3, seconds: 8, log: (line) => process.stderr.write(`${line}\n`) })),
  'read-your-writes': async (mysqlUrl) => readYourWritesReport(await benchReadYourWrites(mysqlUrl, {
    users: 2_000,
    clients: 20,
    log: (line) => process.stderr.write(`${line}\n`),
  })),
  'cold-load': async (mysqlUrl) => coldLoadReport(await benchColdLoad(mysqlUrl, {
    sizes: [1_000, 1_000_000],
    loads: 5,
    log: (line) => process.stderr.write(`${line}\n`),
  })),
  checkin: async (mysqlUrl) => checkinReport(await benchCheckin(mysqlUrl, {
    gates: 50,
    warmup: 3_000,
    perRound: 12_000,
    rounds: 2,
    pacedRate: 400,
    pacedScans: 4_000,
    log: (line) => process.stderr.write(`${line}\n`),
  })),
  // BENCH_REBUILD_BOOKINGS: a smaller history, to check the benchmark runs or to compare before/after (the report's is 175,000).
  projections: async (mysqlUrl) => rebuildReport(await benchRebuild(mysqlUrl, {
    bookings: Number(process.env.BENCH_REBUILD_BOOKINGS ?? 175_000),
    log: (line) => process.stderr.write(`${line}\n`),
  })),
  // BENCH_SEARCH_BOOKINGS=2000 (say) runs it small, to check that it runs.
  search: async (mysqlUrl) => {
    const bookings = Number(process.env.BENCH_SEARCH_BOOKINGS ?? 100_000);
    if (!Number.isInteger(bookings) || bookings < 100) throw new Error('BENCH_SEARCH_BOOKINGS must be a whole number of at least 100');
    const small = bookings < 100_000;
    return searchReport(await benchSearch(mysqlUrl, { bookings, rounds: small ? 1 : 3, seconds: small ? 2 : 8, log: (line) => process.stderr.write(`${line}\n`) }));
  },
  // BENCH_IMPORT_BOOKINGS: a smaller fixture, to check the benchmark runs (the report's figure is 100,000).
  import: async (mysqlUrl) => importReport(await benchImport(mysqlUrl, {
    bookings: Number(process.env.BENCH_IMPORT_BOOKINGS ?? 100_000),
    log: (line) => process.stderr.write(`${line}\n`),
  })),
};

function searchReport(figures: SearchFigures) {
  const ratio = percent(figures.search.requestsPerSecond, figures.byId.requestsPerSecond);
  const row = (name: string, f: SearchFigures['search']) =>
    `| ${name} | ${rate(f.requestsPerSecond)} | ${f.rounds.map(rate).join(', ')} | ${f.p50Ms} / ${f.p99Ms} | ${f.non2xx} |`;
  return {
    ratios: [`ratio search: ${ratio}% — ${rate(figures.search.requestsPerSecond)} vs ${rate(figures.byId.requestsPerSecond)} (requests/s, same run)`],
    reading: [
      '### search (bench/search.ts)',
      '',
      `The back office's \`GET /api/v1/admin/bookings?concert_id=…&status=confirmed\` (a page of 20, newest first) over`,
      `${figures.bookings.toLocaleString('en-US')} bookings in the read model (ten concerts, six statuses; ${figures.matching.toLocaleString('en-US')} match; seeded by`,
      `multi-row INSERTs in ${figures.seedSeconds.toFixed(1)} s), against the primary-key read \`GET /api/v1/bookings/:id\` of one of them, both as`,
      'an admin from `app/server.ts` in the query role on MariaDB. autocannon, 20 connections, the two alternating; requests/s',
      'is the mean of the rounds. The search walks bookings_concert_status_created_index from its newest end (no sort), then',
      'assembles its 20 bookings (seats, classes, buyers, holders, concert: one query each for the page); the read by id',
      'assembles one. Buyers were seeded as forgotten, so neither opens a data key.',
      '',
      '| | requests/s (mean) | rounds | p50 / p99 ms (best round) | non-2xx or errors |',
      '|---|---|---|---|---|',
      row('ours: search by concert and status', figures.search),
      row('primary-key read of one booking', figures.byId),
      '',
      `p99: search ${figures.search.p99Ms} ms, primary-key read ${figures.byId.p99Ms} ms. No target yet: this is what was measured.`,
    ].join('\n'),
  };
}

function importReport(figures: ImportFigures) {
  const ratio = percent(figures.ours.bookingsPerSecond, figures.baseline.bookingsPerSecond);
  return {
    ratios: [`ratio import: ${ratio}% — ${rate(figures.ours.bookingsPerSecond)} vs ${rate(figures.baseline.bookingsPerSecond)} (bookings/s, same run)`],
    reading: [
      '### import (bench/import.ts)',
      '',
      `\`import:legacy\` of ${rate(figures.bookings)} confirmed, paid one-seat bookings (a user each) generated in the older schema:`,
      'each booking is held on its concert, placed, its payment opened, requested and paid, its seats sold and the booking',
      'confirmed, and its payment\'s old id recorded, every step decided by the deciders at its expected revision, each concert\'s',
      'bookings one after another (the import order decides the per-KTP limit and the seats), concerts side by side, written in',
      `units of 50 bookings (one atomic multi-stream append each, the concert's own events with them). ${rate(figures.events)} events in all;`,
      `the whole run (users and concerts first) took ${figures.ours.totalSeconds.toFixed(1)} s, the bookings phase ${figures.ours.seconds.toFixed(1)} s.`,
      `The baseline is the raw multi-row INSERTs (1,000 rows each) of the same bookings' rows (bookings, booking_seats, buyers,`,
      `payments) into the older schema on the same server in the same run: ${figures.baseline.seconds.toFixed(1)} s. No target was set.`,
    ].join('\n'),
  };
}

function queryReport(figures: QueryFigures) {
  const ratio = percent(figures.ours.requestsPerSecond, figures.redisGet.requestsPerSecond);
  const target = 70;
  const row = (name: string, f: QueryFigures['ours']) =>
    `| ${name} | ${rate(f.requestsPerSecond)} | ${f.rounds.map(rate).join(', ')} | ${f.p50Ms} / ${f.p99Ms} | ${f.non2xx} |`;
  return {
    ratios: [`ratio availability: ${ratio}% — ${rate(figures.ours.requestsPerSecond)} vs ${rate(figures.redisGet.requestsPerSecond)} (requests/s, same run)`],
    reading: [
      '### availability (bench/query.ts, bench/query-baselines.ts)',
      '',
      '`GET /api/v1/concerts/:id/availability` of a two-class concert, served by `app/server.ts` in the query role',
      '(`BOXOFFICE_ROLE=query`) from the Redis seat cache, against two ceilings, each its own process on the same machine:',
      'fastify answering a constant, and fastify answering after one Redis GET. autocannon, 100 connections, 8 s after a',
      '2 s warm-up; the three alternate, 3 rounds each; requests/s is the mean. The ratio is ours against fastify + Redis GET.',
      'Everything (load generator, servers, Redis) shares the 2 cores.',
      '',
      '| | requests/s (mean) | rounds | p50 / p99 ms (best round) | non-2xx or errors |',
      '|---|---|---|---|---|',
      row('ours: availability', figures.ours),
      row('fastify + one Redis GET', figures.redisGet),
      row('fastify hello world', figures.hello),
      '',
      'What ours does beyond the Redis GET ceiling: the request and response schemas, the read-your-writes check (the',
      'reader named no position here, so the projection position this process last heard is taken), security and CORS',
      'headers, and one EVALSHA that reads the generation pointer, the concert\'s hash and the cache\'s position in one',
      'round trip. What it does less: readers of the same concert whose requests arrive while a cache read is on its way',
      'share that read (single flight), so under this load it makes fewer than one Redis call per request; the baseline',
      'makes one each. Readers who name a position still get at least that position.',
      '',
      'What it took to get here from 57%: query strings and params converted by TypeBox only when they do not pass as',
      'sent; the security headers and request id set by one callback hook (no promise); the read-your-writes hook',
      'synchronous when it knows the position; per-request child loggers made only when something is logged; and a',
      'short security-header set for JSON answers (OWASP\'s REST set: CSP `default-src \'none\'`, no framing, nosniff,',
      'HSTS, no referrer), helmet\'s full set on the HTML pages only.',
      '',
      ratio >= target
        ? `Target (at least ${target}% of fastify + Redis GET): met, ${ratio}%.`
        : `Target (at least ${target}% of fastify + Redis GET): missed, measured ${ratio}%.`,
    ].join('\n'),
  };
}

function checkinReport(figures: CheckinFigures) {
  type Run = CheckinFigures['ours'][number];
  const mean = (runs: readonly Run[]) => runs.reduce((sum, r) => sum + r.scansPerSecond, 0) / runs.length;
  const worst = (runs: readonly Run[], pick: (r: Run) => number) => Math.max(...runs.map(pick));
  const average = (runs: readonly Run[], pick: (r: Run) => number) => runs.reduce((sum, r) => sum + pick(r), 0) / runs.length;
  const ratio = percent(mean(figures.ours), mean(figures.baseline));
  const costs = (runs: readonly Run[]) => `${average(runs, (r) => r.serverCpuMsPerScan).toFixed(2)} | ${average(runs, (r) => r.databaseCpuMsPerScan).toFixed(2)} | ${average(runs, (r) => r.queriesPerScan).toFixed(2)}`;
  const failed = (runs: readonly Run[]) => runs.reduce((n, r) => n + r.non2xx + r.errors, 0);
  const row = (name: string, runs: readonly Run[]) =>
    `| ${name} | ${rate(mean(runs))} | ${runs.map((r) => rate(r.scansPerSecond)).join(', ')} | ${runs.map((r) => `${r.p50Ms} / ${r.p99Ms}`).join(', ')} | ${worst(runs, (r) => r.maxMs)} | ${failed(runs)} | ${costs(runs)} |`;
  const pacedRow = (name: string, run: Run) =>
    `| ${name} | ${rate(run.scansPerSecond)} | ${run.p50Ms} / ${run.p99Ms} | ${run.maxMs} | ${failed([run])} | ${costs([run])} |`;
  const target = 50;
  const p99Target = 50;
  const p99 = worst(figures.ours, (r) => r.p99Ms);
  const pacedP99 = figures.oursPaced.p99Ms;
  const admitted = [...figures.ours, figures.oursPaced].reduce((n, r) => n + r.admitted, 0);
  const warmup = figures.tickets - admitted;
  const verdict = ratio >= target && p99 < p99Target ? 'met' : 'missed';
  return {
    ratios: [`ratio checkin: ${ratio}% — ${rate(mean(figures.ours))} vs ${rate(mean(figures.baseline))} (scans/s, same run)`],
    reading: [
      '### checkin (bench/checkin.ts, bench/checkin-baseline.ts)',
      '',
      `Opening time at the door: 50 gates (autocannon, 50 connections) scan ${rate(figures.ours[0]?.scans ?? 0)} different tickets of one concert per round, each`,
      `once, over HTTP. Ours: \`boxoffice serve --role command\` on MariaDB, a concert of ${rate(figures.tickets)} tickets sold through the real`,
      `deciders beforehand (holds and sales by a ConcertWriter, booking streams by the booking decider, every holder sealed; ${figures.historySeconds.toFixed(0)} s,`,
      'not measured). A scan is the whole route: JWT, schema, the QR\'s Ed25519 signature, AdmitTicket decided by the concert\'s',
      'batching writer and TicketAdmitted appended at the stream\'s revision, then the holder\'s name opened for the gate (the',
      'sealed holder is in the concert\'s state; its data key is fetched, the scans in flight together in one SELECT).',
      'Baseline: the same HTTP front (fastify, HS256 JWT, body schema, the',
      'same signature check) doing one `UPDATE tickets SET admitted_at = ?, gate = ? WHERE id = ? AND admitted_at IS NULL` per',
      `scan on a plain table of the same tickets, 50 connections. After a warm-up of ${rate(warmup)} scans each, the two alternate, ${figures.ours.length} rounds`,
      'each, as fast as they answer; scans/s is admitted scans over the round\'s time, the mean of the rounds. Then each at a',
      `steady ${rate(figures.pacedRate)} scans/s over the 50 gates (an open loop: each scan sent at its time, latency counted from it), for`,
      'the latency below the ceiling. CPU per scan is read from /proc for the',
      'server process and for mariadbd; statements from MariaDB\'s `Questions`. Everything (load generator, servers, MariaDB)',
      `shares the 2 cores, and other work was running on them too (load average ${figures.loadAverage.toFixed(1)} when the scans began).`,
      '',
      '| as fast as answered | scans/s (mean) | rounds | p50 / p99 ms (per round) | max ms | non-2xx or errors | server CPU ms/scan | MariaDB CPU ms/scan | statements/scan |',
      '|---|---|---|---|---|---|---|---|---|',
      row('ours', figures.ours),
      row('UPDATE baseline', figures.baseline),
      '',
      `| at ${rate(figures.pacedRate)} scans/s | scans/s | p50 / p99 ms | max ms | non-2xx or errors | server CPU ms/scan | MariaDB CPU ms/scan | statements/scan |`,
      '|---|---|---|---|---|---|---|---|',
      pacedRow('ours', figures.oursPaced),
      pacedRow('UPDATE baseline', figures.baselinePaced),
      '',
      `Audit: ${rate(figures.oursAdmittedStored)} TicketAdmitted events in the concert stream for ${rate(admitted)} measured + ${rate(warmup)} warm-up 200s (ours);`,
      `${rate(figures.baselineAdmittedStored)} admitted rows (baseline).`,
      '',
      'Where the time goes. Scans arriving together are decided as one batch and appended in one write, and the holder the',
      'gate is told comes from the concert\'s state (each sold ticket keeps its sealed holder from the hold\'s SeatsHeld), its',
      'data key fetched for all the scans in flight in one SELECT: at full speed a scan costs fewer statements than the',
      'baseline\'s one UPDATE. Before those two changes (the first version of this bench) each scan also read the booking\'s',
      'first event and fetched its key alone: 3.0 statements and 0.77 ms of server CPU per scan, 48% of the baseline.',
      '',
      'Latency: 50 gates that each scan again the moment they are answered are a closed loop, so the mean latency is',
      `50 / throughput whatever the server does (Little's law): ${(50_000 / mean(figures.ours)).toFixed(0)} ms at ${rate(mean(figures.ours))} scans/s. A p99 under 50 ms at that load needs well`,
      `over 2,000 scans/s on these 2 cores (the baseline, this run: p99 ${worst(figures.baseline, (r) => r.p99Ms)} ms at ${rate(mean(figures.baseline))} scans/s). The steady-rate table is the latency a door`,
      'sees below its ceiling (real gates scan a person every few seconds: 50 gates are some 20 scans/s). There ours pays more per',
      `scan than at full speed (${figures.oursPaced.queriesPerScan.toFixed(1)} statements, ${figures.oursPaced.serverCpuMsPerScan.toFixed(2)} ms of server CPU): fewer scans wait together, so an append carries`,
      'one or two, and what is paid per append is paid per scan: the append\'s own statements (the revision check, then',
      'position, insert and commit), and the reads of $all by the command role\'s three reactors, which every append wakes',
      'although none of them handles TicketAdmitted (they now store their position past such events once a second, not at',
      'every append). What is left to do for the tail: reactors whose subscription wakes only for the event types they handle,',
      'and the concert snapshot the writer saves every 10,000 events (one falls in each round here), turned into JSON on the',
      'event loop while scans wait; neither traced here.',
      '',
      `Target (at least ${target}% of the baseline's scans/s, p99 under ${p99Target} ms): ${verdict}, measured ${ratio}% and p99 ${p99} ms as fast as answered;`
        + ` p99 ${pacedP99} ms at a steady ${rate(figures.pacedRate)} scans/s (${pacedP99 < p99Target ? 'under' : 'over'} ${p99Target} ms).`,
    ].join('\n'),
  };
}

function readYourWritesReport(figures: ReadYourWritesFigures) {
  const { oneClient, manyClients } = figures;
  const ratio = percent(oneClient.visible.p50Ms, oneClient.plainRead.p50Ms);
  const ms = (value: number) => `${value.toFixed(1)} ms`;
  const row = (name: string, f: PhaseFigures['visible']) => `| ${name} | ${rate(f.samples)} | ${ms(f.p50Ms)} | ${ms(f.p99Ms)} | ${ms(f.maxMs)} |`;
  const phase = (f: PhaseFigures) => [
    row(`${f.clients} at a time — ours: 201 → visible (with min_position)`, f.visible),
    row(`${f.clients} at a time — baseline: a plain read of a projected booking`, f.plainRead),
    row(`${f.clients} at a time — the booking command itself, for scale`, f.command),
  ];
  return {
    ratios: [`ratio read-your-writes: ${ratio}% — ${ms(oneClient.visible.p50Ms)} vs ${ms(oneClient.plainRead.p50Ms)} (p50, one client: command accepted → visible in the query API, vs a plain read, same run)`],
    reading: [
      '### read-your-writes (bench/read-your-writes.ts)',
      '',
      'A command-api, a projector and a query-api, each its own process on MariaDB, Redis and NATS (JetStream), as in',
      'production. A client books one ticket (a different signed-in user every time) and, as soon as the command-api answers',
      '201 with the position of its events, asks the query-api for that booking with `min_position`. Measured: from the 201',
      'to the 200 — the write reaching the booking read model, announced on NATS, and read. Baseline, same run and processes:',
      `the same read of bookings already projected. Two phases: one client at a time (the path itself), then ${manyClients.clients} at once`,
      '(everything shares the 2 cores, so that figure is mostly queueing).',
      '',
      '| | samples | p50 | p99 | max |',
      '|---|---|---|---|---|',
      ...phase(oneClient),
      ...phase(manyClients),
      '',
      `${oneClient.lagging + manyClients.lagging} reads answered 503 PROJECTION_LAGGING (the wait gives up after READ_WAIT_TIMEOUT_MS, 5 s).`,
      'How the write travels: the command side announces each append on NATS, which wakes the projector\'s subscription',
      '(without it, the SQL event store is polled every 50 ms: 47 ms p50 one client at a time when measured before the',
      'announcement was added); the projector applies the batch with its checkpoint in one transaction and announces the',
      'position; the query-api\'s waiting read wakes on it. No target was set for this figure.',
    ].join('\n'),
  };
}

function coldLoadReport(figures: readonly ColdLoadFigures[]) {
  const small = figures[0] as ColdLoadFigures;
  const large = figures[figures.length - 1] as ColdLoadFigures;
  const ratio = percent(large.loadMs, small.loadMs);
  const target = 200;
  const ms = (value: number) => `${value < 100 ? value.toFixed(1) : rate(value)} ms`;
  return {
    ratios: [`ratio cold-load: ${ratio}% — ${ms(large.loadMs)} vs ${ms(small.loadMs)} (cold load at ${rate(large.events)} events vs at ${rate(small.events)}, same run)`],
    reading: [
      '### cold-load (bench/cold-load.ts)',
      '',
      'How long a command-api instance that has never seen a concert takes to load its inventory (newest snapshot, then the',
      'tail of the stream) before it can decide a command: for a concert stream of 1,000 events and one of 1,000,000, both',
      'written in the same run by the real batching writer (one-seat holds and their cancellations, in waves of 500), which',
      `saves a snapshot every 10,000 events. Median of ${large.loadsMs.length} cold loads each; the full replay from the first event is shown for comparison.`,
      '',
      '| events | cold load (median) | loads | snapshot | full replay |',
      '|---|---|---|---|---|',
      ...figures.map((f) => `| ${rate(f.events)} | ${ms(f.loadMs)} | ${f.loadsMs.map((v) => v.toFixed(0)).join(', ')} ms | ${f.snapshotBytes === 0 ? 'none' : `${(f.snapshotBytes / 1_048_576).toFixed(1)} MB, revision ${rate(f.snapshotRevision)}`} | ${ms(f.replayMs)} |`),
      '',
      'The tail a cold load folds is at most 10,000 events, so the stream\'s length does not count; what does is the size',
      'of the snapshot (its JSON size above; the SQL store keeps it gzipped). The concert state keeps every hold the concert',
      'ever had: a released booking id must stay known, so a retried request with the same Idempotency-Key cannot hold seats',
      'again and a payment that arrives after its hold was released is told so (refund). A released hold is kept as its',
      'booking id and reason only. This workload is the worst case for it: every booking is cancelled, so 1,000,000 events',
      'leave 500,000 released holds. A sale of 50,000 seats with as many bookings again expiring leaves a fifth of that.',
      '',
      'Found by this benchmark and fixed: snapshots of such a concert stopped being saved at about 140,000 events, when',
      'their JSON outgrew MySQL\'s max_allowed_packet (16 MiB), so every cold load replayed everything after (6.1 s at',
      '1,000,000 events). Now released holds are small and big snapshots are gzipped.',
      '',
      ratio <= target
        ? `Target (cold load flat: at most ${target}% of the 1,000-event load at 1,000,000 events): met, ${ratio}%.`
        : `Target (cold load flat: at most ${target}% of the 1,000-event load at 1,000,000 events): missed, measured ${ratio}%`
          + ` (${ms(large.loadMs)} vs ${ms(small.loadMs)}). Snapshots keep it an order of magnitude below a full replay`
          + ` (${ms(large.replayMs)}), but it grows with the released holds the state keeps; flat needs them to leave the`
          + ' snapshot after a retention window, with the booking stream answering for older ones.',
    ].join('\n'),
  };
}

function rebuildReport(figures: RebuildFigures) {
  const ratio = percent(figures.ours.eventsPerSecond, figures.baseline.rowsPerSecond);
  const target = 40;
  const finished = Object.entries(figures.ours.perProjection).sort((a, b) => a[1] - b[1])
    .map(([name, seconds]) => `${name} ${seconds.toFixed(1)} s`).join(', ');
  return {
    ratios: [`ratio rebuild: ${ratio}% — ${rate(figures.ours.eventsPerSecond)} vs ${rate(figures.baseline.rowsPerSecond)} (events/s vs rows/s, same run)`],
    reading: [
      '### rebuild (bench/projections.ts)',
      '',
      `A booking-flow history of ${rate(figures.events)} events (20,000 users registered; 20 concerts of 35,000 seats; ${rate(figures.bookings)}`,
      'bookings, each held, placed, then paid, failed, cancelled or expired with the events the command side writes) is',
      `appended to the SQL event store on MariaDB (${figures.appendSeconds.toFixed(0)} s, not measured). Then every projection is rebuilt`,
      'blue/green at once, as `projectors.rebuildMany` does: shadow tables without secondary indexes, filled from position 0',
      'by one read of the store for all of them (each event read, parsed and decoded once, each projection taking its own',
      'types), in batches of up to 100,000 of a projection\'s events (each batch\'s table writes side by side on their own',
      'connections, as multi-row statements), indexes built, caught up, swapped in with RENAME TABLE. Positions count every',
      'event, so each projection covers all of them;',
      `the figure is events / wall time until the last one swapped in (${finished}).`,
      `They wrote ${rate(figures.rows)} rows (${(figures.rows / figures.events).toFixed(2)} per event).`,
      'Baseline, same server, right after: as many rows as there were events, read-model-shaped (UUID key, an indexed',
      'UUID, a status, an amount, a time, a position), in multi-row INSERTs of 1,000 rows over 4 connections at once —',
      'no reading, no JSON, no folding, no checkpoint.',
      '',
      '| | seconds | rate |',
      '|---|---|---|',
      `| ours: rebuild of every projection | ${figures.ours.seconds.toFixed(1)} | ${rate(figures.ours.eventsPerSecond)} events/s |`,
      `| raw multi-row INSERT | ${figures.baseline.seconds.toFixed(1)} | ${rate(figures.baseline.rowsPerSecond)} rows/s |`,
      '',
      'Where the time goes (CPU seconds from /proc and a --cpu-prof profile of the rebuild, 294,130 events = 40,000 bookings,',
      'BENCH_REBUILD_BOOKINGS=40000; 1,071,267 rows, the 700,000 seats a fixed part of them). Before: Node 19.9 s, MariaDB',
      '23.3 s. Each projection read the store on its own (events of two projections\' types parsed and decoded twice, six scans',
      'of es_events), and knex compiled each multi-row statement into placeholders that mysql2 then scanned and filled, value',
      'by value: a fifth of Node\'s time. After: Node 13.6 s (-32%), MariaDB 20.0 s (-14%): the store is read once for every',
      'projection rebuilt together (the fastest at most 30 pages of 10,000 ahead of the slowest, so memory stays bounded), and',
      'bulk.ts writes a MySQL multi-row INSERT / ON DUPLICATE KEY UPDATE in one pass with mysql2\'s escaping, handed to the',
      'driver whole (the rows are the same: projectors/bulk.int.spec.ts round-trips every escaped character). MariaDB is now',
      'the larger half: it writes the rows (2.06 per event at full size), and the concerts projection (700,000 seat rows, then',
      'every hold, release and sale of a seat) swaps in last. In Node, garbage collection is about a quarter of the samples,',
      'then the driver measuring each statement\'s bytes, JSON.parse of the events, and the folds. The batch size still matters:',
      'a seat held, released and sold within one batch is written once. Tried and dropped: joining each row\'s text (slower',
      'than growing one string).',
      '',
      ratio >= target
        ? `Target (rebuild at least ${target}% of the raw INSERT rate): met, ${ratio}%.`
        : `Target (rebuild at least ${target}% of the raw INSERT rate): missed, measured ${ratio}%.`,
    ].join('\n'),
  };
}

function flashSaleReport(ours: SaleFigures[], baseline: SaleFigures[]) {
  const best = (runs: SaleFigures[]) => [...runs].sort((a, b) => a.bookingsPerSecond - b.bookingsPerSecond)[runs.length - 1] as SaleFigures;
  const mean = (runs: SaleFigures[]) => runs.reduce((sum, r) => sum + r.bookingsPerSecond, 0) / runs.length;
  const ratio = percent(mean(ours), mean(baseline));
  const row = (name: string, runs: SaleFigures[]) => {
    const top = best(runs);
    return `| ${name} | ${rate(mean(runs))} | ${runs.map((r) => rate(r.bookingsPerSecond)).join(', ')} | ${top.p50Ms} / ${top.p99Ms} | ${runs.reduce((n, r) => n + r.non2xx + r.errors, 0)} | ${runs.reduce((n, r) => n + r.oversold, 0)} |`;
  };
  const target = 500;
  return {
    ratios: [`ratio flash-sale: ${ratio}% — ${rate(mean(ours))} vs ${rate(mean(baseline))} (bookings/s, same run)`],
    reading: [
      '### flash-sale (bench/flash-sale.ts, bench/row-lock-baseline.ts)',
      '',
      'One concert, one class of 150,000 seats, autocannon with 100 connections for 8 s after a 2 s warm-up, every request a',
      'different signed-in user booking one ticket over HTTP. Ours: `app/server.ts` as its own process on MariaDB in the',
      'command role (`BOXOFFICE_ROLE=command`: JWT, schema validation, sealing the buyer, the per-concert batching writer,',
      'booking streams written in groups, reactors running; the projectors are a process of their own in production and',
      'are not running here). Baseline: the older design, the same HTTP front with one transaction per booking that locks the class row',
      '(SELECT … FOR UPDATE), counts down, marks the lowest seats and inserts the booking, over 50 connections. The two',
      'alternate, 2 rounds each; bookings/s is the mean. After each run the event store (ours) or the tables (baseline) are',
      'audited: a seat in two bookings, more seats than the class, or a 201 whose booking is not stored counts as oversold.',
      'Everything (load generator, server, MariaDB) shares the 2 cores.',
      '',
      '| | bookings/s (mean) | rounds | p50 / p99 ms (best round) | non-2xx or errors | oversold |',
      '|---|---|---|---|---|---|',
      row('ours', ours),
      row('row-lock baseline', baseline),
      '',
      ratio >= target
        ? `Target (at least 5× the row-lock baseline's bookings/s, zero oversell in both): met, ${(ratio / 100).toFixed(1)}×.`
        : `Target (at least 5× the row-lock baseline's bookings/s, zero oversell in both): missed, measured ${(ratio / 100).toFixed(1)}×.`,
    ].join('\n'),
  };
}

function rate(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

function percent(ours: number, baseline: number): number {
  return Math.round((ours / baseline) * 100);
}

function appendReport(version: string, durable: AppendFigures[], relaxed: AppendFigures[]) {
  const twenty = durable.find((f) => f.eventsPerAppend === 20);
  if (twenty === undefined) throw new Error('no 20-event figure');
  const ratio = percent(twenty.ours.eventsPerSecond, twenty.baseline.eventsPerSecond);
  const rows = [
    ...durable.map((f) => ['1 (durable)', f] as const),
    ...relaxed.map((f) => ['2 (relaxed)', f] as const),
  ].map(([flush, f]) => `| ${flush} | ${f.eventsPerAppend} | ${rate(f.ours.eventsPerSecond)} | ${rate(f.baseline.eventsPerSecond)} | ${percent(f.ours.eventsPerSecond, f.baseline.eventsPerSecond)}% | ${f.ours.appendP50Ms.toFixed(2)} / ${f.ours.appendP99Ms.toFixed(2)} | ${f.baseline.appendP50Ms.toFixed(2)} / ${f.baseline.appendP99Ms.toFixed(2)} | ${f.ours.rounds.join(', ')} vs ${f.baseline.rounds.join(', ')} |`);
  const target = 50;
  const missed = [...durable, ...relaxed]
    .filter((f) => f.eventsPerAppend === 20 && percent(f.ours.eventsPerSecond, f.baseline.eventsPerSecond) < target)
    .map((f) => `${percent(f.ours.eventsPerSecond, f.baseline.eventsPerSecond)}%`);
  return {
    machine: { MariaDB: `${version}, throwaway server on loopback started by the bench (2 GiB buffer pool)` },
    ratios: [`ratio append: ${ratio}% — ${rate(twenty.ours.eventsPerSecond)} vs ${rate(twenty.baseline.eventsPerSecond)} (events/s, same run)`],
    reading: [
      '### append (bench/eventstore.ts)',
      '',
      'The SQL event store on MariaDB, 8 concurrent writers each appending to 16 streams of its own with an expected',
      'revision, against plain INSERTs of the same rows into a table with the same columns and unique indexes but an',
      'auto-increment key (no ordering guarantee, no revision check, no stream table). Ours and the baseline alternate,',
      '3 rounds of 4 s each after a warm-up; events/s is the median round. The `ratio append` line is 20 events per append',
      'with durable commits (`innodb_flush_log_at_trx_commit=1`), the setting production runs with.',
      '',
      '| flush_log_at_trx_commit | events/append | ours events/s | baseline events/s | ratio | ours p50/p99 ms | baseline p50/p99 ms | rounds (ours vs baseline) |',
      '|---|---|---|---|---|---|---|---|',
      ...rows,
      '',
      'What ours pays for: two round trips per append instead of one (the revision check on the stream row, then',
      'position allocation + insert + COMMIT sent as one request), two more rows written (stream and head), and the',
      'allocate-insert-commit section running one append at a time on the head row lock, so that positions commit in',
      'order. The fixed part dominates at 1 event per append; at 20 events it is paid once for 20 events. The',
      'per-concert batching writer of the command API turns many bookings into one append, which is how the hot path',
      'gets the 20-event figure.',
      '',
      missed.length === 0
        ? `Target (at least ${target}% of the baseline at 20 events per append): met.`
        : `Target (at least ${target}% of the baseline at 20 events per append): missed, measured ${missed.join(' and ')}.`,
    ].join('\n'),
  };
}

function machineFacts(): Record<string, string> {
  const cpu = cpus();
  return {
    CPU: `${cpu[0]?.model ?? 'unknown'}, ${cpu.length} cores`,
    Memory: `${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
    'Node.js': process.version,
    OS: `${platform()} ${release()}`,
  };
}

async function render(): Promise<void> {
  const results: Result[] = [];
  for (const file of (await readdir(resultsDir)).filter((f) => f.endsWith('.json')).sort()) {
    results.push(JSON.parse(await readFile(join(resultsDir, file), 'utf8')) as Result);
  }
  const machine = Object.assign({}, ...results.map((r) => r.machine)) as Record<string, string>;
  const report = [
    '# boxoffice benchmark report',
    '',
    'Written by `npm run bench` from bench/results/*.json. Every ratio compares ours with a baseline measured in the same run.',
    '',
    '## Machine',
    '',
    ...Object.entries(machine).map(([key, value]) => `- ${key}: ${value}`),
    ...results.map((r) => `- ${r.name} measured ${r.measuredAt}`),
    '',
    '## Figures',
    '',
    ...results.flatMap((r) => r.ratios),
    '',
    '## Reading',
    '',
    ...results.map((r) => `${r.reading}\n`),
  ].join('\n');
  await writeFile(join(here, 'REPORT.md'), report);
  process.stdout.write(report);
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const names = wanted.length > 0 ? wanted : Object.keys(benchmarks);
  for (const name of names) if (!(name in benchmarks)) throw new Error(`no benchmark named ${name}; there are: ${Object.keys(benchmarks).join(', ')}`);
  await mkdir(resultsDir, { recursive: true });
  let server: ManagedServer | undefined;
  try {
    let mysqlUrl = process.env.MYSQL_URL;
    if (!mysqlUrl) {
      // Room for a million events and their read models in memory, as a production server would have.
      server = await startMariaDb({ bufferPool: '2G' });
      mysqlUrl = server.url;
    }
    for (const name of names) {
      process.stderr.write(`bench: ${name}…\n`);
      const benchmark = benchmarks[name] as Benchmark;
      const outcome = await benchmark(mysqlUrl);
      const result: Result = { name, measuredAt: new Date().toISOString(), ...outcome, machine: { ...machineFacts(), ...outcome.machine } };
      await writeFile(join(resultsDir, `${name}.json`), `${JSON.stringify(result, null, 2)}\n`);
    }
  } finally {
    await server?.stop();
  }
  await render();
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
