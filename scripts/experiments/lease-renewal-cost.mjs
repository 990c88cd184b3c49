// What a lease renewal costs the Mongo-wire server, in its own CPU time: 20 lease terms of one
// holder, then 200 of each way to renew them all (one `updateMany` over the holder's terms, as
// renewals were written before the heartbeat; one `updateOne` of a heartbeat by `_id`, as now)
// and, beside them, the observers' `find({})` of the whole collection. CPU from /proc of the
// server's pid (the platform's FerretDB, .paas/run/ferretdb.pid), so run it on a quiet platform.
//   node scripts/experiments/lease-renewal-cost.mjs
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { dirs, serviceEnv } from '../lib/config.mjs';

const TERMS = 20;
const OPERATIONS = 200;
const serverPid = Number(readFileSync(path.join(dirs.run, 'ferretdb.pid'), 'utf8'));
/** The server's user + system CPU so far, in ms (clock ticks of 10 ms). */
function serverCpuMs() {
  const fields = readFileSync(`/proc/${serverPid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

const client = await MongoClient.connect(serviceEnv.MONGO_URL);
const database = client.db('paas_experiment_leases');
const leases = database.collection('leases');
try {
  await leases.insertMany(Array.from({ length: TERMS }, (_, i) => ({ _id: `shard:${i}#1`, name: `shard:${i}`, term: 1, holder: 'replica-a', renewals: 0 })));
  await leases.insertOne({ _id: 'holder:replica-a', name: 'holder:replica-a', term: 0, holder: 'replica-a', renewals: 0, heartbeat: true });
  const ways = {
    'updateMany of the holder terms (before)': () => leases.updateMany({ holder: 'replica-a', heartbeat: { $ne: true } }, { $inc: { renewals: 1 } }),
    'updateOne of the heartbeat by _id (now)': () => leases.updateOne({ _id: 'holder:replica-a' }, { $inc: { renewals: 1 } }),
    'find({}) of every lease (each observation)': () => leases.find({}).toArray(),
  };
  for (const [way, operation] of Object.entries(ways)) {
    const cpuBefore = serverCpuMs();
    const startedAt = performance.now();
    for (let i = 0; i < OPERATIONS; i++) await operation();
    const cpu = (serverCpuMs() - cpuBefore) / OPERATIONS;
    const wall = (performance.now() - startedAt) / OPERATIONS;
    console.log(`${way.padEnd(44)} server CPU ${cpu.toFixed(2)} ms   wall ${wall.toFixed(2)} ms`);
  }
} finally {
  await database.dropDatabase();
  await client.close();
}
