#!/usr/bin/env node
// The registry-service beside CNCF Distribution 2.8 (Debian's `docker-registry`) on the same
// machine in the same run, doing the same work: a raw blob upload (POST + monolithic PUT,
// streamed from a file) and download, and `docker push` / `docker pull` of a multi-layer
// image into an empty registry. Prints medians, MB/s, the ratio ours / Distribution (time)
// and the CPU seconds each registry process spent on each row.
//
// Each round starts both registries afresh on new ports with empty storage (ours: its own
// PAAS_HOME, database prefix and bus prefix, so the running platform is not touched), and
// builds a new image of fresh random layers, so no layer can be skipped by a blob check, a
// cross-repository mount or the engine's memory of what a registry holds. The order of the
// two registries alternates every round.
//
// Usage: npm run up && node bench/registry.mjs [rounds=5]
//   Ours checks Docker tokens as deployed: the bench gets them from the platform's gateway
//   as admin (and `docker login`s); REGISTRY_AUTH=none starts ours without auth.
//   BENCH_CPU_PROF=<dir>  also write a V8 CPU profile of our registry per round into <dir>
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { RPC_SUBJECT_PREFIX } from '@paas/contracts/rpc';
import { busNames } from '@paas/platform/bus-names';
import { busConnectionOptions } from '@paas/platform/bus-settings';
import { databaseName } from '@paas/platform/mongo';
import mongoose from 'mongoose';
import { connect } from 'nats';
import { PAAS_HOME, serviceEnv, services } from '../scripts/lib/config.mjs';
import { cpuSeconds, ensureAptPackages, exec, freePort, median, startProcess, waitReady, asBusOperator } from './lib/processes.mjs';

asBusOperator();

const ROUNDS = Number(process.argv[2] ?? 5);
const MB = 1 << 20;
const BLOB_BYTES = 100 * MB;
const LAYERS = 5;
const LAYER_BYTES = 30 * MB;
const LABEL = 'paas.dev/test=bench-registry';
const CPU_PROFILE_DIR = process.env.BENCH_CPU_PROF && path.resolve(process.env.BENCH_CPU_PROF);
const OUR_MAIN = services.find((service) => service.name === 'registry-service').main;
const run = `bench-${Date.now().toString(36)}`;
const work = mkdtempSync(path.join(tmpdir(), 'paas-bench-registry-'));

/** Every image reference this run made, removed at the end whatever happened. */
const images = new Set();
/** docker with this run's own client config (a `docker login` here never touches the user's). */
const docker = (args, options = {}) => exec('docker', args, { ...options, env: { DOCKER_CONFIG: path.join(work, 'docker'), ...options.env } });

/**
 * A registry started afresh for a round, on a free port with an empty directory of its own,
 * and stopped by its pid; `launch` gives its command for that port and directory.
 */
function registry(name, { readyPath, launch, afterStop = async () => undefined }) {
  let current;
  return {
    name,
    async start(round) {
      const port = await freePort();
      const dir = path.join(work, `${name}-${round}`);
      mkdirSync(dir);
      const log = `${dir}.log`;
      const { command, args, env } = launch({ port, dir, round });
      const proc = startProcess(command, args, { env, log: openSync(log, 'a') });
      current = { proc, dir };
      await waitReady(name, `http://127.0.0.1:${port}${readyPath}`, proc, log);
      return { host: `127.0.0.1:${port}`, pid: proc.pid };
    },
    async stop() {
      if (!current) return;
      await current.proc.stop();
      rmSync(current.dir, { recursive: true, force: true });
      current = undefined;
      await afterStop();
    },
  };
}

/**
 * Our registry-service as `npm run up` starts it (serviceEnv), but on its own port, PAAS_HOME
 * (blobs under data/registry), database prefix and bus prefix. Auth RPCs (`paas.rpc.auth.*`,
 * the token keys) are answered by the platform's gateway through `bridgeAuth`.
 */
