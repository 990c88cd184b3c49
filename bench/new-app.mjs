#!/usr/bin/env node
// Time from `new-app` to the first 200 through the router, with its parts, median of N runs,
// beside a reference: the same S2I work done by hand with the docker CLI (create builder
// container, stream the tar, assemble, commit, push, run, poll until 200) on the same machine
// in the same run. The ratio is the platform's overhead over bare Docker.
//
// Usage: npm run up && node bench/new-app.mjs [runs=5]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';

const GATEWAY = process.env.GATEWAY_URL ?? 'http://127.0.0.1:8000';
const ROUTER = process.env.ROUTER_URL ?? 'http://127.0.0.1:8080';
const REGISTRY = process.env.REGISTRY_HOST ?? '127.0.0.1:5000';
const BUILDER = 'paas-builder/nodejs:latest';
const RUNS = Number(process.argv[2] ?? 5);
const namespace = `bench-${Date.now().toString(36)}`;
// The gateway's cluster-admin: PAAS_ADMIN_PASSWORD, or the password file the gateway wrote under PAAS_HOME.
const PAAS_HOME = process.env.PAAS_HOME || path.resolve(import.meta.dirname, '../.paas');
const ADMIN_PASSWORD = process.env.PAAS_ADMIN_PASSWORD || readFileSync(path.join(PAAS_HOME, 'secrets/admin-password'), 'utf8').trim();
const AUTHORIZATION = `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** The pause before each run (see the loop below). */
const AT_REST_MS = 2_500;
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const seconds = (ms) => (ms / 1000).toFixed(2);

function makeRepo(text) {
  const dir = mkdtempSync(path.join(tmpdir(), 'paas-bench-'));
  const git = (...args) => execFileSync('git', args, { cwd: dir, stdio: 'ignore' });
  git('init', '--quiet', '--initial-branch=main');
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'bench', version: '1.0.0', main: 'server.js' }));
  writeFileSync(path.join(dir, 'server.js'), `require('node:http').createServer((q, s) => s.end(${JSON.stringify(text)})).listen(process.env.PORT || 8080);\n`);
  git('add', '-A');
  git('-c', 'user.email=bench@paas.test', '-c', 'user.name=bench', 'commit', '--quiet', '-m', 'bench');
  return dir;
}

async function until(probe, intervalMs = 20, timeoutMs = 180_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    await sleep(intervalMs);
  }
  throw new Error('timed out');
}

/**
 * The status of a GET, through node:http with a timeout: fetch drops a caller's Host header
 * (and `*.localhost` does not resolve in Node), and a socket with a timeout keeps the process
 * alive while it waits (CI once saw this bench exit without a word while it polled a pod that
 * had just started, with fetch).
 */
const statusOf = (url, headers = {}) =>
  new Promise((resolve, reject) => {
    const req = http.get(url, { headers, timeout: 5_000 }, (res) => res.resume().on('end', () => resolve(res.statusCode)).on('error', reject));
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
  });
const routerStatus = (host) => statusOf(`${ROUTER}/`, { host });

const api = async (method, url, body) => {
  const res = await fetch(`${GATEWAY}/api/v1/namespaces/${namespace}${url}`, {
    method,
    headers: { authorization: AUTHORIZATION, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body && JSON.stringify(body),
  });
  return { status: res.status, body: await res.json().catch(() => undefined) };
};

async function platformRun(i) {
  const name = `app-${i}`;
  const repo = makeRepo(`bench ${i}`);
  const started = Date.now();
  const created = await api('POST', '/apps', { name, source: { git: repo, ref: 'main' }, builder: 'nodejs' });
  if (created.status !== 201) throw new Error(`new-app answered ${created.status}: ${JSON.stringify(created.body)}`);
  // Its build followed as `oc logs -f` does (polling the API every few ms would take CPU from the build it times).
  const followed = await fetch(`${GATEWAY}/api/v1/namespaces/${namespace}/builds/${name}-1/log?follow=true`, { headers: { authorization: AUTHORIZATION } });
  const log = await followed.text();
  if (!followed.ok) throw new Error(`following build ${name}-1 answered ${followed.status}: ${log}`);
  const { body: build } = await api('GET', `/builds/${name}-1`);
  if (build?.status?.phase !== 'Complete') throw new Error(`build ${build?.status?.phase}: ${build?.status?.message}\n${log}`);
  const firstOk = await until(async () => ((await routerStatus(`${name}-${namespace}.apps.localhost`)) === 200 ? Date.now() : undefined), 10);
  const stage = Object.fromEntries(build.status.stages.map((s) => [s.name, s.durationMilliseconds]));
  const buildEnd = Date.parse(build.status.completionTimestamp);
  rmSync(repo, { recursive: true, force: true });
  return {
    total: firstOk - started,
    untilBuildStart: Date.parse(build.status.startTimestamp) - started,
    fetch: stage.FetchSource,
    assemble: stage.Assemble,
    commit: stage.Commit,
    push: stage.Push,
    rollout: firstOk - buildEnd,
  };
}

// The reference pushes as the admin, with credentials in a config of its own (the user's ~/.docker stays untouched).
const DOCKER_CONFIG = mkdtempSync(path.join(tmpdir(), 'paas-bench-docker-'));

/** `input`: what goes to the command's stdin, a Buffer or a string. */
function docker(args, input) {
  const stdin = typeof input === 'string' ? Buffer.from(input) : input;
  const result = spawnSync('docker', args, { input: stdin, maxBuffer: 64 << 20, env: { ...process.env, DOCKER_CONFIG } });
  if (result.status !== 0) throw new Error(`docker ${args.join(' ')}: ${result.stderr}`);
  return result.stdout.toString().trim();
}

async function referenceRun(i) {
  const repo = makeRepo(`reference ${i}`);
  const label = 'paas.dev/bench=reference';
  const image = `${REGISTRY}/${namespace}/reference:${i}`;
  const started = Date.now();
  const tar = execFileSync('git', ['archive', '--format=tar', 'HEAD'], { cwd: repo, maxBuffer: 64 << 20 });
  const builder = docker(['create', '-i', '--label', label, BUILDER, '/bin/sh', '-c', 'mkdir -p /tmp/src && tar -C /tmp/src -xf - && /usr/libexec/s2i/assemble']);
  docker(['start', '-i', builder], tar);
  docker(['commit', '--change', 'CMD ["/usr/libexec/s2i/run"]', builder, image]);
  docker(['push', image]);
  const pod = docker(['run', '-d', '--init', '--label', label, '-p', '127.0.0.1::8080', image]);
  const port = docker(['port', pod, '8080/tcp']).split(':').pop();
  const firstOk = await until(async () => ((await statusOf(`http://127.0.0.1:${port}/`)) === 200 ? Date.now() : undefined), 10);
  docker(['rm', '-f', builder, pod]);
  docker(['rmi', image]);
  rmSync(repo, { recursive: true, force: true });
  return firstOk - started;
}

