#!/usr/bin/env node
// The router's data plane beside Debian's HAProxy and a bare @fastify/http-proxy, on the same
// machine in the same run, under the same wrk load (64 keep-alive connections, 2 threads):
//   backend      one of the two Node backends, directly (what the machine can do without a proxy)
//   HAProxy      Debian's, minimal: one frontend, roundrobin over both backends, nbthread 1, no log
//   fastify      a bare @fastify/http-proxy of ten lines, round-robin over both backends
//   node floor   node:http and an undici Pool per backend, nothing else: what any Node proxy costs
//   router 1000  our router (apps/router/dist/main.js) with 1,000 routes, the measured host one of them
//   router 10    the same with 10 routes: the table's size must not change the per-request cost
// Every Node process runs on the Node the platform's services run on (`npm run up` installs it).
// Prints req/s, p50/p99 latency and the CPU µs the process under test (the proxy; the backend
// for the direct row) spends per request, medians over the rounds, and the ratios to HAProxy
// and to the bare proxy. The order of the targets rotates every round. Beside them: the CPU
// the platform's Zipkin spent per request (spans exported), and the load of other processes
// on the machine during each run, so that a run disturbed by other work shows.
//
// Each router is a private instance with its own ports, PAAS_HOME, bus prefix and database
// prefix, started as `npm run up` starts the platform's (serviceEnv: tracing to Zipkin, Mongo,
// NATS). Its table comes the way a real one does: routes through `routes.create` over NATS,
// endpoints as the deploy-service publishes them (`endpoints.changed` events, and the
// `endpoints.list` answer the router resyncs from), played here by the bench.
//
// Usage: npm run up && npx nx run router:build && node bench/router.mjs [rounds=5]
//   BENCH_SECONDS=<n>     wrk's duration per target and round (default 10; 2 with BENCH_SMOKE=1)
//   BENCH_CPU_PROF=<dir>  also write a V8 CPU profile of each router instance into <dir>
//                         (profiling slows the routers: such a run's figures are not for the table)
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { busNames } from '@paas/platform/bus-names';
import { busConnectionOptions } from '@paas/platform/bus-settings';
import { databaseName } from '@paas/platform/mongo';
import mongoose from 'mongoose';
import { connect } from 'nats';
import { artifacts, dirs, REPO, serviceEnv, services } from '../scripts/lib/config.mjs';
import { benchAndWrkSeconds, cpuSeconds, ensureAptPackages, exec, freePort, machineBusySeconds, median, sleep, startProcess, waitReady, asBusOperator } from './lib/processes.mjs';
import { routerStatus } from './lib/platform-api.mjs';
import { parseWrk } from './lib/wrk.mjs';

asBusOperator();

const ROUNDS = Number(process.argv[2] ?? 5);
// BENCH_SMOKE=1 (npm test): one short round that proves the bench runs; its figures are not for the table.
const SMOKE = process.env.BENCH_SMOKE === '1';
const SECONDS = Number(process.env.BENCH_SECONDS ?? (SMOKE ? 2 : 10));
const WARM_UP_SECONDS = SMOKE ? 1 : 3;
const CONNECTIONS = 64;
const THREADS = 2;
const ROUTES_PER_NAMESPACE = 20;
const CPU_PROFILE_DIR = process.env.BENCH_CPU_PROF && path.resolve(process.env.BENCH_CPU_PROF);
const ROUTER_MAIN = services.find((service) => service.name === 'router').main;
const NODE = artifacts.node;
const run = `bench-router-${Date.now().toString(36)}`;
const work = mkdtempSync(path.join(tmpdir(), 'paas-bench-router-'));

/** A backend: node:http answering a fixed 27-byte body, keeping connections alive. */
const BACKEND = `
const body = Buffer.from('hello from a bench backend\\n');
const server = require('node:http').createServer((request, response) => {
  response.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
  response.end(body);
});
server.keepAliveTimeout = 120_000;
server.listen(Number(process.env.PORT), '127.0.0.1');
`;

/**
 * The bare proxy: @fastify/http-proxy as its README shows it, with the one change the others
 * have too, round-robin over both backends (`getUpstream`, as the router does it; an array
 * `upstream` answers 500).
 */
const BARE_FASTIFY_PROXY = `
const app = require('fastify')({ logger: false });
const upstreams = process.env.UPSTREAMS.split(' ');
let next = 0;
app.register(require('@fastify/http-proxy'), {
  upstream: '',
  replyOptions: { getUpstream: () => upstreams[next++ % upstreams.length] },
});
app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' });
`;

