// Starting the five services: those not built yet are skipped with a warning, those that
// are built must become ready. One started by an earlier `up` is restarted once its build
// output (or a library's) is newer than its pid file, so tests never run stale code.
import fs from 'node:fs';
import path from 'node:path';
import { REPO, relative, services } from './config.mjs';
import { step, warn } from './log.mjs';
import { ownedPid, pidFile, stop } from './proc.mjs';
import { ensureRunning } from './start.mjs';

export async function startServices() {
  const built = services.filter((service) => {
    if (fs.existsSync(service.main)) return true;
    warn(`${service.name}: ${relative(service.main)} does not exist yet, not started`);
    return false;
  });
  for (const service of built) await restartIfRebuilt(service);
  await ensureRunning(built);
}

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
