#!/usr/bin/env node
// The api-gateway's authenticated list calls before and after the security work (login
// throttling, token lifetimes and last-use, the body checks, security headers and CORS), in
// the same run, under the same wrk load: the gateway of a baseline commit beside the one built
// from this tree. A Bearer token must cost no more than before (tokens are never throttled);
// Basic with a password already checked now asks the database whether the user or the address
// is in a login penalty, and that row shows what it costs.
//
// The baseline is built once from `git archive` of that commit (nothing in the repository or
// its work trees changes) into <PAAS_HOME>/bench/api-gateway-<commit>/, its own @paas/*
// libraries linked in, the repository's other packages shared. Both gateways run as
// `npm run up` runs the platform's (serviceEnv: Mongo, NATS, tracing to Zipkin), each on its
// own port, PAAS_HOME, bus prefix and database prefix, with the same data: a user `bench`
// who is admin of namespace `bench`, which holds 21 role bindings. The call is
// `GET /api/v1/namespaces/bench/rolebindings`: authentication, authorization (the caller's
// role there) and the list, all in the gateway. Rounds alternate which gateway goes first.
//
// Usage: npm run up && node bench/gateway.mjs [rounds=5]
//   BENCH_BASELINE=<git ref>  the gateway to compare with (default: 24918e9, main as last merged into the security
//                             work, so the work is the only difference; right after merging it, HEAD^1 is the same)
//   BENCH_SECONDS=<n>         wrk's duration per row, gateway and round (default 10; 2 with BENCH_SMOKE=1)
// BENCH_SMOKE=1 (npm test): one short round that proves the bench runs; its figures are not for the table.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { busNames } from '@paas/platform/bus-names';
import { databaseName } from '@paas/platform/mongo';
import mongoose from 'mongoose';
import { connect } from 'nats';
import { PAAS_HOME, REPO, bin, serviceEnv, services } from '../scripts/lib/config.mjs';
import { benchAndWrkSeconds, cpuSeconds, ensureAptPackages, exec, freePort, machineBusySeconds, median, startPrivateNats, startProcess, waitReady } from './lib/processes.mjs';
import { parseWrk } from './lib/wrk.mjs';

const ROUNDS = Number(process.argv[2] ?? 5);
const SMOKE = process.env.BENCH_SMOKE === '1';
const SECONDS = Number(process.env.BENCH_SECONDS ?? (SMOKE ? 2 : 10));
const WARM_UP_SECONDS = SMOKE ? 1 : 3;
/** One Node process answers: a few connections keep it busy without queueing for nothing. */
const CONNECTIONS = 16;
const BASELINE = process.env.BENCH_BASELINE ?? '24918e9';
const CURRENT_MAIN = services.find((service) => service.name === 'api-gateway').main;
const LIST_PATH = '/api/v1/namespaces/bench/rolebindings';
const EXTRA_BINDINGS = 20;
const run = `bench-gw-${Date.now().toString(36)}`;
const work = mkdtempSync(path.join(tmpdir(), 'paas-bench-gateway-'));
const adminPassword = randomBytes(18).toString('base64url');
const benchPassword = randomBytes(18).toString('base64url');
const processes = [];

