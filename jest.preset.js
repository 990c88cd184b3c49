// Shared jest setup: swc compiles TypeScript with decorator metadata (NestJS needs it),
// and workspace libraries resolve to their sources so tests never need a prior build.
const path = require('node:path');

module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript', decorators: true },
          transform: { legacyDecorator: true, decoratorMetadata: true },
          target: 'es2022',
        },
        module: { type: 'commonjs' },
      },
    ],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper: {
    '^@paas/(contracts|platform)/(.*)$': path.join(__dirname, 'libs/$1/src/$2'),
  },
};