/**
 * The floor of a Node proxy: node:http's server, an undici Pool per backend, round-robin, the
 * answer streamed back; no framework, no route table, no header rewriting. What the machine
 * gives a proxy written in Node before any of the router's work.
 */
const NODE_FLOOR_PROXY = `
const { Pool } = require('undici');
const pools = process.env.UPSTREAMS.split(' ').map((origin) => new Pool(origin, { connections: 64 }));
let next = 0;
require('node:http').createServer((request, response) => {
  pools[next++ % pools.length].dispatch({ method: request.method, path: request.url, headers: request.headers }, {
    onConnect() {},
    onError() { if (!response.headersSent) response.writeHead(502); response.end(); },
    onHeaders(status, raw) {
      const headers = {};
      for (let i = 0; i < raw.length; i += 2) headers[raw[i].toString()] = raw[i + 1].toString();
      response.writeHead(status, headers);
      return true;
    },
    onData(chunk) { return response.write(chunk); },
    onComplete() { response.end(); },
  });
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

const haproxyConfig = (port, backendPorts) => [
  'global',
  '  nbthread 1',
  '  maxconn 4096',
  'defaults',
  '  mode http',
  '  option http-keep-alive',
  '  timeout connect 5s',
  '  timeout client 60s',
  '  timeout server 60s',
  'frontend bench',
  `  bind 127.0.0.1:${port}`,
  '  default_backend backends',
  'backend backends',
  '  balance roundrobin',
  ...backendPorts.map((backendPort, i) => `  server b${i + 1} 127.0.0.1:${backendPort}`),
  '',
].join('\n');

/** Every process this run started, stopped at the end by its pid. */
const processes = [];

async function launch(name, command, args, { env = process.env, readyUrl }) {
  const log = path.join(work, `${name.replace(/\W+/g, '-')}.log`);
  const proc = startProcess(command, args, { env, cwd: REPO, log: openSync(log, 'a') });
  processes.push(proc);
  await waitReady(name, readyUrl, proc, log);
  return proc;
}

async function startBackend(index) {
  const port = await freePort();
  const proc = await launch(`backend-${index}`, NODE, ['-e', BACKEND], { env: { ...process.env, PORT: `${port}` }, readyUrl: `http://127.0.0.1:${port}/` });
  return { port, pid: proc.pid };
}

async function startHaproxy(backendPorts) {
  const port = await freePort();
  const config = path.join(work, 'haproxy.cfg');
  writeFileSync(config, haproxyConfig(port, backendPorts));
  // -db: in the foreground, one process (no master), so its pid is the one that works.
  const proc = await launch('haproxy', 'haproxy', ['-db', '-f', config], { readyUrl: `http://127.0.0.1:${port}/` });
  return { port, pid: proc.pid };
}

async function startBareProxy(backendPorts) {
  const port = await freePort();
  const env = { ...process.env, PORT: `${port}`, UPSTREAMS: backendPorts.map((p) => `http://127.0.0.1:${p}`).join(' ') };
  const proc = await launch('fastify-http-proxy', NODE, ['-e', BARE_FASTIFY_PROXY], { env, readyUrl: `http://127.0.0.1:${port}/` });
  return { port, pid: proc.pid };
}

async function startNodeFloorProxy(backendPorts) {
  const port = await freePort();
  const env = { ...process.env, PORT: `${port}`, UPSTREAMS: backendPorts.map((p) => `http://127.0.0.1:${p}`).join(' ') };
  const proc = await launch('node-floor-proxy', NODE, ['-e', NODE_FLOOR_PROXY], { env, readyUrl: `http://127.0.0.1:${port}/` });
  return { port, pid: proc.pid };
}

// ---- our router, with a table filled over the bus ------------------------------------------

/**
 * A private router: own ports, PAAS_HOME (so its snapshot), bus prefix and database prefix.
 * The bench answers `endpoints.list` for it as the deploy-service would (what was published
 * so far), before it starts, so its start-up and periodic resyncs see a deploy-service.
 */