const ourRegistry = () => registry('ours', {
  readyPath: '/readyz',
  launch: ({ port, dir, round }) => {
    const profile = CPU_PROFILE_DIR
      ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROFILE_DIR}`, `--cpu-prof-name=ours-${run}-${round}.cpuprofile`,
          // Nest re-raises SIGTERM after its shutdown, which skips writing the profile: exit first.
          `--import=data:text/javascript,process.once('SIGTERM',()=>process.exit(0))`]
      : [];
    const env = {
      // Any free admin port: the platform's replicas own 5001 + 100 × i.
      ...process.env, ...serviceEnv, PORT: `${port}`, PAAS_ADMIN_PORT: '0', PAAS_HOME: dir, REGISTRY_HOST: `127.0.0.1:${port}`,
      PAAS_BUS_PREFIX: run, PAAS_DB_PREFIX: run, LOG_LEVEL: 'warn',
    };
    return { command: process.execPath, args: [...profile, OUR_MAIN], env };
  },
  afterStop: dropDatabase,
});

/** Debian's docker-registry with filesystem storage in a temporary directory, no auth. */
const distribution = () => registry('Distribution', {
  readyPath: '/v2/',
  launch: ({ port, dir }) => {
    const config = path.join(dir, 'config.yml');
    writeFileSync(config, [
      'version: 0.1',
      'log:',
      '  level: warn',
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${path.join(dir, 'data')}`,
      '  delete:',
      '    enabled: true',
      '  cache:', // as in Debian's /etc/docker/registry/config.yml
      '    blobdescriptor: inmemory',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '',
    ].join('\n'));
    return { command: 'docker-registry', args: ['serve', config], env: process.env };
  },
});

async function dropDatabase() {
  const connection = await mongoose.createConnection(serviceEnv.MONGO_URL, { dbName: databaseName('paas_registry', run) }).asPromise();
  await connection.dropDatabase();
  await connection.close();
}

/** Forwards our instance's `<run>.paas.rpc.auth.*` requests to the platform's `paas.rpc.auth.*`. */
function bridgeAuth(nats) {
  const subscription = nats.subscribe(`${run}.${RPC_SUBJECT_PREFIX}.auth.>`, {
    callback: (error, message) => {
      if (error) return;
      nats.request(message.subject.slice(run.length + 1), message.data, { timeout: 10_000, headers: message.headers })
        .then((reply) => message.respond(reply.data, { headers: reply.headers }))
        .catch(() => undefined); // the requester times out as it would without a gateway
    },
  });
  return subscription;
}

// ---- auth: taken only when a registry answers 401 with a Bearer challenge --------------

const adminPassword = () => readFileSync(path.join(PAAS_HOME, 'secrets', 'admin-password'), 'utf8').trim();
const basicAdmin = () => `Basic ${Buffer.from(`admin:${adminPassword()}`).toString('base64')}`;

