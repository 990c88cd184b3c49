module.exports = { ...require('../../jest.preset.js'), displayName: 'router:int', rootDir: __dirname, testMatch: ['<rootDir>/test/**/*.int-spec.ts'], testTimeout: 60000 };
