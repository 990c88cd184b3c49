#!/usr/bin/env node
// Rollouts on the running platform (npm run up), in one run, beside the same done by hand with
// the docker CLI. A tiny image (busybox httpd, `docker import`ed: no build, no registry) in two
// versions, a DeploymentConfig, Service and Route per size, on the node `local`:
//   rollout    N = 1, 3, 10 replicas moved to the other version: time from the DC update until
//              every replica of the new revision is Ready and the route answers only the new
//              page (old pods may still drain), under steady load through the router (4
//              keep-alive clients, kept until the old pods are gone: `failed` must read 0);
//              by hand: N `docker run` of the new image until each answers, then the N old
//              containers removed
//   self-heal  one pod's container killed: time until the pod is Ready again on a new container
//   crash      the image moved to one that exits at start: time from its first crash (the
//              engine's `die` event) until the DC says Progressing=False and the previous
//              revision serves alone
//
// Usage: npm run up && node bench/deploy.mjs [rounds=3]
// BENCH_SMOKE=1 (npm test): one round at 1 replica; its figures are not for the table.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import http from 'node:http';
import { createInterface } from 'node:readline';
import { ports } from '../scripts/lib/config.mjs';
import { api, until } from './lib/platform-api.mjs';
import { median } from './lib/processes.mjs';
import { dcBody, importTinyImage, routeBody, serviceBody } from './lib/tiny-app.mjs';

const ROUNDS = Number(process.argv[2] ?? 3);
const SMOKE = process.env.BENCH_SMOKE === '1';
const SIZES = SMOKE ? [1] : [1, 3, 10];
const CLIENTS = 4;
const BENCH = 'deploy';
const LABEL = `paas.dev/bench=${BENCH}`;
const run = `bench-deploy-${Date.now().toString(36)}`;
const namespace = run;
const pages = { v1: 'v1\n', v2: 'v2\n' };
const images = { v1: `paas-bench/deploy:${run}-v1`, v2: `paas-bench/deploy:${run}-v2`, crash: `paas-bench/deploy:${run}-crash` };
const agent = new http.Agent({ keepAlive: true });

/** `GET /` for `host` through the router, on a kept-alive connection: status and body (status 0 when it failed). */
function throughRouter(host) {
  return new Promise((resolve) => {
    const request = http.get({ host: '127.0.0.1', port: ports.router, path: '/', headers: { host }, agent, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk) => (body += chunk)).on('end', () => resolve({ status: res.statusCode, body }));
    });
    request.on('timeout', () => request.destroy(new Error('timeout'))).on('error', () => resolve({ status: 0, body: '' }));
  });
}

/** Steady traffic to `host` until `stop()`: how many requests, how many failed. */
function steadyLoad(host) {
  let stopped = false;
  const counts = { requests: 0, failed: 0 };
  const client = async () => {
    while (!stopped) {
      const { status } = await throughRouter(host);
      counts.requests += 1;
      if (status !== 200) counts.failed += 1;
    }
  };
  const clients = Array.from({ length: CLIENTS }, client);
  return { stop: async () => ((stopped = true), await Promise.all(clients), counts) };
}

const isReady = (pod) => pod.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
const podsOf = async (name) => (await api('GET', `/namespaces/${namespace}/pods?labelSelector=deploymentconfig=${name}`)).items;

/** The DC with its container's image replaced (read, write with that resourceVersion, again on a conflict). */
async function setImage(name, image) {
  let dc;
  await until(`${name} updated`, async () => {
    const current = await api('GET', `/namespaces/${namespace}/deploymentconfigs/${name}`);
    const [container] = current.spec.template.spec.containers;
    const template = { ...current.spec.template, spec: { ...current.spec.template.spec, containers: [{ ...container, image }] } };
    dc = await api('PUT', `/namespaces/${namespace}/deploymentconfigs/${name}`, { metadata: current.metadata, spec: { ...current.spec, template } });
    return true;
  }, 10_000, 50);
  return dc.status.latestVersion;
}

/**
 * `replicas` Ready pods of revision `version`, and the route answers `page` (three times in a
 * row); `alone`: no pod of another revision is left either (drained and stopped).
 */
