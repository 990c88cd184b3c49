#!/usr/bin/env node
// The control plane at scale, on the running platform (npm run up), at 10, 100 and 500 pods of
// a tiny image (busybox httpd, imported into the local engine: no registry needed) spread over
// up to 200 apps (a DeploymentConfig and a Service each, 50 to a namespace: each namespace is a
// Docker network, and Docker's default address pools hold about 30 on a machine), for each level:
//   at rest   CPU per second of every platform process (.paas/run/*.pid) and of FerretDB and
//             NATS (found by their ports), over BENCH_SECONDS once every pod is Ready and the
//             level's writes are tidied; `control plane` sums all but dockerd and Zipkin
//   scale     PUT .../deploymentconfigs/burst/scale 0 → 50: time until all 50 pods are Ready, and
//             beside it the engine's own floor: 50 `docker run -d` of the same image side by side
//             on the same network (the reference, same machine, same moment)
//   list      GET .../pods of a namespace (50 apps' pods) through the gateway, one at a time: p50 / p99
//   routes    every app has a Route: each router replica's table holds them all with their
//             endpoints (router_table_routes / _endpoints), and the first and last app answer
//             through the router
// Everything it makes carries the label paas.dev/bench=control-plane and is removed at the end.
//
// The pods run on the node `local` (this host's engine), which takes 110 pods unless the platform
// was started with DEPLOY_MAX_PODS (each pod asks 16 MiB).
//
// Usage: DEPLOY_MAX_PODS=600 npm run up && node bench/control-plane.mjs [levels=3]   (levels: how many of 10, 100, 500 to run)
//   BENCH_SECONDS=<n>  the CPU window at rest (default 600: the periodic work at rest in whole periods,
//                      each service's outbox sweep of every collection every 2 minutes, the router's
//                      resync every 2 minutes and the deploy-service's full resync every 5)
// BENCH_SMOKE=1 (npm test): 10 pods, a scale 0 → 5 and a 2 s window; its figures are not for the table.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PAAS_HOME, adminPort, ports } from '../scripts/lib/config.mjs';
import { api, routerStatus, until } from './lib/platform-api.mjs';
import { cpuSeconds, sleep } from './lib/processes.mjs';
import { dcBody as tinyDc, importTinyImage, routeBody as tinyRoute, serviceBody as tinyService } from './lib/tiny-app.mjs';

const SMOKE = process.env.BENCH_SMOKE === '1';
const LEVELS = [10, 100, 500].slice(0, SMOKE ? 1 : Number(process.argv[2] ?? 3));
const SECONDS = Number(process.env.BENCH_SECONDS ?? (SMOKE ? 2 : 600));
/**
 * How long a level rests before its CPU window: the platform's tidying after the level's
 * writes (superseded versions go a minute later, by a sweep every 2 minutes) is over.
 */
const SETTLE_MS = SMOKE ? 1_000 : 200_000;
const BURST = SMOKE ? 5 : 50;
const LIST_SAMPLES = SMOKE ? 20 : 200;
const MAX_APPS = 200;
const LABEL = 'paas.dev/bench=control-plane';
const run = `bench-cp-${Date.now().toString(36)}`;
const image = `paas-bench/control-plane:${run}`;
const namespaces = [];


const dcBody = (name, replicas) => tinyDc('control-plane', name, image, replicas);
const serviceBody = (name) => tinyService('control-plane', name);
const routeBody = (name) => tinyRoute('control-plane', name);
/** The host of each app's Route, by app index. */
const hosts = [];

const APPS_PER_NAMESPACE = 50;
const appNamespace = (i) => `${run}-${Math.floor(i / APPS_PER_NAMESPACE)}`;
const appName = (i) => `app-${i}`;
const namespacesOf = (apps) => [...new Set(apps.map((_, i) => appNamespace(i)))];
const isReady = (pod) => pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
const readyPods = async (namespace) => (await api('GET', `/namespaces/${namespace}/pods`)).items.filter(isReady).length;

/** `pods` replicas over min(pods, 200) apps, the first apps one more when they do not divide evenly. */
function replicasPerApp(pods) {
  const apps = Math.min(pods, MAX_APPS);
  return Array.from({ length: apps }, (_, i) => Math.floor(pods / apps) + (i < pods % apps ? 1 : 0));
}