async function startRouter(nats, prefix, routeCount, backendPorts) {
  const [port, adminPort, tlsPort] = [await freePort(), await freePort(), await freePort()];
  const endpoints = new Map();
  answerEndpointsList(nats, prefix, endpoints);
  const profile = CPU_PROFILE_DIR
    ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROFILE_DIR}`, `--cpu-prof-name=${prefix}.cpuprofile`,
        // Nest re-raises SIGTERM after its shutdown, which skips writing the profile: exit first.
        `--import=data:text/javascript,process.once('SIGTERM',()=>process.exit(0))`]
      : [];
  const env = {
    ...process.env, ...serviceEnv, PAAS_HOME: path.join(work, prefix), PAAS_BUS_PREFIX: prefix, PAAS_DB_PREFIX: prefix, LOG_LEVEL: 'warn',
    ROUTER_HTTP_PORT: `${port}`, PORT: `${adminPort}`, ROUTER_ADMIN_PORT: `${adminPort}`, ROUTER_TLS_PORT: `${tlsPort}`,
  };
  const proc = await launch(`router-${routeCount}`, NODE, [...profile, ROUTER_MAIN], { env, readyUrl: `http://127.0.0.1:${adminPort}/readyz` });
  const started = Date.now();
  const hosts = await fillTable(nats, prefix, routeCount, backendPorts, endpoints);
  await untilServed(port, hosts);
  process.stderr.write(`router-${routeCount}: ${routeCount} routes created and their endpoints published over the bus, all served, in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  return { port, pid: proc.pid, host: hosts[Math.floor(routeCount / 2)] };
}

function answerEndpointsList(nats, prefix, endpoints) {
  nats.subscribe(busNames(prefix).rpc('endpoints.list'), {
    callback: (error, message) => {
      if (error) return;
      const result = { apiVersion: 'v1', kind: 'EndpointsList', metadata: {}, items: [...endpoints.values()] };
      message.respond(JSON.stringify({ ok: true, result }));
    },
  });
}

/**
 * `routeCount` routes in namespaces of ROUTES_PER_NAMESPACE, each to its own Service, created
 * through `routes.create` (host assigned by the router, admitted); then each Service's two
 * endpoints (the two backends) published as `endpoints.changed`. Answers the routes' hosts.
 */
async function fillTable(nats, prefix, routeCount, backendPorts, endpoints) {
  const names = busNames(prefix);
  const routes = Array.from({ length: routeCount }, (_, i) => ({
    namespace: `bench-${String(Math.floor(i / ROUTES_PER_NAMESPACE)).padStart(3, '0')}`,
    name: `app-${String(i).padStart(4, '0')}`,
  }));
  const create = async ({ namespace, name }) => {
    const body = { metadata: { name }, spec: { to: { kind: 'Service', name } } };
    const reply = (await nats.request(names.rpc('routes.create'), JSON.stringify({ namespace, body }), { timeout: 30_000 })).json();
    if (!reply.ok) throw new Error(`routes.create ${namespace}/${name}: ${reply.status.code} ${reply.status.message}`);
    if (!reply.result.status.ingress[0]?.conditions?.some((c) => c.type === 'Admitted' && c.status === 'True')) throw new Error(`route ${namespace}/${name} was not admitted`);
    return reply.result.spec.host;
  };
  const hosts = [];
  for (let i = 0; i < routes.length; i += 8) hosts.push(...(await Promise.all(routes.slice(i, i + 8).map(create))));

  const js = nats.jetstream();
  for (const { namespace, name } of routes) {
    const generation = Date.now();
    const addresses = backendPorts.map((port, i) => ({ ip: '127.0.0.1', port, pod: `${name}-1-${i}` }));
    const envelope = {
      id: `endpoints:${namespace}/${name}:${generation}`, type: 'endpoints.changed', source: 'deploy-service',
      subject: `${namespace}/${name}`, time: new Date().toISOString(), data: { namespace, name, generation, addresses },
    };
    endpoints.set(`${namespace}/${name}`, {
      apiVersion: 'v1', kind: 'Endpoints', metadata: { namespace, name, generation, uid: randomUUID() },
      addresses: addresses.map(({ ip, port, pod }) => ({ ip, port, targetRef: { kind: 'Pod', name: pod, uid: pod } })), notReadyAddresses: [],
    });
    await js.publish(names.event('endpoints.changed'), JSON.stringify(envelope), { msgID: envelope.id });
  }
  return hosts;
}

/** Until every host answers 200 through the router's data plane (it applies events asynchronously). */
async function untilServed(port, hosts) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const status = (host) => routerStatus(host, { port, agent, timeout: 0 });
  let waiting = hosts;
  const deadline = Date.now() + 120_000;
  while (waiting.length > 0) {
    if (Date.now() > deadline) throw new Error(`${waiting.length} routes not served after 120 s (e.g. ${waiting[0]})`);
    const statuses = await Promise.all(waiting.map(status));
    waiting = waiting.filter((_, i) => statuses[i] !== 200);
    if (waiting.length > 0) await sleep(200);
  }
  agent.destroy();
}

// ---- the load -------------------------------------------------------------------------------

const ZIPKIN_PID_FILE = path.join(dirs.run, 'zipkin.pid');
const zipkinPid = () => {
  const pid = existsSync(ZIPKIN_PID_FILE) ? Number(readFileSync(ZIPKIN_PID_FILE, 'utf8')) : 0;
  return pid && existsSync(`/proc/${pid}`) ? pid : 0;
};

/**
 * One wrk run against `target`, with the CPU its process under test spent meanwhile, the CPU
 * Zipkin spent (the spans a proxy exports), and the load of everything else on the machine
 * (the CPU neither the bench, wrk, the backends, the target nor Zipkin used), in cores.
 */
async function measure(target, seconds, backendPids) {
  const zipkin = zipkinPid();
  const ours = [...new Set([target.pid, ...backendPids])];
  const cpu = () => ({
    target: cpuSeconds(target.pid),
    zipkin: zipkin ? cpuSeconds(zipkin) : 0,
    ours: ours.reduce((sum, pid) => sum + cpuSeconds(pid), benchAndWrkSeconds()),
    machine: machineBusySeconds(),
  });
  const before = cpu();
  const started = process.hrtime.bigint();
  const out = await exec('wrk', ['-t', `${THREADS}`, '-c', `${CONNECTIONS}`, '-d', `${seconds}s`, '--latency', '-H', `Host: ${target.host}`, `http://127.0.0.1:${target.port}/`]);
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  const after = cpu();
  const result = parseWrk(out);
  const spent = (key) => after[key] - before[key];
  return {
    ...result,
    cpuMicros: (spent('target') * 1e6) / result.requests,
    zipkinMicros: (spent('zipkin') * 1e6) / result.requests,
    otherCores: Math.max(0, spent('machine') - spent('ours') - spent('zipkin')) / wall,
  };
}

