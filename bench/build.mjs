#!/usr/bin/env node
// A build of the same Node.js app with dependencies, full and incremental, by the build-service
// (a BuildConfig with `incremental: true`: created → full build, instantiated → incremental)
// beside the official s2i CLI on the same builder image, in the same run (`s2i build`, then
// `s2i build --incremental`). Medians of N rounds, alternated so that machine noise falls on
// both alike. The build-service's figure is from the API call to the build seen Complete
// through the API, Push to the platform registry included (the s2i CLI does not push): its
// time without Push is shown too.
//
// The s2i CLI is S2I_BIN, else ../shared/tools/s2i beside the repository, else `s2i` on PATH;
// without one the reference is the same s2i work by hand with the docker CLI (create, stream
// the tar, assemble, commit; incremental: save-artifacts of the previous image streamed in).
//
// Usage: npm run up && node bench/build.mjs [rounds=3]   (BENCH_SMOKE=1: a one-package app)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { api, apiText } from './lib/platform-api.mjs';
import { median } from './lib/processes.mjs';

const BUILDER = 'paas-builder/nodejs:latest';
const ROUNDS = Number(process.argv[2] ?? 3);
const SMOKE = process.env.BENCH_SMOKE === '1';
const REPO_ROOT = path.resolve(import.meta.dirname, '..');
const namespace = `bench-build-${Date.now().toString(36)}`;
const LABEL = 'paas.dev/bench=build';
/** A few dozen packages (express and what it needs), or one in a smoke round. */
const DEPENDENCIES = SMOKE ? { ms: '2.1.3' } : { express: '4.21.2' };
const inNamespace = (url) => `/namespaces/${namespace}${url}`;
const seconds = (ms) => (ms / 1000).toFixed(2);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** The pause before each round (see the loop below). */
const AT_REST_MS = 2_500;

function s2iCli() {
  const candidates = [process.env.S2I_BIN, path.resolve(REPO_ROOT, '../shared/tools/s2i')].filter(Boolean);
  const found = candidates.find((file) => existsSync(file));
  if (found) return found;
  return spawnSync('s2i', ['version']).status === 0 ? 's2i' : undefined;
}

/** A git repository of an app with DEPENDENCIES and their lockfile (asked of the npm registry once). */
function makeRepo() {
  const dir = mkdtempSync(path.join(tmpdir(), 'paas-bench-build-'));
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'bench-build', version: '1.0.0', main: 'server.js', dependencies: DEPENDENCIES }, null, 2));
  writeFileSync(path.join(dir, 'server.js'), "require('node:http').createServer((q, s) => s.end('built')).listen(process.env.PORT || 8080);\n");
  execFileSync('npm', ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: dir, stdio: 'ignore' });
  const git = (...args) => execFileSync('git', ['-c', 'user.email=bench@paas.test', '-c', 'user.name=bench', ...args], { cwd: dir, stdio: 'ignore' });
  git('init', '--quiet', '--initial-branch=main');
  git('add', '-A');
  git('commit', '--quiet', '-m', 'bench');
  return dir;
}