/** Brings the apps to `pods` pods in all, creating the apps missing and scaling the others, then waits for every pod to be Ready. */
async function reach(pods, apps) {
  const wanted = replicasPerApp(pods);
  for (let i = 0; i < wanted.length; i++) {
    if (i >= apps.length) {
      const namespace = appNamespace(i);
      if (!namespaces.includes(namespace)) namespaces.push(namespace);
      await api('POST', `/namespaces/${namespace}/services`, serviceBody(appName(i)));
      hosts.push((await api('POST', `/namespaces/${namespace}/routes`, routeBody(appName(i)))).spec.host);
      await api('POST', `/namespaces/${namespace}/deploymentconfigs`, dcBody(appName(i), wanted[i]));
      apps.push(wanted[i]);
    } else if (apps[i] !== wanted[i]) {
      await api('PUT', `/namespaces/${appNamespace(i)}/deploymentconfigs/${appName(i)}/scale`, { spec: { replicas: wanted[i] } });
      apps[i] = wanted[i];
    }
  }
  await until(`${pods} pods Ready`, async () => {
    let ready = 0;
    for (const namespace of namespacesOf(apps)) ready += await readyPods(namespace);
    process.stderr.write(`  ${ready}/${pods} pods Ready\r`);
    return ready >= pods;
  }, 900_000, 2_000);
  process.stderr.write('\n');
}

/** Each router replica's table size: `router_table_routes` and `router_table_endpoints` from its admin port. */
async function routerTables() {
  const replicas = readdirSync(path.join(PAAS_HOME, 'run')).filter((file) => /^router-\d+\.pid$/.test(file)).map((file) => Number(file.match(/\d+/)[0]));
  return Promise.all(replicas.map(async (replica) => {
    const text = await (await fetch(`http://127.0.0.1:${adminPort('router', replica)}/metrics`)).text();
    const gauge = (name) => Number(text.match(new RegExp(`^${name} (\\d+)`, 'm'))?.[1] ?? 0);
    return { replica, routes: gauge('router_table_routes'), endpoints: gauge('router_table_endpoints') };
  }));
}

/** Waits until every router replica holds at least the baseline's routes and endpoints plus the bench's, then asks the first and last app through the router. */
async function routesServed(baseline, pods) {
  await until(`${hosts.length} routes and ${pods} endpoints in every router's table`, async () => {
    const tables = await routerTables();
    return tables.every(({ replica, routes, endpoints }) => {
      const before = baseline.find((table) => table.replica === replica) ?? { routes: 0, endpoints: 0 };
      return routes >= before.routes + hosts.length && endpoints >= before.endpoints + pods;
    });
  }, 120_000, 1_000);
  for (const host of [hosts[0], hosts[hosts.length - 1]]) {
    const status = await routerStatus(host);
    if (status !== 200) throw new Error(`${host} answered ${status} through the router`);
  }
  return (await routerTables())[0];
}

/** The platform's processes, FerretDB's and NATS': pid by name. */
function platformProcesses() {
  const processes = new Map();
  const runDir = path.join(PAAS_HOME, 'run');
  for (const file of readdirSync(runDir).filter((f) => f.endsWith('.pid'))) processes.set(file.slice(0, -4), Number(readFileSync(path.join(runDir, file), 'utf8')));
  const listeners = spawnSync('ss', ['-ltnpH'], { encoding: 'utf8' }).stdout;
  for (const [name, port] of [['ferretdb', ports.mongo], ['nats', ports.nats]]) {
    const pid = listeners.split('\n').find((line) => line.includes(`:${port} `))?.match(/pid=(\d+)/)?.[1];
    if (pid && !processes.has(name)) processes.set(name, Number(pid));
  }
  return processes;
}

/** CPU milliseconds per second of each process over `seconds`. */
async function cpuAtRest(seconds) {
  const processes = platformProcesses();
  const before = new Map([...processes].map(([name, pid]) => [name, cpuSeconds(pid)]));
  const started = performance.now();
  await sleep(seconds * 1000);
  const elapsed = (performance.now() - started) / 1000;
  return new Map([...processes].map(([name, pid]) => [name, ((cpuSeconds(pid) - before.get(name)) * 1000) / elapsed]));
}

/** Seconds from the scale call until `BURST` pods are Ready, then back to 0. */
async function burst(namespace) {
  const started = performance.now();
  await api('PUT', `/namespaces/${namespace}/deploymentconfigs/burst/scale`, { spec: { replicas: BURST } });
  await until(`${BURST} burst pods Ready`, async () => (await readyPods(namespace)) >= BURST, 300_000, 200);
  const seconds = (performance.now() - started) / 1000;
  await api('PUT', `/namespaces/${namespace}/deploymentconfigs/burst/scale`, { spec: { replicas: 0 } });
  await until('the burst pods to be gone', async () => (await api('GET', `/namespaces/${namespace}/pods`)).items.length === 0, 300_000, 500);
  return seconds;
}

/** The Docker network the bench's pods run in (the first one's, on the node `local`). */
function podsNetwork() {
  const [network] = spawnSync('docker', ['ps', '--filter', `label=${LABEL}`, '--format', '{{.Networks}}'], { encoding: 'utf8' }).stdout.split('\n');
  if (!network) throw new Error('no bench pod runs: nothing to compare the burst with');
  return network.split(',')[0];
}