async function servedBy(name, host, version, replicas, page, { alone = false } = {}) {
  const pods = await podsOf(name);
  const serving = pods.filter((pod) => pod.metadata.labels.deployment === `${name}-${version}` && isReady(pod));
  if (serving.length !== replicas || (alone && pods.length !== replicas)) return false;
  for (let i = 0; i < 3; i++) if ((await throughRouter(host)).body !== page) return false;
  return true;
}

/**
 * Seconds from the DC update until every replica of the new revision is Ready and the route
 * answers only the new page (old pods may still be draining), and the failed requests under
 * load meanwhile; then waits for the old pods to be gone before the next row.
 */
async function rollout(name, host, replicas, to) {
  const load = steadyLoad(host);
  const started = performance.now();
  const version = await setImage(name, images[to]);
  await until(`${name} revision ${version} to serve`, () => servedBy(name, host, version, replicas, pages[to]), 120_000, 20);
  const seconds = (performance.now() - started) / 1000;
  await until(`${name} revision ${version} alone`, () => servedBy(name, host, version, replicas, pages[to], { alone: true }), 120_000, 20);
  const { requests, failed } = await load.stop();
  return { seconds, requests, failed };
}

const dockerCli = (...args) => execFileSync('docker', args, { encoding: 'utf8' }).trim();

/** Whether a container's published port answers 200. */
const answers = (port) => fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1_000) }).then((res) => res.status === 200, () => false);

/** The same rollout by hand: `replicas` containers of the new image until each answers, then the old ones removed. */
async function byHand(replicas, to, old) {
  const started = performance.now();
  const fresh = Array.from({ length: replicas }, () => dockerCli('run', '-d', '--label', `${LABEL}-reference`, '--memory', String(16 << 20), '-p', '127.0.0.1::8080', images[to]));
  for (const id of fresh) {
    const port = dockerCli('port', id, '8080/tcp').split(':').pop();
    await until('a reference container to answer', () => answers(port), 30_000, 20);
  }
  if (old.length) dockerCli('rm', '-f', ...old);
  return { seconds: (performance.now() - started) / 1000, containers: fresh };
}

/** Seconds from a killed container until its pod is Ready on a new one. */
async function selfHeal(name) {
  const pod = (await podsOf(name)).find((p) => isReady(p) && p.status.restartCount === 0);
  if (!pod) throw new Error(`no ready pod of ${name} that never restarted`);
  const started = performance.now();
  dockerCli('kill', pod.status.containerID);
  await until(`${pod.metadata.name} to be Ready again`, async () => {
    const now = (await podsOf(name)).find((p) => p.metadata.name === pod.metadata.name);
    return now && isReady(now) && now.status.containerID !== pod.status.containerID;
  }, 60_000, 20);
  return (performance.now() - started) / 1000;
}

/** Seconds from the first crash of a release that exits at start until the DC has rolled back and the previous revision serves alone. */
async function crashRolledBack(name, host, replicas, serving) {
  const events = spawn('docker', ['events', '--filter', `label=paas.dev/namespace=${namespace}`, '--filter', `label=paas.dev/dc=${name}`, '--filter', 'event=die', '--format', '{{.TimeNano}}']);
  const firstCrash = new Promise((resolve) => createInterface({ input: events.stdout }).once('line', (line) => resolve(Number(BigInt(line) / 1_000_000n))));
  try {
    const previous = (await api('GET', `/namespaces/${namespace}/deploymentconfigs/${name}`)).status.latestVersion;
    const version = await setImage(name, images.crash);
    await until(`${name} to roll back from revision ${version}`, async () => {
      const dc = await api('GET', `/namespaces/${namespace}/deploymentconfigs/${name}`);
      const progressing = dc.status.conditions.find((c) => c.type === 'Progressing');
      return progressing?.status === 'False' && progressing.reason === 'CrashLoopBackOff' && (await servedBy(name, host, previous, replicas, pages[serving], { alone: true }));
    }, 120_000, 20);
    return (Date.now() - (await firstCrash)) / 1000;
  } finally {
    events.kill();
  }
}

