#!/usr/bin/env node
// Scaling out on this 2-core machine, in one run, on the running platform (npm run up):
//   gateway   list calls per second with 1 and 2 gateway replicas (Bearer token, wrk)
//   router    requests per second through N router replicas sharing port 8080, beside Debian's
//             HAProxy with `nbthread N`, for N = 1 and 2, to the same pods of one app
//   apps      K apps created at once (50; 4 with BENCH_SMOKE=1): time until every one serves,
//             with 1 and with 2 replicas of the build- and deploy-service
//   node loss an app on both nodes, one node's engine stopped: time until it serves from
//             two ready pods on the other node again
// The platform is scaled with `npm run up --replicas …` between the rows and brought back to
// the replicas it had. It needs two nodes (npm test brings the platform up with two).
//
// Usage: npm run up -- --nodes 2 && node bench/scale.mjs [rounds=3]
//   BENCH_SECONDS=<n>  wrk's duration per row and round (default 10; 2 with BENCH_SMOKE=1)
// BENCH_SMOKE=1 (npm test): one short round that proves the bench runs; its figures are not for the table.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PAAS_HOME, REPO, ports } from '../scripts/lib/config.mjs';
import { api, GATEWAY, routerStatus, until } from './lib/platform-api.mjs';
import { ensureAptPackages, exec, freePort, median, startProcess } from './lib/processes.mjs';
import { parseWrk } from './lib/wrk.mjs';

const ROUNDS = Number(process.argv[2] ?? 3);
const SMOKE = process.env.BENCH_SMOKE === '1';
const SECONDS = Number(process.env.BENCH_SECONDS ?? (SMOKE ? 2 : 10));
const APPS = SMOKE ? 4 : 50;
const CONNECTIONS = 64;
const ROUTER_PORT = ports.router;
const run = `bench-scale-${Date.now().toString(36)}`;
const work = mkdtempSync(path.join(tmpdir(), 'paas-bench-scale-'));
const namespaces = [];


/** The router's answer for `host`. */
const status = (host, port = ROUTER_PORT) => routerStatus(host, { port });

/** A git repository with a dependency-free Node app. */
function appRepository(text) {
  const dir = mkdtempSync(path.join(work, 'repo-'));
  const git = (...args) => execFileSync('git', args, { cwd: dir, stdio: 'ignore' });
  git('init', '--quiet', '--initial-branch=main');
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'scale', version: '1.0.0', main: 'server.js' }));
  writeFileSync(path.join(dir, 'server.js'), `require('node:http').createServer((q, s) => s.end(${JSON.stringify(text)})).listen(process.env.PORT || 8080);\n`);
  git('add', '-A');
  git('-c', 'user.email=bench@paas.test', '-c', 'user.name=bench', 'commit', '--quiet', '-m', 'scale');
  return dir;
}

const replicasNow = () => {
  try {
    return Object.entries(JSON.parse(readFileSync(path.join(PAAS_HOME, 'scale.json'), 'utf8')).replicas).map(([service, n]) => `${service}=${n}`).join(',');
  } catch {
    return '1';
  }
};