let cleaning;
/** Stops every process, removes the routers' streams and databases and the temporary files; once, even when interrupted. */
function cleanUp(nats, prefixes) {
  cleaning ??= (async () => {
    for (const proc of processes.reverse()) await proc.stop().catch((error) => process.stderr.write(`stopping ${proc.pid}: ${error.message}\n`));
    const jsm = await nats.jetstreamManager();
    const mongo = await mongoose.createConnection(serviceEnv.MONGO_URL).asPromise();
    for (const prefix of prefixes) {
      await jsm.streams.delete(busNames(prefix).stream).catch(() => undefined);
      await mongo.useDb(databaseName('paas_router', prefix)).dropDatabase();
    }
    await mongo.close();
    await nats.close();
    rmSync(work, { recursive: true, force: true });
  })();
  return cleaning;
}

if (!existsSync(NODE)) throw new Error(`${NODE} is missing: npm run up installs the Node the services run on`);
if (!existsSync(ROUTER_MAIN)) throw new Error(`${ROUTER_MAIN} is not built: npx nx run router:build (or npm run up) first`);
ensureAptPackages({ wrk: 'wrk', haproxy: 'haproxy' });
if (CPU_PROFILE_DIR) mkdirSync(CPU_PROFILE_DIR, { recursive: true });
const nats = await connect({ ...busConnectionOptions('bench-router'), servers: serviceEnv.NATS_URL.split(',') });
const prefixes = [`${run}-1000`, `${run}-10`];
process.once('SIGINT', () => void cleanUp(nats, prefixes).finally(() => process.exit(130)));
const results = new Map();
let targets;
try {
  const backends = [await startBackend(1), await startBackend(2)];
  const backendPorts = backends.map((backend) => backend.port);
  const backendPids = backends.map((backend) => backend.pid);
  const bigTable = await startRouter(nats, prefixes[0], 1000, backendPorts);
  const smallTable = await startRouter(nats, prefixes[1], 10, backendPorts);
  // Every target is sent the same request (a route's Host); only the routers read it.
  const { host } = bigTable;
  targets = [
    { name: 'backend, direct', host, ...backends[0] },
    { name: 'HAProxy', host, ...(await startHaproxy(backendPorts)) },
    { name: 'bare @fastify/http-proxy', host, ...(await startBareProxy(backendPorts)) },
    { name: 'node floor: node:http + undici', host, ...(await startNodeFloorProxy(backendPorts)) },
    { name: 'router, 1,000 routes', ...bigTable },
    { name: 'router, 10 routes', ...smallTable },
  ];
  for (const target of targets) results.set(target.name, []);

  // A fresh process runs its first requests slowly (JIT, lazy loading): an untimed run each first.
  for (const target of targets) await measure(target, WARM_UP_SECONDS, backendPids);
  for (let round = 0; round < ROUNDS; round++) {
    const order = targets.map((_, i) => targets[(i + round) % targets.length]);
    for (const target of order) results.get(target.name).push(await measure(target, SECONDS, backendPids));
    const line = targets.map(({ name }) => `${name} ${Math.round(results.get(name)[round].rps)} (${results.get(name)[round].otherCores.toFixed(2)})`).join(', ');
    process.stderr.write(`round ${round + 1}/${ROUNDS}, req/s (other load, cores): ${line}\n`);
  }
} finally {
  await cleanUp(nats, prefixes);
}