/** The Bearer challenge of the registry's `/v2/`, or undefined when it needs none. */
async function challengeOf(host) {
  const res = await fetch(`http://${host}/v2/`);
  await res.arrayBuffer();
  const header = res.headers.get('www-authenticate') ?? '';
  if (res.status !== 401 || !/^Bearer\s/i.test(header)) return undefined;
  return Object.fromEntries([...header.matchAll(/(\w+)="([^"]*)"/g)].map(([, key, value]) => [key, value]));
}

/** Request headers that let us push and pull `repository` (none when the registry is open). */
async function authHeaders({ host, challenge }, repository) {
  if (!challenge) return {};
  const url = new URL(challenge.realm);
  if (challenge.service) url.searchParams.set('service', challenge.service);
  url.searchParams.set('scope', `repository:${repository}:pull,push`);
  const res = await fetch(url, { headers: { authorization: basicAdmin() } }).catch((error) => {
    throw new Error(`${host} wants a token, but ${url.origin} cannot be reached (${error.cause?.code ?? error.message}): is the platform up?`);
  });
  if (!res.ok) {
    throw new Error(`${host} wants a token, but ${url.origin}${url.pathname} answered ${res.status} ${await res.text()}` +
      ' (to bench without auth: REGISTRY_AUTH=none node bench/registry.mjs)');
  }
  const body = await res.json();
  return { authorization: `Bearer ${body.token ?? body.access_token}` };
}

async function dockerLogin({ host, challenge }) {
  if (challenge) await docker(['login', '--username', 'admin', '--password-stdin', host], { input: adminPassword() });
}

// ---- the work ---------------------------------------------------------------------------

function writeRandomFile(file, bytes) {
  const chunk = 4 * MB;
  const fd = openSync(file, 'w');
  for (let written = 0; written < bytes; written += chunk) writeFileSync(fd, randomBytes(Math.min(chunk, bytes - written)));
  return file;
}

function sha256OfFile(file) {
  return `sha256:${spawnSync('sha256sum', [file], { encoding: 'utf8' }).stdout.split(' ')[0]}`;
}

/** curl with `headers` (a token) given through its config on stdin, not on the command line. */
function curl(args, headers) {
  const config = Object.entries(headers).map(([name, value]) => `header = "${name}: ${value}"\n`).join('');
  return exec('curl', ['--silent', '--show-error', '--config', '-', ...args], { input: config });
}

/**
 * POST an upload session, then PUT the whole blob into it from `file`. Both raw rows use curl
 * as the client: a Node client spends ~0.1 s on 100 MB by itself, which would hide much of
 * the difference between the servers.
 */
async function uploadBlob(host, repository, file, digest, headers) {
  const base = `http://${host}`;
  const started = await fetch(`${base}/v2/${repository}/blobs/uploads/`, { method: 'POST', headers });
  if (started.status !== 202) throw new Error(`POST upload on ${host}: ${started.status} ${await started.text()}`);
  await started.arrayBuffer();
  const location = new URL(started.headers.get('location'), base);
  location.searchParams.set('digest', digest);
  const answer = path.join(work, 'put-answer');
  const status = await curl(['--upload-file', file, '--header', 'content-type: application/octet-stream', '--header', 'expect:',
    '--output', answer, '--write-out', '%{http_code}', location.href], headers);
  if (status !== '201') throw new Error(`PUT upload on ${host}: ${status} ${readFileSync(answer, 'utf8')}`);
}

/** GET of the blob into /dev/null. */
async function downloadBlob(host, repository, digest, headers, size) {
  const out = await curl(['--output', '/dev/null', '--write-out', '%{http_code} %{size_download}', `http://${host}/v2/${repository}/blobs/${digest}`], headers);
  const [status, bytes] = out.split(' ').map(Number);
  if (status !== 200 || bytes !== size) throw new Error(`GET blob on ${host}: ${status}, ${bytes} of ${size} bytes`);
}

/** A new image of LAYERS fresh random layers on the base image; its compressed size is learnt at push. */
async function buildImage(base, round) {
  const context = path.join(work, `image-${round}`);
  mkdirSync(context);
  const layers = Array.from({ length: LAYERS }, (_, i) => writeRandomFile(path.join(context, `layer-${i + 1}`), LAYER_BYTES));
  writeFileSync(path.join(context, 'Dockerfile'), [
    `FROM ${base}`,
    `LABEL ${LABEL}`,
    ...layers.map((file) => `COPY ${path.basename(file)} /${path.basename(file)}`),
    '',
  ].join('\n'));
  const tag = `bench-registry/image:${run}-${round}`;
  images.add(tag);
  await docker(['build', '--quiet', '--force-rm', '--tag', tag, context], { env: { DOCKER_BUILDKIT: '0' } });
  rmSync(context, { recursive: true, force: true });
  return tag;
}

async function buildBaseImage() {
  const root = path.join(work, 'rootfs');
  mkdirSync(root);
  writeFileSync(path.join(root, 'README'), 'paas registry bench base image\n');
  const tar = spawnSync('tar', ['-C', root, '-cf', '-', '.'], { maxBuffer: 16 * MB }).stdout;
  const tag = `bench-registry/base:${run}`;
  images.add(tag);
  await docker(['import', '--change', `LABEL ${LABEL}`, '-', tag], { input: tar });
  return tag;
}

/** Compressed bytes of the image's layers and config, read from the registry's manifest. */
async function imageBytes(host, repository, reference, headers) {
  const res = await fetch(`http://${host}/v2/${repository}/manifests/${reference}`, {
    headers: { ...headers, accept: 'application/vnd.docker.distribution.manifest.v2+json' },
  });
  const manifest = await res.json();
  return manifest.config.size + manifest.layers.reduce((sum, layer) => sum + layer.size, 0);
}

/** Runs `task`, timing it and the CPU the registry process spent meanwhile. */
async function measure(registry, task) {
  spawnSync('sync'); // earlier writes are not flushed on this measurement's time
  const cpuBefore = cpuSeconds(registry.pid);
  const started = process.hrtime.bigint();
  await task();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return { seconds, cpu: cpuSeconds(registry.pid) - cpuBefore };
}

/**
 * A fresh process serves its first requests slowly (a JIT compiler, lazy loading): one
 * untimed upload and download of a smaller blob in another repository first, so that each
 * row measures a registry in its stride, as a long-running one is.
 */
async function warmUp(targets, index) {
  const file = writeRandomFile(path.join(work, `warm-up-${index}`), 16 * MB);
  const digest = sha256OfFile(file);
  for (const target of targets) {
    const headers = await authHeaders(target, 'warm-up/blob');
    await uploadBlob(target.host, 'warm-up/blob', file, digest, headers);
    await downloadBlob(target.host, 'warm-up/blob', digest, headers, 16 * MB);
  }
  rmSync(file);
}

const ROWS = ['upload', 'download', 'push', 'pull'];
const results = { ours: Object.fromEntries(ROWS.map((row) => [row, []])), Distribution: Object.fromEntries(ROWS.map((row) => [row, []])) };
let pushedBytes = 0;
/** The registries that asked for Docker tokens. */
const tokenAuth = new Set();

async function round(index, registries, baseImage) {
  // Even rounds ours first, odd rounds Distribution first.
  const order = index % 2 === 0 ? registries : [...registries].reverse();
  const running = new Map();
  for (const registry of order) {
    const target = await registry.start(index);
    target.challenge = await challengeOf(target.host);
    if (target.challenge) tokenAuth.add(registry.name);
    running.set(registry, target);
  }
  await warmUp([...running.values()], index);
  const record = (registry, row, value) => results[registry.name][row].push(value);
  const blobRepository = 'bench/blob';
  const imageRepository = 'bench/image';

  const blob = writeRandomFile(path.join(work, `blob-${index}`), BLOB_BYTES);
  const digest = sha256OfFile(blob);
  for (const registry of order) {
    const target = running.get(registry);
    const headers = await authHeaders(target, blobRepository);
    record(registry, 'upload', await measure(target, () => uploadBlob(target.host, blobRepository, blob, digest, headers)));
  }
  rmSync(blob);
  for (const registry of order) {
    const target = running.get(registry);
    const headers = await authHeaders(target, blobRepository);
    record(registry, 'download', await measure(target, () => downloadBlob(target.host, blobRepository, digest, headers, BLOB_BYTES)));
  }

  const local = await buildImage(baseImage, index);
  const remote = (registry) => `${running.get(registry).host}/${imageRepository}:r${index}`;
  for (const registry of order) {
    const target = running.get(registry);
    await dockerLogin(target);
    images.add(remote(registry));
    await docker(['tag', local, remote(registry)]);
    record(registry, 'push', await measure(target, () => docker(['push', remote(registry)])));
  }
  const distributionTarget = running.get(registries.find((registry) => registry.name === 'Distribution'));
  pushedBytes = await imageBytes(distributionTarget.host, imageRepository, `r${index}`, {});
  // Nothing of the image may stay in the engine, or the pull finds its layers already there
  // (the base image stays: its one small layer is not part of the work).
  await docker(['rmi', local, ...order.map(remote)]);
  for (const registry of order) {
    const target = running.get(registry);
    record(registry, 'pull', await measure(target, () => docker(['pull', '--quiet', remote(registry)])));
    await docker(['rmi', remote(registry)]);
  }
  for (const registry of order) await registry.stop();

  const line = ROWS.map((row) => `${row} ${results.ours[row][index].seconds.toFixed(2)}/${results.Distribution[row][index].seconds.toFixed(2)} s`);
  process.stderr.write(`round ${index + 1}/${ROUNDS} (ours/Distribution): ${line.join(', ')}\n`);
}

let cleaning;
/** Stops both registries, removes this run's images, stream and temporary files; once, even when interrupted. */
function cleanUp(registries, nats) {
  cleaning ??= (async () => {
    for (const registry of registries) await registry.stop().catch((error) => process.stderr.write(`stopping ${registry.name}: ${error.message}\n`));
    for (const image of images) await docker(['rmi', '-f', image]).catch(() => undefined);
    const jsm = await nats.jetstreamManager();
    await jsm.streams.delete(busNames(run).stream).catch(() => undefined);
    await nats.close();
    rmSync(work, { recursive: true, force: true });
  })();
  return cleaning;
}

if (!existsSync(OUR_MAIN)) throw new Error(`${OUR_MAIN} is not built: npm run up first`);
ensureAptPackages({ 'docker-registry': 'docker-registry' });
if (CPU_PROFILE_DIR) mkdirSync(CPU_PROFILE_DIR, { recursive: true });
mkdirSync(path.join(work, 'docker'));
const registries = [ourRegistry(), distribution()];
const nats = await connect({ ...busConnectionOptions('bench-registry'), servers: serviceEnv.NATS_URL.split(',') });
bridgeAuth(nats);
process.once('SIGINT', () => void cleanUp(registries, nats).finally(() => process.exit(130)));
try {
  const baseImage = await buildBaseImage();
  for (let index = 0; index < ROUNDS; index++) await round(index, registries, baseImage);
} finally {
  await cleanUp(registries, nats);
}

// ---- report -----------------------------------------------------------------------------

const rowBytes = { upload: BLOB_BYTES, download: BLOB_BYTES, push: pushedBytes, pull: pushedBytes };
const rowNames = {
  upload: `blob upload ${BLOB_BYTES / MB} MB (POST+PUT)`,
  download: `blob download ${BLOB_BYTES / MB} MB (GET)`,
  push: `docker push ${LAYERS}×${LAYER_BYTES / MB} MB (${(pushedBytes / MB).toFixed(0)} MB gz)`,
  pull: 'docker pull of that image',
};
const cell = (row, name) => {
  const seconds = median(results[name][row].map((m) => m.seconds));
  return `${seconds.toFixed(2)} s ${(rowBytes[row] / MB / seconds).toFixed(0).padStart(5)} MB/s`;
};
const ratio = (row) => median(results.ours[row].map((m) => m.seconds)) / median(results.Distribution[row].map((m) => m.seconds));
const cpu = (row, name) => median(results[name][row].map((m) => m.cpu)).toFixed(2);
const authOf = (name) => (tokenAuth.has(name) ? 'Docker token auth' : 'no auth');
console.log(`registry-service vs Distribution ${spawnSync('docker-registry', ['--version'], { encoding: 'utf8' }).stdout.trim().split(' ').pop()}, median of ${ROUNDS} rounds (MB = 2^20 bytes)`);
console.log(`  ours: ${authOf('ours')}, Distribution: ${authOf('Distribution')}; both start empty each round`);
console.log(`  ${'row'.padEnd(40)} ${'ours'.padEnd(18)} ${'Distribution'.padEnd(18)} ours/Dist.  CPU s ours / Dist.`);
for (const row of ROWS) {
  console.log(`  ${rowNames[row].padEnd(40)} ${cell(row, 'ours').padEnd(18)} ${cell(row, 'Distribution').padEnd(18)} ${ratio(row).toFixed(2).padStart(10)}  ${cpu(row, 'ours').padStart(6)} / ${cpu(row, 'Distribution')}`);
}
