import type { Build } from '@paas/contracts/builds';
import type { RpcMethod, RpcRequest } from '@paas/contracts/rpc';
import { busNames } from '@paas/platform/bus-names';
import { busConnectionOptions } from '@paas/platform/bus-settings';
import { loadConfig } from '@paas/platform/config';
import { databaseName } from '@paas/platform/mongo';
import { eventually, platformBus, requestOn, spawnService } from '@paas/platform/testing';
import mongoose from 'mongoose';
import { connect, type NatsConnection, type Subscription } from 'nats';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ATTEMPT_ANNOTATION } from '../src/builds/build-attempts';
import { RUNNER_ANNOTATION } from '../src/builds/build-controller';
import { runningNodes, ServedNodes } from './support/served-nodes';

/**
 * Two build-service processes (the built main.js) on a bus and database of their own: the
 * replica running a build is killed with SIGKILL while `assemble` runs; the other sees its
 * runner lease expire and runs the build again as attempt 2, to Complete, in the same Build.
 */
const REPO = path.resolve(__dirname, '../../..');
const MAIN = path.join(REPO, 'apps/build-service/dist/main.js');
const suffix = randomUUID().slice(0, 8);
const prefix = `test-build-replicas-${suffix}`;
const namespace = `build-replicas-${suffix}`;
const work = mkdtempSync(path.join(tmpdir(), 'paas-build-replicas-'));

let nats: NatsConnection;
let relay: Subscription;
let nodes: ServedNodes;
const replicas: ChildProcess[] = [];

function start(name: string, port: number): ChildProcess {
  const env = { PAAS_BUS_PREFIX: prefix, PAAS_DB_PREFIX: prefix, PAAS_HOME: path.join(work, 'home'), PORT: String(port), PAAS_LEASE_RENEW_MS: '250', PAAS_LEASE_MS: '1500' };
  const child = spawnService(MAIN, env, path.join(work, `${name}.log`));
  replicas.push(child);
  return child;
}

const rpc = <M extends RpcMethod>(method: M, request: RpcRequest<M>) => requestOn(nats, prefix, method, request);

/** A Node app whose `npm install` runs for `seconds` (a preinstall script), so that a build can be caught while it assembles. */
function slowApp(seconds: number): string {
  const dir = path.join(work, 'app');
  mkdirSync(path.join(dir, 'slow'), { recursive: true });
  writeFileSync(path.join(dir, 'slow/package.json'), JSON.stringify({ name: 'slow', version: '1.0.0' }));
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', dependencies: { slow: 'file:./slow' }, scripts: { preinstall: `sleep ${seconds}` } }));
  writeFileSync(path.join(dir, 'server.js'), "require('node:http').createServer((q, s) => s.end('slow')).listen(process.env.PORT || 8080);\n");
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', ...args], { cwd: dir, stdio: 'ignore' });
  git('init', '--quiet', '--initial-branch=main');
  git('add', '.');
  git('commit', '--quiet', '-m', 'slow');
  return dir;
}

beforeAll(async () => {
  nats = await connect(busConnectionOptions('integration-test'));
  // Registry tokens come from the running platform's api-gateway, as they would in production.
  relay = nats.subscribe(busNames(prefix).rpc('auth.registryToken'), {
    callback: (error, message) => {
      if (error) return;
      nats.request(platformBus().rpc('auth.registryToken'), message.data, { timeout: 10_000 }).then(
        (reply) => message.respond(reply.data),
        () => undefined,
      );
    },
  });
  // The host's engine as the one node builds run on (the platform's deploy-service answers only on its own bus).
  nodes = new ServedNodes(nats, prefix);
  nodes.set(runningNodes().find((node) => node.name === 'local') as Parameters<ServedNodes['set']>[0]);
  start('a', 18_410 + Math.floor(Math.random() * 100));
  start('b', 18_520 + Math.floor(Math.random() * 100));
  await eventually('both replicas to answer on the bus', async () => (await rpc('builds.list', { namespace })) && true, 60_000);
}, 120_000);

