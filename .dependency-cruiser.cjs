/**
 * Layer rules, checked by `npm test` (npm run depcruise). Paths are relative to the directory
 * depcruise runs in, so the same rules also judge the fixture in test/fixtures/layers.
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      severity: 'error',
      comment: 'domain/ imports only domain/ and typebox: no I/O, no drivers, no Node built-ins.',
      from: { path: '^domain/', pathNot: '\\.spec\\.ts$' },
      to: { pathNot: ['^domain/', '(^|/)node_modules/typebox/'] },
    },
    {
      name: 'domain-specs-stay-pure',
      severity: 'error',
      comment: 'Domain specs are unit tests: the domain, tap, fast-check, typebox and test/support only.',
      from: { path: '^domain/.+\\.spec\\.ts$' },
      to: { pathNot: ['^domain/', '^test/support/', '(^|/)node_modules/(typebox|tap|@tapjs|fast-check)/'] },
    },
    {
      name: 'esdb-driver-only-in-its-adapter',
      severity: 'error',
      comment: 'The EventStoreDB client is imported only by eventstore/esdb/.',
      from: { pathNot: '^eventstore/esdb/' },
      to: { path: '(^|/)node_modules/(@eventstore/db-client|@kurrent/kurrentdb-client)/' },
    },
    {
      name: 'sql-driver-only-in-its-adapter',
      severity: 'error',
      comment: 'Inside the event store, knex and the SQL drivers belong to eventstore/sql/ alone.',
      from: { path: '^eventstore/', pathNot: '^eventstore/sql/' },
      to: { path: '(^|/)node_modules/(knex|mysql2|better-sqlite3)/' },
    },
    {
      name: 'no-raw-sql-driver',
      severity: 'error',
      comment: 'SQL goes through knex; mysql2 and better-sqlite3 are loaded by knex, never imported.',
      from: { pathNot: ['^test/', '^bench/'] },
      to: { path: '(^|/)node_modules/(mysql2|better-sqlite3)/' },
    },
    {
      name: 'query-api-not-command-api',
      severity: 'error',
      comment: 'The two APIs are separate processes in production and share nothing but the kernel, the read-side contract, the store port and the domain.',
      from: { path: '^query-api/' },
      to: { path: '^command-api/' },
    },
    {
      name: 'command-api-not-query-api',
      severity: 'error',
      comment: 'The two APIs are separate processes in production and share nothing but the kernel, the read-side contract, the store port and the domain.',
      from: { path: '^command-api/' },
      to: { path: '^query-api/' },
    },
    {
      name: 'kernel-imports-no-role',
      severity: 'error',
      comment: 'lib/ is the kernel every role shares (config, http, security, personal data, db, observability): it imports no role, no read model and no composition root.',
      from: { path: '^lib/' },
      to: { path: '^(app|command-api|query-api|legacy-api|projectors|read-models)/' },
    },
    {
      name: 'read-models-import-no-role',
      severity: 'error',
      comment: 'read-models/ is the contract of the read side (row types, seat cache, positions, replicas, checkpoints): the roles import it, it imports none of them.',
      from: { path: '^read-models/' },
      to: { path: '^(app|command-api|query-api|legacy-api|projectors)/' },
    },
    {
      name: 'eventstore-imports-no-role',
      severity: 'error',
      comment: 'eventstore/ is the port, its adapters and the typed decode: it imports the domain and the kernel, never a role or a read model.',
      from: { path: '^eventstore/' },
      to: { path: '^(app|command-api|query-api|legacy-api|projectors|read-models)/' },
    },
    {
      name: 'projectors-not-apis',
      severity: 'error',
      comment: 'The projector is a process of its own: it shares nothing with the two APIs but the kernel, the read-side contract, the store and the domain.',
      from: { path: '^projectors/' },
      to: { path: '^(command-api|query-api|legacy-api)/' },
    },
    {
      name: 'apis-not-projectors',
      severity: 'error',
      comment: 'The APIs reach the projector only through read-models/ (positions, checkpoints, projection status).',
      from: { path: '^(command-api|query-api|legacy-api)/', pathNot: '\\.spec\\.ts$' },
      to: { path: '^projectors/' },
    },
    {
      name: 'legacy-api-only-from-app',
      severity: 'error',
      comment: "legacy-api/ is the older system's surface over the two APIs' services (it may import command-api/ and query-api/); like every role, only the composition root imports it.",
      from: { pathNot: ['^app/', '^legacy-api/', '^bin/', '^test/', '^bench/', '\\.spec\\.ts$'] },
      to: { path: '^legacy-api/' },
    },
    {
      name: 'only-entry-points-import-app',
      severity: 'error',
      comment: 'app/ is the composition root (server, one wiring module per role, CLI): only bin/, tests and benchmarks import it.',
      from: { pathNot: ['^app/', '^bin/', '^test/', '^bench/', '\\.spec\\.ts$'] },
      to: { path: '^app/' },
    },
    {
      name: 'production-code-not-tests',
      severity: 'error',
      comment: 'Nothing that ships imports test code.',
      from: { pathNot: ['^test/', '^bench/', '\\.spec\\.ts$'] },
      to: { path: '^test/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // test/fixtures/ holds deliberate violations, judged by test/layers.unit.spec.ts.
    exclude: { path: '^dist/|^test/fixtures/' },
    tsPreCompilationDeps: true,
    combinedDependencies: false,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.mjs', '.cjs', '.json', '.d.ts'],
      mainFields: ['module', 'main', 'types'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
