// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * A recorded event's data is read through eventstore/decode.ts (upcast, checked, narrowed), never
 * cast: `event.data as X['data']` skips all three.
 */
const noEventDataCasts = [
  { selector: "TSAsExpression > MemberExpression.expression[property.name='data']", message: "Decode the event (eventstore/decode.ts) instead of casting its data." },
  { selector: "TSAsExpression > ChainExpression.expression > MemberExpression.expression[property.name='data']", message: "Decode the event (eventstore/decode.ts) instead of casting its data." },
  { selector: "TSTypeAssertion > MemberExpression.expression[property.name='data']", message: "Decode the event (eventstore/decode.ts) instead of casting its data." },
];

const impurities = {
  'no-restricted-properties': ['error',
    { object: 'Date', property: 'now', message: 'The domain reads no clock: time arrives on the command.' },
    { object: 'Math', property: 'random', message: 'The domain has no randomness: ids arrive on the command.' },
    { object: 'process', property: 'env', message: 'Configuration is read once, in lib/config.ts.' },
  ],
  'no-restricted-syntax': ['error',
    { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'The domain reads no clock: time arrives on the command.' },
    { selector: "Identifier[name='randomUUID']", message: 'The domain has no randomness: ids arrive on the command.' },
    ...noEventDataCasts,
  ],
};

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'coverage/', '.tap/', 'test/fixtures/', 'test/manual/', 'data/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['bin/*.js'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      // fastify handlers and tap tests are async by contract, awaiting or not.
      '@typescript-eslint/require-await': 'off',
      'no-restricted-properties': ['error',
        { object: 'process', property: 'env', message: 'Configuration is read once, in lib/config.ts.' },
      ],
      'no-restricted-syntax': ['error', ...noEventDataCasts],
    },
  },
  // The domain is pure: no clock, no randomness, no environment.
  { files: ['domain/**/*.ts'], ignores: ['**/*.spec.ts'], rules: impurities },
  // tap runs the tests a file declares; their promises are tap's to await.
  { files: ['**/*.spec.ts', 'eventstore/contract.ts'], rules: { '@typescript-eslint/no-floating-promises': 'off' } },
  // Only the config module, the test harness and benchmarks read the environment.
  { files: ['lib/config.ts', 'test/**/*.ts', 'bench/**/*.ts', '**/*.spec.ts'], rules: { 'no-restricted-properties': 'off' } },
  // The event store decodes (decode.ts) and serializes (its adapters) the data it holds.
  { files: ['eventstore/**/*.ts'], rules: { 'no-restricted-syntax': 'off' } },
  { files: ['eslint.config.js', '.dependency-cruiser.cjs'], ...tseslint.configs.disableTypeChecked },
  { files: ['.dependency-cruiser.cjs'], languageOptions: { sourceType: 'commonjs', globals: { module: 'writable' } } },
);
