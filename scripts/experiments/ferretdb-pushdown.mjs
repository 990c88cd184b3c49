// Which reads the Mongo-wire server answers from an index and which by reading every document:
// 1000 documents shaped like the ResourceRepository's versions (a 2.5 kB `doc`), the
// repository's index on {namespace, name, rv}, then 50 reads of each kind, mean per read.
// On FerretDB 1.24 (SQLite) only `_id` equality is pushed down: the repository's
// `latest()` (namespace + name, newest rv first) and the relay's outbox sweep read all of them.
//   node scripts/experiments/ferretdb-pushdown.mjs      (against MONGO_URL or the platform's FerretDB)
import { MongoClient } from 'mongodb';
import { serviceEnv } from '../lib/config.mjs';

const DOCUMENTS = 1000;
const READS = 50;
const client = await MongoClient.connect(serviceEnv.MONGO_URL);
const database = client.db('paas_experiment_pushdown');
const versions = database.collection('versions');
try {
  const doc = 'x'.repeat(2500);
  await versions.insertMany(Array.from({ length: DOCUMENTS }, (_, i) => ({ _id: `ns/name-${i}@1`, namespace: 'ns', name: `name-${i}`, rv: 1, doc })));
  await versions.createIndex({ namespace: 1, name: 1, rv: -1 });
  const reads = {
    '_id equality (one version)': (i) => versions.findOne({ _id: `ns/name-${i}@1` }),
    // A walk over a name's versions ends on one: filtered in SQLite, but through every row.
    '_id equality, no such document': (i) => versions.findOne({ _id: `ns/name-${i}@2` }),
    'namespace + name, newest rv first (latest())': (i) => versions.find({ namespace: 'ns', name: `name-${i}` }).sort({ rv: -1 }).limit(1).next(),
    'namespace + name, first match': (i) => versions.findOne({ namespace: 'ns', name: `name-${i}` }),
    '_id $in (two versions)': (i) => versions.find({ _id: { $in: [`ns/name-${i}@1`, `ns/name-${i}@2`] } }).toArray(),
    "'outbox.0' exists (the relay's sweep)": () => versions.find({ 'outbox.0': { $exists: true } }).toArray(),
  };
  console.log(`${DOCUMENTS} documents, mean of ${READS} reads`);
  for (const [name, read] of Object.entries(reads)) {
    const started = performance.now();
    for (let i = 0; i < READS; i++) await read((i * 7) % DOCUMENTS);
    console.log(`  ${((performance.now() - started) / READS).toFixed(1).padStart(7)} ms  ${name}`);
  }
} finally {
  await database.dropDatabase();
  await client.close();
}