/** The gateway of `ref`, built once into <PAAS_HOME>/bench/ from `git archive` (the repository is left as it is). */
async function baselineGateway(ref) {
  const sha = (await exec('git', ['-C', REPO, 'rev-parse', '--verify', `${ref}^{commit}`])).trim();
  const dir = path.join(PAAS_HOME, 'bench', `api-gateway-${sha.slice(0, 12)}`);
  const main = path.join(dir, 'apps', 'api-gateway', 'dist', 'main.js');
  if (existsSync(main)) return { sha, main };
  process.stderr.write(`building the gateway of ${sha.slice(0, 12)} into ${dir}\n`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(path.join(dir, 'node_modules', '@paas'), { recursive: true });
  const archive = spawnSync('git', ['-C', REPO, 'archive', sha, 'tsconfig.base.json', 'libs/contracts', 'libs/platform', 'apps/api-gateway'], { maxBuffer: 512 << 20 });
  if (archive.status !== 0) throw new Error(`git archive ${sha}: ${archive.stderr}`);
  const untar = spawnSync('tar', ['-x', '-C', dir], { input: archive.stdout });
  if (untar.status !== 0) throw new Error(`tar: ${untar.stderr}`);
  // The repository's packages, except our own libraries, which come from that commit.
  for (const entry of readdirSync(path.join(REPO, 'node_modules'))) {
    if (entry !== '@paas' && entry !== '.bin') symlinkSync(path.join(REPO, 'node_modules', entry), path.join(dir, 'node_modules', entry));
  }
  for (const lib of ['contracts', 'platform']) symlinkSync(path.join(dir, 'libs', lib), path.join(dir, 'node_modules', '@paas', lib));
  await exec(bin('tsc'), ['-b', path.join(dir, 'apps', 'api-gateway', 'tsconfig.app.json')]);
  return { sha, main };
}

/** A gateway process on its own port, PAAS_HOME, bus and database, stopped by its pid at the end. */
async function startGateway(name, main) {
  const port = await freePort();
  const prefix = `${run}-${name}`;
  const home = path.join(work, name);
  mkdirSync(home);
  const log = `${home}.log`;
  const env = {
    ...process.env, ...serviceEnv, NATS_URL: privateNats.url, NATS_NKEY_FILE: '', PORT: `${port}`, PAAS_HOME: home, PAAS_ADMIN_PASSWORD: adminPassword,
    PAAS_BUS_PREFIX: prefix, PAAS_DB_PREFIX: prefix, LOG_LEVEL: 'warn',
  };
  const proc = startProcess(process.execPath, [main], { env, log: openSync(log, 'a') });
  processes.push(proc);
  await waitReady(name, `http://127.0.0.1:${port}/readyz`, proc, log);
  return { name, port, pid: proc.pid, prefix, log };
}

const basic = (user, password) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

async function call(gateway, method, urlPath, authorization, body) {
  const res = await fetch(`http://127.0.0.1:${gateway.port}${urlPath}`, {
    method,
    headers: { authorization, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body && JSON.stringify(body),
  });
  const answer = await res.json();
  if (!res.ok) throw new Error(`${gateway.name}: ${method} ${urlPath} answered ${res.status} ${JSON.stringify(answer)}`);
  return answer;
}

/** User `bench`, admin of namespace `bench` with 21 role bindings, and a Bearer token of theirs. */
async function seed(gateway) {
  const admin = basic('admin', adminPassword);
  const user = basic('bench', benchPassword);
  await call(gateway, 'POST', '/api/v1/users', admin, { metadata: { name: 'bench' }, password: benchPassword });
  await call(gateway, 'POST', '/api/v1/namespaces', user, { metadata: { name: 'bench' } });
  for (let i = 0; i < EXTRA_BINDINGS; i++) {
    await call(gateway, 'POST', '/api/v1/namespaces/bench/rolebindings', user, { metadata: { name: `viewers-${i}` }, roleRef: { name: 'view' }, subjects: [{ kind: 'User', name: `someone-${i}` }] });
  }
  const { token } = await call(gateway, 'POST', '/api/v1/tokens', user, {});
  const listed = await call(gateway, 'GET', LIST_PATH, `Bearer ${token}`);
  if (listed.items.length !== EXTRA_BINDINGS + 1) throw new Error(`${gateway.name}: the list has ${listed.items.length} items`);
  gateway.authorization = { bearer: `Bearer ${token}`, basic: user };
}

/** The FerretDB (or mongod) process serving MONGO_URL's port, to count the database's part of each call; 0 when not found. */
function databasePid() {
  const port = new URL(serviceEnv.MONGO_URL).port || '27017';
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    const command = (() => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      } catch {
        return [];
      }
    })();
    if (/(ferretdb|mongod)$/.test(command[0] ?? '') && command.some((arg) => arg.endsWith(`:${port}`))) return Number(pid);
  }
  return 0;
}
const DATABASE_PID = databasePid();

/**
 * One wrk run of the list call with `authorization`: the CPU the gateway and the database
 * spent per request, and the load of everything else on the machine meanwhile, in cores.
 */
