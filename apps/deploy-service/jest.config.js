module.exports = { ...require('../../jest.preset.js'), displayName: 'deploy-service', rootDir: __dirname, testMatch: ['<rootDir>/src/**/*.spec.ts'] };
