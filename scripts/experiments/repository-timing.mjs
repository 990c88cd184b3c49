// What a create, a get and an update cost through the real ResourceRepository with 1000 names
// stored: the names are inserted as the layout before heads left them (one version each,
// a 2.5 kB spec), a first read lets the repository migrate them (not timed), then 50 of each
// operation on names spread over the collection; median and mean per operation.
//   node scripts/experiments/repository-timing.mjs [--platform <dir of a built @paas/platform>]
// (against MONGO_URL or the platform's FerretDB). `--platform <another checkout>/libs/platform/dist`
// times another tree's build on the same server, for a before and after.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serviceEnv } from '../lib/config.mjs';

const NAMES = 1000;
const OPERATIONS = 50;
const flag = process.argv.indexOf('--platform');
const platform = path.resolve(flag > 0 ? process.argv[flag + 1] : path.join(path.dirname(fileURLToPath(import.meta.url)), '../../libs/platform/dist'));
// The repository's own mongoose: a schema from one copy does not work on another's connection.
const require = createRequire(path.join(platform, 'resource-repository.js'));
const mongoose = require('mongoose');
const { ResourceRepository, storedResourceSchema } = require('./resource-repository.js');

const connection = await mongoose.createConnection(serviceEnv.MONGO_URL, { dbName: 'paas_experiment_repository' }).asPromise();
try {
  await connection.dropDatabase();
  const model = connection.model('widgets', storedResourceSchema('widgets'));
  await model.init();
  const namespace = 'ns';
  const padding = 'x'.repeat(2500);
  const resource = (name, rv) => ({
    apiVersion: 'v1',
    kind: 'Widget',
    metadata: { name, namespace, uid: `uid-${name}`, resourceVersion: String(rv), generation: 1, creationTimestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, rv)).toISOString() },
    spec: { size: 1, padding },
    status: { phase: 'Ready' },
  });
  await model.collection.insertMany(
    Array.from({ length: NAMES }, (_, i) => ({ _id: `${namespace}/name-${i}@1`, namespace, name: `name-${i}`, rv: 1, labels: [], doc: JSON.stringify(resource(`name-${i}`, 1)) })),
  );
  const repo = new ResourceRepository(model, 'Widget');
  await repo.get(namespace, 'name-0');

  const timed = async (label, operation) => {
    const times = [];
    for (let i = 0; i < OPERATIONS; i++) {
      const started = performance.now();
      await operation((i * 17 + 1) % NAMES, i);
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const median = (times[OPERATIONS / 2 - 1] + times[OPERATIONS / 2]) / 2;
    const mean = times.reduce((sum, t) => sum + t, 0) / OPERATIONS;
    console.log(`  ${median.toFixed(1).padStart(7)} ms median  ${mean.toFixed(1).padStart(7)} ms mean  ${label}`);
  };
  console.log(`${platform}\n${NAMES} names stored, ${OPERATIONS} operations each`);
  await timed('create (a new name)', (_, i) => repo.create({ metadata: { name: `new-${i}`, namespace }, spec: { size: 1, padding }, status: { phase: 'New' } }));
  await timed('get', (n) => repo.get(namespace, `name-${n}`));
  await timed('update (read, insert the next version, supersede the last)', (n) => repo.update(namespace, `name-${n}`, (w) => ({ ...w, spec: { ...w.spec, size: w.spec.size + 1 } })));
  // A second repository (its first read, which migrates, not timed) reading names it has not seen.
  const other = new ResourceRepository(model, 'Widget');
  await other.get(namespace, 'name-0');
  await timed('get through another repository, of a name it has not seen', (n) => other.get(namespace, `name-${(n + 500) % NAMES}`));
} finally {
  await connection.dropDatabase();
  await connection.close();
}