async function measure(gateway, row, seconds) {
  const cpu = () => ({ gateway: cpuSeconds(gateway.pid), database: DATABASE_PID ? cpuSeconds(DATABASE_PID) : 0, bench: benchAndWrkSeconds(), machine: machineBusySeconds() });
  const before = cpu();
  const started = process.hrtime.bigint();
  const out = await exec('wrk', ['-t', '1', '-c', `${CONNECTIONS}`, '-d', `${seconds}s`, '--latency', '-H', `Authorization: ${gateway.authorization[row]}`, `http://127.0.0.1:${gateway.port}${LIST_PATH}`]);
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  const after = cpu();
  const spent = (key) => after[key] - before[key];
  const result = parseWrk(out);
  if (result.errors) {
    const log = readFileSync(gateway.log, 'utf8').trim().split('\n').slice(-3).join('\n');
    process.stderr.write(`${gateway.name} ${row}: ${out.split('\n').filter((line) => /Non-2xx|Socket errors/.test(line)).join('; ')}; the end of its log:\n${log}\n`);
  }
  return {
    ...result,
    cpuMicros: (spent('gateway') * 1e6) / result.requests,
    databaseMicros: (spent('database') * 1e6) / result.requests,
    otherCores: Math.max(0, spent('machine') - spent('gateway') - spent('database') - spent('bench')) / wall,
  };
}

let cleaning;
/** Stops both gateways, drops their databases and streams, removes the temporary files; once, even when interrupted. */
function cleanUp(nats, gateways) {
  cleaning ??= (async () => {
    for (const proc of processes) await proc.stop().catch((error) => process.stderr.write(`stopping ${proc.pid}: ${error.message}\n`));
    const jsm = await nats.jetstreamManager();
    const mongo = await mongoose.createConnection(serviceEnv.MONGO_URL).asPromise();
    for (const { prefix } of gateways) {
      await jsm.streams.delete(busNames(prefix).stream).catch(() => undefined);
      await mongo.useDb(databaseName('paas_gateway', prefix)).dropDatabase();
    }
    await mongo.close();
    await nats.close();
    await privateNats.proc.stop();
    rmSync(work, { recursive: true, force: true });
  })();
  return cleaning;
}

if (!existsSync(CURRENT_MAIN)) throw new Error(`${CURRENT_MAIN} is not built: npm run up (or npx nx run api-gateway:build) first`);
/** The newest modification time of the files under `dir` (of the repository) whose names pass `keep`. */
const newest = (dir, keep) => Math.max(0, ...readdirSync(path.join(REPO, dir), { recursive: true }).filter(keep).map((file) => statSync(path.join(REPO, dir, file)).mtimeMs));
const isSource = (file) => file.endsWith('.ts') && !file.endsWith('.spec.ts');
const newestSource = Math.max(...['apps/api-gateway/src', 'libs/platform/src', 'libs/contracts/src'].map((dir) => newest(dir, isSource)));
const newestBuild = Math.min(...['apps/api-gateway/dist', 'libs/platform/dist', 'libs/contracts/dist'].map((dir) => newest(dir, (file) => file.endsWith('.js'))));
if (newestSource > newestBuild) throw new Error('the gateway or its libraries changed since they were built: npx nx run-many -t build first');
ensureAptPackages({ wrk: 'wrk' });
/** The baseline commit; a shallow clone may lack it: a smoke run then compares HEAD with itself (and says so), a real run stops. */
async function resolveBaseline() {
  const known = spawnSync('git', ['-C', REPO, 'rev-parse', '--verify', '--quiet', `${BASELINE}^{commit}`]).status === 0;
  if (known) return BASELINE;
  if (!SMOKE) throw new Error(`the baseline ${BASELINE} is not in this clone (a shallow one?): fetch it, or name another with BENCH_BASELINE`);
  process.stderr.write(`the baseline ${BASELINE} is not in this clone: this smoke run compares HEAD with itself\n`);
  return 'HEAD';
}
const baselineRef = await resolveBaseline();
const baseline = await baselineGateway(baselineRef);
const currentSha = (await exec('git', ['-C', REPO, 'rev-parse', 'HEAD'])).trim();
const dirty = (await exec('git', ['-C', REPO, 'status', '--porcelain', '--untracked-files=no'])) !== '';
// Both gateways on a NATS of the bench's own: the baseline's knows nothing of the platform's credentials.
const privateNats = await startPrivateNats(path.join(work, 'nats'));
const nats = await connect({ servers: privateNats.url });
const gateways = [];
process.once('SIGINT', () => void cleanUp(nats, gateways).finally(() => process.exit(130)));
const ROWS = ['bearer', 'basic'];
const results = { before: { bearer: [], basic: [] }, after: { bearer: [], basic: [] } };
try {
  gateways.push(await startGateway('before', baseline.main), await startGateway('after', CURRENT_MAIN));
  for (const gateway of gateways) await seed(gateway);
  // A fresh process serves its first requests slowly (JIT, lazy loading): an untimed run of each row first.
  for (const gateway of gateways) for (const row of ROWS) await measure(gateway, row, WARM_UP_SECONDS);
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? gateways : [...gateways].reverse();
    for (const row of ROWS) for (const gateway of order) results[gateway.name][row].push(await measure(gateway, row, SECONDS));
    const line = ROWS.map((row) => `${row} ${Math.round(results.before[row][round].rps)} → ${Math.round(results.after[row][round].rps)}`).join(', ');
    const other = Math.max(...Object.values(results).flatMap((rows) => ROWS.map((row) => rows[row][round].otherCores)));
    process.stderr.write(`round ${round + 1}/${ROUNDS}, req/s before → after: ${line} (other load up to ${other.toFixed(2)} cores)\n`);
  }
} finally {
  await cleanUp(nats, gateways);
}