afterAll(async () => {
  // Each replica stopped and waited for: at shutdown it removes the builder containers it started ahead, which the removal below would race.
  await Promise.all(
    replicas
      .filter((child) => child.exitCode === null && child.signalCode === null)
      .map(
        (child) =>
          new Promise((resolve) => {
            const unwilling = setTimeout(() => child.kill('SIGKILL'), 15_000);
            child.once('exit', () => resolve(clearTimeout(unwilling)));
            child.kill('SIGTERM');
          }),
      ),
  );
  relay?.unsubscribe();
  nodes?.stop();
  const containers = execFileSync('docker', ['ps', '-aq', '--filter', `label=paas.dev/instance=${prefix}`], { encoding: 'utf8' }).split('\n').filter(Boolean);
  if (containers.length) execFileSync('docker', ['rm', '-f', ...containers], { stdio: 'ignore' });
  const images = execFileSync('docker', ['images', '-q', '--filter', `reference=*/${namespace}/*`], { encoding: 'utf8' }).split('\n').filter(Boolean);
  if (images.length) execFileSync('docker', ['rmi', '-f', ...new Set(images)], { stdio: 'ignore' });
  await nats?.jetstreamManager().then((jsm) => jsm.streams.delete(busNames(prefix).stream)).catch(() => undefined);
  await nats?.drain();
  const db = await mongoose.createConnection(loadConfig().mongoUrl, { dbName: databaseName('paas_build', prefix) }).asPromise();
  await db.dropDatabase();
  await db.close();
  rmSync(work, { recursive: true, force: true });
}, 60_000);

describe('build-service replicas', () => {
  it('runs a build again, once, on the other replica when the one running it is killed', async () => {
    const source = slowApp(8);
    await rpc('buildconfigs.create', {
      namespace,
      body: {
        metadata: { name: 'app' },
        spec: { source: { git: { uri: source, ref: 'main' } }, strategy: { sourceStrategy: { from: { kind: 'Builder', name: 'nodejs' } } }, output: { to: { kind: 'ImageStreamTag', name: 'app:latest' } } },
      },
    });
    const running = await eventually('the first attempt to assemble', async () => {
      const build = await rpc('builds.get', { namespace, name: 'app-1' });
      const log = await rpc('builds.log', { namespace, name: 'app-1', offset: 0 });
      return build.status.phase === 'Running' && log.log.includes('Installing dependencies') ? build : undefined;
    }, 60_000);
    const runnerPid = Number(running.metadata.annotations?.[RUNNER_ANNOTATION]?.split('/')[1]);
    const runner = replicas.find((child) => child.pid === runnerPid) as ChildProcess;
    expect(runner).toBeDefined();
    const exited = new Promise((resolve) => runner.once('exit', resolve));
    runner.kill('SIGKILL');
    await exited;

    const done: Build = await eventually('the build to end', async () => {
      const build = await rpc('builds.get', { namespace, name: 'app-1' });
      return ['Complete', 'Failed', 'Error'].includes(build.status.phase) ? build : undefined;
    }, 120_000);
    expect(done.status).toMatchObject({ phase: 'Complete', output: { to: { imageDigest: expect.stringMatching(/^sha256:/) } } });
    expect(done.metadata.annotations?.[ATTEMPT_ANNOTATION]).toBe('2');
    const survivor = replicas.find((child) => child !== runner) as ChildProcess;
    expect(done.metadata.annotations?.[RUNNER_ANNOTATION]).toContain(`/${survivor.pid}/`);
    const log = await rpc('builds.log', { namespace, name: 'app-1', offset: 0 });
    expect(log.log).toContain('stopped before the build finished; running the build again (attempt 2 of 2)');
    expect((await rpc('builds.list', { namespace })).items.map((build) => build.metadata.name)).toEqual(['app-1']);
  });
});