function run(command, args, input) {
  const result = spawnSync(command, args, { input, maxBuffer: 256 << 20 });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${result.stderr}`);
  return result.stdout.toString().trim();
}
const docker = (args, input) => run('docker', args, input);

/**
 * Waits for the build as `oc start-build --follow` does, with its log followed until the build
 * ends (the gateway ends it at the build's change), then reads the build once: polling the API
 * every few milliseconds would take CPU from the build it times (a fifth of this machine at 25 ms).
 */
async function completed(name) {
  const log = await apiText(inNamespace(`/builds/${name}/log?follow=true`));
  const build = await api('GET', inNamespace(`/builds/${name}`));
  if (build.status.phase !== 'Complete') throw new Error(`build ${name} ${build.status.phase}: ${build.status.message}`);
  return { build, log };
}

/**
 * Wall time from the call to Complete, that less the Push stage, each stage's time, and the time
 * outside every stage: the platform's own path (the call, the event, the claim, status writes,
 * the container's removal, the end of the followed log).
 */
const timed = (build, started) => {
  const total = Date.now() - started;
  const stages = Object.fromEntries(build.status.stages.map((stage) => [stage.name, stage.durationMilliseconds]));
  const inStages = Object.values(stages).reduce((sum, ms) => sum + ms, 0);
  return { total, withoutPush: total - (stages.Push ?? 0), stages, outside: total - inStages, node: build.status.nodeName };
};

async function platformRound(i, repo) {
  const name = `app-${i}`;
  const body = {
    metadata: { name },
    spec: {
      source: { git: { uri: repo, ref: 'main' } },
      strategy: { type: 'Source', sourceStrategy: { from: { kind: 'Builder', name: 'nodejs' }, incremental: true } },
      output: { to: { kind: 'ImageStreamTag', name: `${name}:latest` } },
    },
  };
  let started = Date.now();
  await api('POST', inNamespace('/buildconfigs'), body);
  const full = timed((await completed(`${name}-1`)).build, started);
  started = Date.now();
  const second = await api('POST', inNamespace(`/buildconfigs/${name}/instantiate`), {});
  const { build, log } = await completed(second.metadata.name);
  const incremental = timed(build, started);
  if (!log.includes('Restoring node_modules from the previous build')) throw new Error(`the second build was not incremental:\n${log}`);
  return { full, incremental };
}

function s2iRound(i, repo, cli) {
  const image = `paas-bench-s2i/app:${i}`;
  let started = Date.now();
  run(cli, ['build', repo, BUILDER, image, '--pull-policy', 'never']);
  const full = Date.now() - started;
  started = Date.now();
  run(cli, ['build', repo, BUILDER, image, '--pull-policy', 'never', '--incremental', '--incremental-pull-policy', 'never']);
  const incremental = Date.now() - started;
  docker(['rmi', '-f', image]);
  return { full, incremental };
}

/** The s2i work by hand: `incremental` streams the previous image's save-artifacts into /tmp/artifacts first. */
function byHand(repo, image, previous) {
  const tar = execFileSync('git', ['archive', '--format=tar', 'HEAD'], { cwd: repo, maxBuffer: 64 << 20 });
  const restore = previous ? 'mkdir -p /tmp/artifacts && tar -C /tmp/artifacts -xf /tmp/src/.artifacts.tar && rm /tmp/src/.artifacts.tar && ' : '';
  let input = tar;
  if (previous) {
    const saved = execFileSync('docker', ['run', '--rm', '--label', LABEL, previous, '/usr/libexec/s2i/save-artifacts'], { maxBuffer: 256 << 20 });
    const withArtifacts = mkdtempSync(path.join(tmpdir(), 'paas-bench-build-src-'));
    execFileSync('tar', ['-C', withArtifacts, '-xf', '-'], { input: tar });
    writeFileSync(path.join(withArtifacts, '.artifacts.tar'), saved);
    input = execFileSync('tar', ['-C', withArtifacts, '-cf', '-', '.'], { maxBuffer: 256 << 20 });
    rmSync(withArtifacts, { recursive: true, force: true });
  }
  const builder = docker(['create', '-i', '--label', LABEL, BUILDER, '/bin/sh', '-c', `mkdir -p /tmp/src && tar -C /tmp/src -xf - && ${restore}/usr/libexec/s2i/assemble`]);
  docker(['start', '-i', builder], input);
  docker(['commit', '--change', 'CMD ["/usr/libexec/s2i/run"]', builder, image]);
  docker(['rm', '-f', builder]);
}

function dockerRound(i, repo) {
  const image = `paas-bench-s2i/app:${i}`;
  let started = Date.now();
  byHand(repo, image);
  const full = Date.now() - started;
  started = Date.now();
  byHand(repo, `${image}-2`, image);
  const incremental = Date.now() - started;
  docker(['rmi', '-f', image, `${image}-2`]);
  return { full, incremental };
}

async function cleanUp() {
  await api('DELETE', `/namespaces/${namespace}`).catch(() => undefined);
  const images = docker(['images', '-q', '--filter', `reference=*/${namespace}/*`]);
  if (images) docker(['rmi', '-f', ...new Set(images.split('\n'))]);
}

const cli = s2iCli();
const referenceName = cli ? `s2i CLI (${cli})` : 'docker CLI by hand (no s2i CLI found: S2I_BIN)';
const repo = makeRepo();
const platform = [];
const reference = [];
try {
  for (let i = 0; i < ROUNDS; i++) {
    // Each round on a machine at rest: the platform starts its next builder container 1.5 s after an assemble.
    await sleep(AT_REST_MS);
    reference.push(cli ? s2iRound(i, repo, cli) : dockerRound(i, repo));
    await sleep(AT_REST_MS);
    platform.push(await platformRound(i, repo));
    const [p, r] = [platform[i], reference[i]];
    process.stderr.write(
      `round ${i + 1}/${ROUNDS}: build-service full ${seconds(p.full.total)} s (on ${p.full.node}, Push ${seconds(p.full.stages.Push)} s), incremental ${seconds(p.incremental.total)} s (on ${p.incremental.node}, Push ${seconds(p.incremental.stages.Push)} s); reference full ${seconds(r.full)} s, incremental ${seconds(r.incremental)} s\n`,
    );
  }
} finally {
  await cleanUp();
  rmSync(repo, { recursive: true, force: true });
}

const m = {
  full: median(platform.map((p) => p.full.total)),
  fullWithoutPush: median(platform.map((p) => p.full.withoutPush)),
  incremental: median(platform.map((p) => p.incremental.total)),
  incrementalWithoutPush: median(platform.map((p) => p.incremental.withoutPush)),
  referenceFull: median(reference.map((r) => r.full)),
  referenceIncremental: median(reference.map((r) => r.incremental)),
};
console.log(`a Node.js app with ${Object.keys(DEPENDENCIES).join(', ')} (lockfile), median of ${ROUNDS} rounds (s); reference: ${referenceName}`);
const stagesOf = (kind) =>
  [...Object.keys(platform[0][kind].stages).map((stage) => `${stage} ${seconds(median(platform.map((p) => p[kind].stages[stage])))}`), `outside the stages ${seconds(median(platform.map((p) => p[kind].outside)))}`].join(', ');
console.log(`  build-service full         ${seconds(m.full)}  (without Push ${seconds(m.fullWithoutPush)}; ${stagesOf('full')})`);
console.log(`  build-service incremental  ${seconds(m.incremental)}  (without Push ${seconds(m.incrementalWithoutPush)}; ${stagesOf('incremental')})`);
console.log(`  reference full             ${seconds(m.referenceFull)}`);
console.log(`  reference incremental      ${seconds(m.referenceIncremental)}`);
console.log(`ratio build-service / reference, full: ${(m.full / m.referenceFull).toFixed(2)} (without Push ${(m.fullWithoutPush / m.referenceFull).toFixed(2)})`);
console.log(`ratio build-service / reference, incremental: ${(m.incremental / m.referenceIncremental).toFixed(2)}`);
console.log(`ratio incremental / full: build-service ${(m.incremental / m.full).toFixed(2)}, reference ${(m.referenceIncremental / m.referenceFull).toFixed(2)}`);