/** Seconds for the engine alone to run `BURST` containers of the image side by side on `network` (then removed). */
async function dockerBurst(network) {
  const label = `${LABEL}-reference`;
  const run = () => new Promise((resolve, reject) => {
    const child = spawn('docker', ['run', '-d', '--label', label, '--network', network, '--memory', String(16 << 20), image], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`docker run exited ${code}`))));
  });
  const started = performance.now();
  try {
    await Promise.all(Array.from({ length: BURST }, run));
    return (performance.now() - started) / 1000;
  } finally {
    const ids = spawnSync('docker', ['ps', '-aq', '--filter', `label=${label}`], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    if (ids.length) spawnSync('docker', ['rm', '-f', ...ids], { stdio: 'ignore' });
  }
}

/** p50 and p99 in milliseconds of listing the pods of the apps' namespaces, one request at a time. */
async function listLatency(apps) {
  const samples = [];
  const listed = namespacesOf(apps);
  for (let i = 0; i < LIST_SAMPLES; i++) {
    const started = performance.now();
    await api('GET', `/namespaces/${listed[i % listed.length]}/pods`);
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  const at = (q) => samples[Math.min(samples.length - 1, Math.ceil(q * samples.length) - 1)];
  return { p50: at(0.5), p99: at(0.99) };
}

const rows = [];
const fmt = (n, digits = 1) => n.toFixed(digits);
/** Measured beside the control plane, not part of it: the container engine and the tracing UI. */
const BESIDE = new Set(['dockerd', 'zipkin']);
/** The control plane's CPU: our services, FerretDB and NATS. */
const totalCpu = (row) => [...row.cpu].filter(([name]) => !BESIDE.has(name)).reduce((sum, [, ms]) => sum + ms, 0);
/** A level's figures, printed as soon as they are measured (a long run that fails later keeps them). */
function report(row) {
  if (rows.length === 0) {
    console.log(`control plane at rest on ${spawnSync('nproc', { encoding: 'utf8' }).stdout.trim()} cores: CPU ms/s over ${SECONDS} s; scale 0 → ${BURST}; ${LIST_SAMPLES} pod lists`);
    console.log(['pods', 'apps', ...row.cpu.keys(), 'control plane', `0→${BURST} s`, `docker ×${BURST} s`, 'ratio', 'list p50 ms', 'list p99 ms', 'router routes', 'router endpoints'].join('\t'));
  }
  rows.push(row);
  const figures = [fmt(totalCpu(row)), fmt(row.scaleSeconds), fmt(row.referenceSeconds), fmt(row.scaleSeconds / row.referenceSeconds, 2), fmt(row.list.p50), fmt(row.list.p99), row.table.routes, row.table.endpoints];
  console.log([row.pods, row.apps, ...[...row.cpu.values()].map((ms) => fmt(ms)), ...figures].join('\t'));
}

const local = (await api('GET', '/nodes')).items.find((node) => node.metadata.name === 'local');
const needed = LEVELS[LEVELS.length - 1] + BURST;
if ((local?.status.capacity?.pods ?? 0) < needed) throw new Error(`the node local takes ${local?.status.capacity?.pods ?? 0} pods, the bench needs ${needed}: npm run up with DEPLOY_MAX_PODS=${needed + 50}`);
importTinyImage(image, { label: LABEL });
try {
  const burstNamespace = `${run}-burst`;
  namespaces.push(burstNamespace);
  await api('POST', `/namespaces/${burstNamespace}/deploymentconfigs`, dcBody('burst', 0));
  const apps = [];
  const baseline = await routerTables();
  for (const pods of LEVELS) {
    process.stderr.write(`${pods} pods\n`);
    await reach(pods, apps);
    const table = await routesServed(baseline, pods);
    await sleep(SETTLE_MS);
    const cpu = await cpuAtRest(SECONDS);
    const scaleSeconds = await burst(burstNamespace);
    const referenceSeconds = await dockerBurst(podsNetwork());
    const list = await listLatency(apps);
    report({ pods, apps: apps.length, cpu, scaleSeconds, referenceSeconds, list, table });
  }
} finally {
  process.stderr.write('cleaning up\n');
  for (const namespace of namespaces) await api('DELETE', `/namespaces/${namespace}`).catch(() => undefined);
  const leftovers = () => spawnSync('docker', ['ps', '-aq', '--filter', `label=${LABEL}`], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  await until('the bench containers to be gone', async () => leftovers().length === 0, 300_000, 2_000).catch(() => undefined);
  if (leftovers().length) spawnSync('docker', ['rm', '-f', ...leftovers()], { stdio: 'ignore' });
  spawnSync('docker', ['rmi', image], { stdio: 'ignore' });
}

if (rows.length > 1) {
  const [first, last] = [rows[0], rows[rows.length - 1]];
  console.log(`per extra pod: ${fmt((totalCpu(last) - totalCpu(first)) / (last.pods - first.pods), 3)} ms/s`);
}
