module.exports = { ...require('../../jest.preset.js'), displayName: 'deploy-service:int', rootDir: __dirname, testMatch: ['<rootDir>/test/**/*.int-spec.ts'], testTimeout: 180000 };