// ---- report -----------------------------------------------------------------------------

const stat = (name, key) => median(results.get(name).map((result) => result[key]));
const haproxyVersion = spawnSync('haproxy', ['-v'], { encoding: 'utf8' }).stdout.split('\n')[0].split(' ')[2];
console.log(`router data plane: wrk -t${THREADS} -c${CONNECTIONS} -d${SECONDS}s --latency (keep-alive), median of ${ROUNDS} rounds, order rotated;`);
console.log(`  wrk, the proxy and both backends share the machine's ${spawnSync('nproc', { encoding: 'utf8' }).stdout.trim()} cores, nothing pinned; Node ${spawnSync(NODE, ['--version'], { encoding: 'utf8' }).stdout.trim()}, HAProxy ${haproxyVersion}`);
console.log(`  ${'target'.padEnd(30)} ${'req/s'.padStart(8)} ${'p50 ms'.padStart(7)} ${'p99 ms'.padStart(7)}  CPU µs/req  Zipkin µs/req  other load  errors`);
for (const { name } of targets) {
  const errors = results.get(name).reduce((sum, result) => sum + result.errors, 0);
  const cells = [
    name.padEnd(30), stat(name, 'rps').toFixed(0).padStart(8), stat(name, 'p50').toFixed(2).padStart(7), stat(name, 'p99').toFixed(2).padStart(7),
    stat(name, 'cpuMicros').toFixed(1).padStart(10), stat(name, 'zipkinMicros').toFixed(1).padStart(13), `${stat(name, 'otherCores').toFixed(2)} cores`.padStart(10), `${errors}`.padStart(6),
  ];
  console.log(`  ${cells.join(' ')}`);
}
console.log('  CPU µs/req: user+system time of the process under test (/proc/<pid>/stat) over the run ÷ requests; the backend\'s for the direct row.');
console.log('  Zipkin µs/req: the same for the platform\'s Zipkin (spans the proxy exported). Other load: CPU used meanwhile by');
console.log('  processes outside the bench (neither wrk, the backends, the target nor Zipkin), in cores of the machine\'s 2.');
const ratio = (a, b, key) => (stat(a, key) / stat(b, key)).toFixed(2);
for (const router of ['router, 1,000 routes', 'router, 10 routes']) {
  console.log(`${router}: req/s ÷ HAProxy ${ratio(router, 'HAProxy', 'rps')} (aim ≥ 0.45), CPU/req ÷ bare @fastify/http-proxy ${ratio(router, 'bare @fastify/http-proxy', 'cpuMicros')} (aim ≤ 1)`);
}
console.log(`node floor: req/s ÷ HAProxy ${ratio('node floor: node:http + undici', 'HAProxy', 'rps')}, the most any Node proxy gets here; router ÷ node floor ${ratio('router, 10 routes', 'node floor: node:http + undici', 'rps')}`);
console.log(`table size: CPU/req with 1,000 routes ÷ with 10 routes ${ratio('router, 1,000 routes', 'router, 10 routes', 'cpuMicros')}`);
const busy = targets.flatMap(({ name }) => results.get(name)).filter((result) => result.otherCores > 0.1).length;
if (busy > 0) console.log(`NOTE: ${busy} of ${targets.length * ROUNDS} runs had other work on the machine (> 0.1 cores): req/s and latency are the first to suffer`);
if (targets.some(({ name }) => results.get(name).some((result) => result.errors > 0))) console.log('WARNING: some runs had errors (non-2xx answers or socket errors); their figures are suspect');
