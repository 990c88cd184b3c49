module.exports = { ...require('../../jest.preset.js'), displayName: 'router', rootDir: __dirname, testMatch: ['<rootDir>/src/**/*.spec.ts'] };
