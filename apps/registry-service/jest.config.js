module.exports = { ...require('../../jest.preset.js'), displayName: 'registry-service', rootDir: __dirname, testMatch: ['<rootDir>/src/**/*.spec.ts'] };
