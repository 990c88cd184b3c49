// Integration and end-to-end tests talk to the platform's NATS as its operator: the key `npm run
// up` writes (.paas/secrets/nats/admin.nk) unless NATS_NKEY_FILE names another. Services they
// start take it on (spawnService and up's steps pass the environment on), except copies with a
// NATS of their own, which use that copy's keys (e2e/src/scale/support.ts).
const fs = require('node:fs');
const path = require('node:path');

const key = path.join(process.env.PAAS_HOME || path.join(__dirname, '.paas'), 'secrets', 'nats', 'admin.nk');
if (!process.env.NATS_NKEY_FILE && fs.existsSync(key)) process.env.NATS_NKEY_FILE = key;
// The services the tests start in-process build from repositories on this disk, as `npm run up`'s do.
process.env.BUILD_LOCAL_SOURCES ??= 'allow';
