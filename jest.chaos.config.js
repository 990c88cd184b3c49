// The chaos suite (npm run test:chaos, and the last step of npm test): e2e/chaos/*.chaos-spec.ts
// against the running platform with two replicas of every service and two nodes; it kills
// parts of it, so it runs alone, after everything else.
module.exports = {
  ...require('./jest.preset.js'),
  displayName: 'chaos',
  rootDir: __dirname,
  roots: ['<rootDir>/e2e'],
  testMatch: ['<rootDir>/e2e/chaos/**/*.chaos-spec.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  maxWorkers: 1,
  testTimeout: 900_000,
};