async function cleanUp() {
  await fetch(`${GATEWAY}/api/v1/namespaces/${namespace}`, { method: 'DELETE', headers: { authorization: AUTHORIZATION } });
  // Pods go asynchronously after their DeploymentConfig; their images can go once they have.
  await until(async () => (docker(['ps', '-aq', '--filter', `label=paas.dev/namespace=${namespace}`]) ? undefined : true), 200, 60_000);
  const images = docker(['images', '-q', '--filter', `reference=${REGISTRY}/${namespace}/*`]);
  if (images) docker(['rmi', '-f', ...new Set(images.split('\n'))]);
}

const platform = [];
const reference = [];
try {
  docker(['login', REGISTRY, '-u', 'admin', '--password-stdin'], ADMIN_PASSWORD);
  // Alternate the two so machine noise falls on both alike.
  for (let i = 0; i < RUNS; i++) {
    // Each run on a machine at rest: what the one before left running (a rollout's last steps,
    // the platform's next builder container, started 1.5 s after an assemble) is not timed in it.
    await sleep(AT_REST_MS);
    reference.push(await referenceRun(i));
    await sleep(AT_REST_MS);
    platform.push(await platformRun(i));
    process.stderr.write(`run ${i + 1}/${RUNS}: platform ${seconds(platform[i].total)} s, reference ${seconds(reference[i])} s\n`);
  }
} finally {
  await cleanUp();
  rmSync(DOCKER_CONFIG, { recursive: true, force: true });
}

const rows = Object.keys(platform[0]).map((key) => [key, seconds(median(platform.map((run) => run[key])))]);
console.log(`new-app → first 200 through the router, median of ${RUNS} runs (s)`);
for (const [key, value] of rows) console.log(`  ${key.padEnd(16)} ${value}`);
const platformMedian = median(platform.map((run) => run.total));
const referenceMedian = median(reference);
console.log(`reference (docker CLI: create, tar in, assemble, commit, push, run, first 200): ${seconds(referenceMedian)} s`);
console.log(`ratio platform / reference: ${(platformMedian / referenceMedian).toFixed(2)}`);
