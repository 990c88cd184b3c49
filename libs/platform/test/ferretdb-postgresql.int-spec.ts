import mongoose, { type Connection, type Model } from 'mongoose';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config';
import { Leases, leaseTermSchema, type LeaseTerm } from '../src/leases';
import { ResourceRepository, storedResourceSchema, type StoredResource } from '../src/resource-repository';
import { eventually, freePort } from '../src/testing';
import type { Widget } from './support/resource-repository-conformance';

/**
 * Two FerretDB 1.24 processes on one PostgreSQL, the replicated Mongo-wire store this machine
 * can run (docs/architecture.md, "State and bus beyond one machine"). The platform's writes
 * stay safe when its writers go through different FerretDB processes, because each rests on
 * the one operation FerretDB makes atomic, the insert of a unique `_id`, which PostgreSQL's
 * unique index decides: racing updates of one resource through both, exactly one wins each
 * round and the others get 409; racing replicas take a lease through both, exactly one holds
 * it. And the caveat the docs give: FerretDB keeps its catalogue per process, so a collection
 * created through one is unseen by the other until that one restarts. The test starts
 * PostgreSQL (Debian's `postgresql`, run as the `postgres` user) and FerretDB
 * (`<PAAS_HOME>/bin/ferretdb`, built by `npm run up`) on free ports, and is skipped where either is missing.
 */
const PG_ROOT = '/usr/lib/postgresql';
const pgBin = existsSync(PG_ROOT) ? readdirSync(PG_ROOT).map((version) => path.join(PG_ROOT, version, 'bin')).find((bin) => existsSync(path.join(bin, 'initdb'))) : undefined;
const ferretdb = path.join(loadConfig().home, 'bin', 'ferretdb');
const missing = [!pgBin && `PostgreSQL (${PG_ROOT}/*/bin)`, !existsSync(ferretdb) && ferretdb].filter(Boolean);
if (missing.length) console.warn(`skipping FerretDB on PostgreSQL: ${missing.join(' and ')} not installed`);

const ROUNDS = 30;
const children: ChildProcess[] = [];
const work = mkdtempSync(path.join(tmpdir(), 'paas-ferretdb-pg-'));

/** Starts `command` as a child of the test, output to `<work>/<log>.log`, and waits for `port` to accept. */
async function start(log: string, port: number, command: string, args: string[]): Promise<ChildProcess> {
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'ignore'] });
  children.push(child);
  await eventually(`${log} on ${port}`, () => accepts(port), 20_000, 100);
  return child;
}

function accepts(port: number): Promise<true | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(undefined));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGINT'); // PostgreSQL's fast shutdown; FerretDB stops on it too
  await exited;
}

/** A PostgreSQL cluster of the test's own, owned by `postgres` (initdb refuses root). */
async function startPostgres(): Promise<number> {
  const data = path.join(work, 'pg');
  chownSync(work, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })));
  const asPostgres = ['--reuid=postgres', '--regid=postgres', '--init-groups'];
  execFileSync('setpriv', [...asPostgres, path.join(pgBin as string, 'initdb'), '-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync'], { stdio: 'ignore' });
  const port = await freePort();
  await start('postgres', port, 'setpriv', [...asPostgres, path.join(pgBin as string, 'postgres'), '-D', data, '-p', String(port), '-k', work, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off']);
  return port;
}

/** A FerretDB process on that PostgreSQL; answers its port. */
async function startFerretdb(name: string, pgPort: number): Promise<number> {
  const port = await freePort();
  const state = mkdtempSync(path.join(work, `${name}-`));
  await start(`FerretDB ${name}`, port, ferretdb, [
    `--listen-addr=127.0.0.1:${port}`, '--debug-addr=-', '--handler=postgresql', `--postgresql-url=postgres://postgres@127.0.0.1:${pgPort}/postgres`,
    `--state-dir=${state}`, '--telemetry=disable', '--log-level=WARN',
  ]);
  return port;
}

const connect = (port: number) => mongoose.createConnection(`mongodb://127.0.0.1:${port}/`, { dbName: 'paas_ferretdb_pg_test', serverSelectionTimeoutMS: 5_000 }).asPromise();

(missing.length ? describe.skip : describe)('two FerretDB processes on one PostgreSQL', () => {
  let pgPort: number;
  const connections: Connection[] = [];
  /** Per FerretDB process: the resources' and the leases' collection. */
  const through: { widgets: Model<StoredResource>; leases: Model<LeaseTerm> }[] = [];
  const namespace = 'race';

  beforeAll(async () => {
    pgPort = await startPostgres();
    // The collections exist before the second process starts, as when it is started after the platform's first start.
    for (const name of ['a', 'b']) {
      const connection = await connect(await startFerretdb(name, pgPort));
      connections.push(connection);
      const models = { widgets: connection.model<StoredResource>('widgets', storedResourceSchema('widgets')), leases: connection.model('leases', leaseTermSchema()) };
      await Promise.all([models.widgets.init(), models.leases.init()]);
      through.push(models);
    }
  }, 60_000);

  afterAll(async () => {
    for (const connection of connections) await connection.close().catch(() => undefined);
    for (const child of children.reverse()) await stop(child);
    rmSync(work, { recursive: true, force: true });
  });

  it('lets exactly one of four racing updates of a resource win each round, through either process', async () => {
    const [a, b] = through.map(({ widgets }) => new ResourceRepository<Widget>(widgets, 'Widget'));
    await a.create({ metadata: { name: 'w', namespace }, spec: { size: 0 }, status: { phase: 'New' } });
    for (let round = 1; round <= ROUNDS; round++) {
      const { resourceVersion } = (await (round % 2 ? a : b).get(namespace, 'w')).metadata;
      const outcomes = await Promise.allSettled([a, b, a, b].map((repo) => repo.update(namespace, 'w', (w) => ({ ...w, spec: { size: w.spec.size + 1 } }), { resourceVersion })));
      expect(outcomes.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
      for (const outcome of outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected')) expect(outcome.reason).toMatchObject({ status: { code: 409, reason: 'Conflict' } });
    }
    // No update lost, whichever process reads.
    for (const repo of [a, b]) expect(await repo.get(namespace, 'w')).toMatchObject({ spec: { size: ROUNDS }, metadata: { resourceVersion: String(ROUNDS + 1) } });
  });

  it('gives a lease to exactly one of four replicas racing for it through either process', async () => {
    const timing = { renewMs: 100, leaseMs: 600 };
    const replicas = [0, 1, 0, 1].map((i, n) => new Leases(through[i].leases, `replica-${n}`, timing));
    try {
      for (const leases of replicas) await leases.start();
      for (let round = 0; round < ROUNDS; round++) {
        const won = await Promise.all(replicas.map((leases) => leases.acquire(`shard:${round}`)));
        expect(won.filter(Boolean)).toHaveLength(1);
      }
    } finally {
      for (const leases of replicas) await leases.stop();
    }
  });

  it('(FerretDB 1.24) hides a collection created through one process from the other until it restarts', async () => {
    const [viaA, viaB] = connections.map((connection) => connection.collection('created_later'));
    await viaA.insertOne({ _id: 'x' } as never);
    expect(await viaB.find({}).toArray()).toEqual([]);
    const restarted = await connect(await startFerretdb('b-again', pgPort));
    connections.push(restarted);
    expect(await restarted.collection('created_later').find({}).toArray()).toEqual([{ _id: 'x' }]);
  });
});
