module.exports = { ...require('../../jest.preset.js'), displayName: 'build-service', rootDir: __dirname, testMatch: ['<rootDir>/src/**/*.spec.ts'] };
