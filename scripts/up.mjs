// npm run up: installs what the platform needs and starts it, skipping every step whose
// result is already there, so a second run only checks. `--infra-only` stops after the
// infrastructure (Docker engine, NATS, FerretDB, Zipkin).
import fs from 'node:fs';
import path from 'node:path';
import {
  REPO, bin, dirs, externalMongo, infrastructure, ports, relative, serviceEnv, services, toolEnv,
} from './lib/config.mjs';
import { main, ok, produce, seconds, step, warn } from './lib/log.mjs';
import { ownedPid, pidFile, runLogged, logFile, stop } from './lib/proc.mjs';
import {
  addGoToPath, ensureAptPackages, ensureFerretdb, ensureNodeModules, ensureZipkin,
} from './lib/provision.mjs';
import { ensureRunning } from './lib/start.mjs';

const BUILDERS_SCRIPT = path.join(REPO, 'apps', 'build-service', 'builders', 'build-all.sh');
const infraOnly = process.argv.includes('--infra-only');

await main(async () => {
  const started = Date.now();
  addGoToPath();
  await ensureAptPackages();
  await ensureNodeModules();
  if (externalMongo) ok('MONGO_URL is set: using that MongoDB, not FerretDB');
  else await ensureFerretdb();
  await ensureZipkin();
  await ensureRunning(infrastructure.filter((entry) => entry.enabled));
  if (!infraOnly) {
    await buildBuilderImages();
    await buildWorkspace();
    await startServices();
  }
  printSummary(Date.now() - started);
});

async function buildBuilderImages() {
  if (!fs.existsSync(BUILDERS_SCRIPT)) {
    return warn(`${relative(BUILDERS_SCRIPT)} does not exist yet: no S2I builder images built`);
  }
  await produce(`building the S2I builder images (log ${relative(logFile('builder-images'))})`,
    'builder images ready', () =>
      runLogged('builder-images', 'bash', [BUILDERS_SCRIPT], { cwd: REPO, env: { ...process.env, ...serviceEnv } }));
}

async function buildWorkspace() {
  await produce(`building the workspace: nx run-many -t build (log ${relative(logFile('nx-build'))})`,
    'workspace built', () =>
      runLogged('nx-build', bin('nx'), ['run-many', '-t', 'build'], { cwd: REPO, env: toolEnv }));
}

/** Starts the services that are built; a service that fails to become ready fails up. */
async function startServices() {
  const built = services.filter((service) => {
    if (fs.existsSync(service.main)) return true;
    warn(`${service.name}: ${relative(service.main)} does not exist yet, not started`);
    return false;
  });
  for (const service of built) await restartIfRebuilt(service);
  await ensureRunning(built);
}

/** A service started by an earlier `up` runs stale code once its build output has changed. */
async function restartIfRebuilt(service) {
  if (!ownedPid(service)) return;
  const startedAt = fs.statSync(pidFile(service.name)).mtimeMs;
  if (newestMtime([service.distDir, ...libDistDirs()]) <= startedAt) return;
  step(`${service.name} was rebuilt since it started: restarting it`);
  await stop(service);
}

function libDistDirs() {
  const libs = path.join(REPO, 'libs');
  return fs.readdirSync(libs).map((lib) => path.join(libs, lib, 'dist'));
}

function newestMtime(directories) {
  return Math.max(0, ...directories.filter((dir) => fs.existsSync(dir)).flatMap((dir) =>
    fs.readdirSync(dir, { recursive: true }).map((file) => fs.statSync(path.join(dir, file)).mtimeMs)));
}

function printSummary(ms) {
  ok(`platform up (${seconds(ms)})`);
  const lines = [
    ...(infraOnly ? [] : [
      ['API', `http://127.0.0.1:${ports.gateway}/api/v1`],
      ['routes', `http://<name>-<namespace>.${serviceEnv.ROUTER_DOMAIN}:${ports.router}`],
    ]),
    ['traces', `http://127.0.0.1:${ports.zipkin}/zipkin/`],
    ['logs', `${relative(dirs.logs)}/<process>.log`],
    ['stop', 'npm run down'],
  ];
  for (const [label, value] of lines) console.log(`  ${label.padEnd(7)} ${value}`);
}
