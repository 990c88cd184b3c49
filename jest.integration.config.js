// Integration and end-to-end tests, run by `npm test` once `npm run up` has the platform
// running: apps/<svc>/test/*.int-spec.ts against the real NATS, FerretDB/MongoDB and Docker
// engine, e2e/ through the gateway and the router. One at a time: they share the platform.
module.exports = {
  ...require('./jest.preset.js'),
  displayName: 'integration',
  rootDir: __dirname,
  // Only where the tests and their sources are: .paas holds the engines' data roots (every image's files).
  roots: ['<rootDir>/apps', '<rootDir>/libs', '<rootDir>/e2e'],
  testMatch: ['<rootDir>/libs/*/test/**/*.int-spec.ts', '<rootDir>/apps/*/test/**/*.int-spec.ts', '<rootDir>/e2e/**/*.e2e-spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  setupFiles: ['<rootDir>/jest.integration.setup.js'],
  maxWorkers: 1,
  testTimeout: 180_000,
};
