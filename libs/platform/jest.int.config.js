module.exports = { ...require('../../jest.preset.js'), displayName: 'platform:int', rootDir: __dirname, testMatch: ['<rootDir>/test/**/*.int-spec.ts'], testTimeout: 60000 };