/** `npm run up --replicas <spec>` (the nodes stay as they are, at least two). */
function scale(spec) {
  const result = spawnSync(process.execPath, ['scripts/up.mjs', '--replicas', spec], { cwd: REPO, env: { ...process.env, PAAS_MIN_NODES: '2' }, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`up --replicas ${spec} failed:\n${result.stdout}\n${result.stderr}`);
}

async function newApp(namespace, name, text, replicas = 1) {
  await api('POST', `/namespaces/${namespace}/apps`, { name, source: { git: appRepository(text), ref: 'main' }, builder: 'nodejs', replicas });
}

const wrk = async (args) => parseWrk(await exec('wrk', ['-t', '2', '-c', `${CONNECTIONS}`, '-d', `${SECONDS}s`, '--latency', ...args]));

/** Gateway list calls per second with `n` replicas, by a Bearer token. */
async function gatewayRow(token, namespace) {
  return (await wrk(['-H', `Authorization: Bearer ${token}`, `${GATEWAY}/api/v1/namespaces/${namespace}/routes`])).rps;
}

/** HAProxy with `threads` threads in front of the app's pods. */
async function startHaproxy(threads, backends) {
  const port = await freePort();
  const config = path.join(work, `haproxy-${threads}.cfg`);
  writeFileSync(config, ['global', `  nbthread ${threads}`, '  maxconn 4096', 'defaults', '  mode http', '  option http-keep-alive', '  timeout connect 5s', '  timeout client 60s', '  timeout server 60s',
    'frontend bench', `  bind 127.0.0.1:${port}`, '  default_backend pods', 'backend pods', '  balance roundrobin',
    ...backends.map((backend, i) => `  server pod${i} ${backend.ip}:${backend.port}`), ''].join('\n'));
  const proc = startProcess('haproxy', ['-db', '-f', config], { log: 'ignore' });
  await until('haproxy', async () => (await status('x', port)) === 200, 10_000);
  return { port, stop: () => proc.stop() };
}

/** K apps at once, each in the namespace `namespace`: seconds until every one serves. */
async function appsRow(namespace) {
  const started = Date.now();
  await Promise.all(Array.from({ length: APPS }, (_, i) => newApp(namespace, `app-${i}`, `app ${i}`)));
  await until(`${APPS} apps to serve`, async () => (await Promise.all(Array.from({ length: APPS }, (_, i) => status(`app-${i}-${namespace}.apps.localhost`)))).every((code) => code === 200), 600_000, 250);
  return (Date.now() - started) / 1000;
}

/** An app on both nodes loses one: seconds until two ready pods serve it on the other. */
async function nodeLossRow(namespace) {
  await newApp(namespace, 'spread', 'spread', 2);
  const pods = async () => (await api('GET', `/namespaces/${namespace}/pods?labelSelector=deploymentconfig=spread`)).items;
  const ready = (pod) => pod.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True');
  await until('the app on both nodes', async () => new Set((await pods()).filter(ready).map((pod) => pod.spec.nodeName)).size === 2);
  const started = Date.now();
  process.kill(Number(readFileSync(path.join(PAAS_HOME, 'run', 'node-1.pid'), 'utf8')), 'SIGTERM');
  await until('two ready pods on local', async () => {
    const now = await pods();
    return now.filter(ready).filter((pod) => pod.spec.nodeName === 'local').length === 2 && (await status(`spread-${namespace}.apps.localhost`)) === 200;
  }, 120_000, 100);
  const healed = (Date.now() - started) / 1000;
  scale(replicasNow()); // brings node-1 back
  return healed;
}

ensureAptPackages({ wrk: 'wrk', haproxy: 'haproxy' });
const before = replicasNow();
const rows = { gateway: { 1: [], 2: [] }, router: { 1: [], 2: [] }, haproxy: { 1: [], 2: [] }, apps: { 1: [], 2: [] }, nodeLoss: [] };
try {
  const nodes = (await api('GET', '/nodes')).items.map((node) => node.metadata.name);
  if (!nodes.includes('node-1')) throw new Error(`bench/scale.mjs needs two nodes (npm run up -- --nodes 2); registered: ${nodes.join(', ')}`);
  const { token } = await api('POST', '/tokens', {});
  const target = `${run}-target`;
  namespaces.push(target);
  await newApp(target, 'target', 'hello from a pod', 2);
  const host = `target-${target}.apps.localhost`;
  await until('the target app to serve', async () => (await status(host)) === 200);
  await until('both pods ready', async () => (await api('GET', `/namespaces/${target}/endpoints/target`)).addresses.length === 2);
  const backends = (await api('GET', `/namespaces/${target}/endpoints/target`)).addresses;

  for (let round = 0; round < ROUNDS; round++) {
    for (const n of [1, 2]) {
      scale(`api-gateway=${n},router=${n}`);
      await until('the route after the scale', async () => (await status(host)) === 200);
      rows.gateway[n].push(await gatewayRow(token, target));
      rows.router[n].push((await wrk(['-H', `Host: ${host}`, `http://127.0.0.1:${ROUTER_PORT}/`])).rps);
      const haproxy = await startHaproxy(n, backends);
      try {
        rows.haproxy[n].push((await wrk([`http://127.0.0.1:${haproxy.port}/`])).rps);
      } finally {
        await haproxy.stop();
      }
      process.stderr.write(`round ${round + 1}, ${n} replica(s): gateway ${rows.gateway[n].at(-1).toFixed(0)}/s, router ${rows.router[n].at(-1).toFixed(0)}/s, haproxy ${rows.haproxy[n].at(-1).toFixed(0)}/s\n`);
    }
  }
  for (const n of [1, 2]) {
    scale(`build-service=${n},deploy-service=${n}`);
    const namespace = `${run}-apps-${n}`;
    rows.apps[n].push(await appsRow(namespace));
    process.stderr.write(`${APPS} apps with ${n} build/deploy replica(s): ${rows.apps[n].at(-1).toFixed(1)} s\n`);
    // Gone before the next row: the node-loss row measures one app's pods moving, not a hundred.
    await api('DELETE', `/namespaces/${namespace}`);
    await until(`the apps of ${namespace} to be gone`, async () => (await api('GET', `/namespaces/${namespace}/pods`).catch(() => ({ items: [] }))).items.length === 0, 300_000, 500);
  }
  const lossNamespace = `${run}-loss`;
  namespaces.push(lossNamespace);
  rows.nodeLoss.push(await nodeLossRow(lossNamespace));
} finally {
  for (const namespace of namespaces) await api('DELETE', `/namespaces/${namespace}`).catch(() => undefined);
  scale(before);
  rmSync(work, { recursive: true, force: true });
}

const m = (values) => median(values).toFixed(0);
console.log(`scale-out on ${spawnSync('nproc', { encoding: 'utf8' }).stdout.trim()} cores: wrk -t2 -c${CONNECTIONS} -d${SECONDS}s, medians of ${ROUNDS} round(s)`);
console.log(`  gateway list calls/s        1 replica ${m(rows.gateway[1])}   2 replicas ${m(rows.gateway[2])}   (x${(median(rows.gateway[2]) / median(rows.gateway[1])).toFixed(2)})`);
for (const n of [1, 2]) {
  console.log(`  router ${n} replica(s) req/s  ${m(rows.router[n])}   HAProxy nbthread ${n} ${m(rows.haproxy[n])}   ratio ${(median(rows.router[n]) / median(rows.haproxy[n])).toFixed(2)} (aim >= 0.7)`);
}
for (const n of [1, 2]) console.log(`  ${APPS} apps at once, ${n} build/deploy replica(s): every one serving after ${median(rows.apps[n]).toFixed(1)} s`);
console.log(`  a node's loss healed (two ready pods on the other node, serving) in ${median(rows.nodeLoss).toFixed(1)} s (aim <= 15)`);