// ---- report -----------------------------------------------------------------------------

const stat = (name, row, key) => median(results[name][row].map((result) => result[key]));
const rowNames = { bearer: 'Bearer token', basic: 'Basic, checked password' };
const cell = (name, row) =>
  `${stat(name, row, 'rps').toFixed(0)} req/s, p50 ${stat(name, row, 'p50').toFixed(2)} ms, p99 ${stat(name, row, 'p99').toFixed(2)} ms, ` +
  `CPU/req gateway ${stat(name, row, 'cpuMicros').toFixed(0)} µs + database ${stat(name, row, 'databaseMicros').toFixed(0)} µs, other load ${stat(name, row, 'otherCores').toFixed(2)} cores`;
console.log(`api-gateway GET ${LIST_PATH} (${EXTRA_BINDINGS + 1} items): wrk -t1 -c${CONNECTIONS} -d${SECONDS}s --latency, median of ${ROUNDS} rounds, order alternating; Node ${process.version}`);
console.log(`  before: ${baseline.sha.slice(0, 12)} (${baselineRef === BASELINE ? `BENCH_BASELINE=${BASELINE}` : `${BASELINE} is not in this clone: HEAD`}); after: ${currentSha.slice(0, 12)}${dirty ? ' with uncommitted changes' : ''}`);
for (const row of ROWS) {
  console.log(`  ${rowNames[row].padEnd(24)} before ${cell('before', row)}`);
  console.log(`  ${''.padEnd(24)} after  ${cell('after', row)}`);
  console.log(`  ${''.padEnd(24)} after/before: req/s ${(stat('after', row, 'rps') / stat('before', row, 'rps')).toFixed(2)}, CPU per request ${(stat('after', row, 'cpuMicros') / stat('before', row, 'cpuMicros')).toFixed(2)}`);
}
console.log(`  CPU/req: user+system time (/proc/<pid>/stat) over the run ÷ requests, of the gateway and of ${DATABASE_PID ? 'the database server' : 'the database server (not found: 0)'};`);
console.log('  other load: CPU used meanwhile by neither the gateway, the database, wrk nor the bench (other work on the machine), in cores of the machine.');
const busy = Object.values(results).flatMap((rows) => Object.values(rows).flat()).filter((result) => result.otherCores > 0.2).length;
if (busy) console.log(`NOTE: ${busy} runs had other work on the machine (> 0.2 cores): req/s and latency suffer first, CPU per request less`);
const errors = Object.values(results).flatMap((rows) => Object.values(rows).flat()).reduce((sum, result) => sum + result.errors, 0);
if (errors) console.log(`WARNING: ${errors} answers were errors (non-2xx or socket errors): the figures are suspect`);