importTinyImage(images.v1, { label: LABEL, page: pages.v1 });
importTinyImage(images.v2, { label: LABEL, page: pages.v2 });
importTinyImage(images.crash, { label: LABEL, command: 'echo crashing on purpose; exit 3' });
const rows = Object.fromEntries(SIZES.map((n) => [n, { platform: [], byHand: [], requests: 0, failed: 0 }]));
const heal = [];
const crash = [];
let reference = [];
try {
  const hosts = {};
  for (const n of SIZES) {
    const name = `app-${n}`;
    await api('POST', `/namespaces/${namespace}/services`, serviceBody(BENCH, name));
    hosts[n] = (await api('POST', `/namespaces/${namespace}/routes`, routeBody(BENCH, name))).spec.host;
    await api('POST', `/namespaces/${namespace}/deploymentconfigs`, dcBody(BENCH, name, images.v1, n));
    await until(`${name} to serve`, () => servedBy(name, hosts[n], 1, n, pages.v1, { alone: true }), 120_000, 100);
  }
  let serving = 'v1';
  for (let round = 0; round < ROUNDS; round++) {
    const to = serving === 'v1' ? 'v2' : 'v1';
    for (const n of SIZES) {
      const measured = await rollout(`app-${n}`, hosts[n], n, to);
      rows[n].platform.push(measured.seconds);
      rows[n].requests += measured.requests;
      rows[n].failed += measured.failed;
      if (reference.length !== n) {
        if (reference.length) dockerCli('rm', '-f', ...reference);
        reference = (await byHand(n, serving, [])).containers;
      }
      const hand = await byHand(n, to, reference);
      reference = hand.containers;
      rows[n].byHand.push(hand.seconds);
      process.stderr.write(`round ${round + 1}, ${n} replica(s): platform ${measured.seconds.toFixed(2)} s (${measured.failed}/${measured.requests} failed), by hand ${hand.seconds.toFixed(2)} s\n`);
    }
    serving = to;
    heal.push(await selfHeal(`app-${SIZES.at(-1)}`));
    crash.push(await crashRolledBack('app-1', hosts[1], 1, serving));
    process.stderr.write(`round ${round + 1}: self-heal ${heal.at(-1).toFixed(2)} s, crash rolled back ${crash.at(-1).toFixed(2)} s after the first crash\n`);
  }
} finally {
  await api('DELETE', `/namespaces/${namespace}`).catch(() => undefined);
  const leftovers = spawnSync('docker', ['ps', '-aq', '--filter', `label=${LABEL}-reference`], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
  if (leftovers.length) spawnSync('docker', ['rm', '-f', ...leftovers], { stdio: 'ignore' });
  await until('the bench pods to be gone', async () => (await api('GET', `/namespaces/${namespace}/pods`).catch(() => ({ items: [] }))).items.length === 0, 120_000, 500).catch(() => undefined);
  spawnSync('docker', ['rmi', ...Object.values(images)], { stdio: 'ignore' });
  agent.destroy();
}

console.log(`rollouts on ${spawnSync('nproc', { encoding: 'utf8' }).stdout.trim()} cores, medians of ${ROUNDS} round(s), ${CLIENTS} keep-alive clients through the router`);
console.log('replicas\tplatform s\tby hand s\tratio\trequests\tfailed');
for (const n of SIZES) {
  const { platform, byHand: hand, requests, failed } = rows[n];
  console.log(`${n}\t${median(platform).toFixed(2)}\t${median(hand).toFixed(2)}\t${(median(platform) / median(hand)).toFixed(2)}\t${requests}\t${failed}`);
}
console.log(`self-heal (a killed container's pod Ready again): ${median(heal).toFixed(2)} s (aim <= 2)`);
console.log(`crashing release rolled back, after its first crash: ${median(crash).toFixed(2)} s (aim <= 5)`);
const failed = SIZES.reduce((sum, n) => sum + rows[n].failed, 0);
if (failed > 0) {
  console.error(`${failed} request(s) failed during rollouts`);
  process.exitCode = 1;
}
