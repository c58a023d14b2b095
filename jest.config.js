// Three tiers, run in this order (test/support/test-sequencer.js): unit specs beside the code
// (pure logic, fakes allowed); medium specs under test/medium (one piece against the real
// PostgreSQL, Redis and Kafka, in-process); end-to-end specs under test/ (the services as processes).
const moduleNameMapper = {
  '^@im/(config|protocol|messaging|database|idempotency|realtime|health|metrics|webhooks|tracing|client-sdk)$': '<rootDir>/libs/$1/src',
  '^@im/client-sdk/(node|testing)$': '<rootDir>/libs/client-sdk/src/$1',
};
const transform = {
  '^.+\\.ts$': ['ts-jest', {}],
  '^.+/node_modules/@platformatic/.+\\.js$': '<rootDir>/test/support/esm-transform.js',
};
// @platformatic/kafka and its own packages ship only ES modules (see esm-transform.js).
const transformIgnorePatterns = ['/node_modules/(?!@platformatic/)'];
module.exports = {
  testTimeout: 60000,
  testSequencer: '<rootDir>/test/support/test-sequencer.js',
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      rootDir: __dirname,
      roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/test/chaos', '<rootDir>/docker'],
      testMatch: ['**/*.spec.ts'],
      moduleNameMapper,
      transform,
      transformIgnorePatterns,
    },
    {
      displayName: 'medium',
      testEnvironment: 'node',
      rootDir: __dirname,
      roots: ['<rootDir>/test/medium'],
      testMatch: ['**/*.medium-spec.ts'],
      moduleNameMapper,
      transform,
      transformIgnorePatterns,
    },
    {
      displayName: 'e2e',
      testEnvironment: 'node',
      rootDir: __dirname,
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.e2e-spec.ts'],
      moduleNameMapper,
      transform,
      transformIgnorePatterns,
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    },
  ],
};
