// The five services, each as its replicas (.paas/run/<service>-<i>.pid). Services not built
// yet are skipped with a warning; the others converge in one pass: replicas beyond the count
// stop; a replica whose build (or a library's), Node or settings changed since it started is
// restarted, one at a time per service and each waited for, so that a service with two or
// more replicas keeps answering on its shared port; missing replicas start.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { REPO, artifacts, relative, serviceReplica, services } from './config.mjs';
import { ok, step, warn } from './log.mjs';
import { ownedPid, pidNames, processEnv, processExecutable, stop } from './proc.mjs';
import { ensureRunning } from './start.mjs';

const indexPattern = (service) => new RegExp(`^${service.name}-(\\d+)$`);

/** The replicas of `service` that have a pid file, highest index first. */
function recordedReplicas(service) {
  return pidNames(indexPattern(service))
    .map((name) => serviceReplica(service, Number(indexPattern(service).exec(name)[1])))
    .sort((a, b) => b.index - a.index);
}

/**
 * The single process per service that `up` ran before replicas (`.paas/run/<service>.pid`):
 * it holds the ports replica 0 needs and never shares them.
 */
const singleProcess = (service) => ({ name: service.name, program: service.main, stopTimeoutMs: 10_000 });

async function stopAndSay(entry) {
  const outcome = await stop(entry);
  if (outcome) ok(`${entry.name}: ${outcome.message}`);
  return outcome?.stopped ?? false;
}

const MIGRATE_REQ = '/proc/sys/net/ipv4/tcp_migrate_req';

/**
 * The replicas of a service share its port (SO_REUSEPORT). When one dies, the connections the
 * kernel had already queued on its listener were reset, connections a client had just opened
 * (often to resend what the dead replica never answered). With tcp_migrate_req (Linux 5.14)
 * the kernel hands them to another replica's listener instead.
 */
function ensureListenerHandover() {
  try {
    if (fs.readFileSync(MIGRATE_REQ, 'utf8').trim() !== '1') fs.writeFileSync(MIGRATE_REQ, '1');
    ok('a dead replica\'s queued connections go to another replica (net.ipv4.tcp_migrate_req=1)');
  } catch (error) {
    warn(`net.ipv4.tcp_migrate_req not set (${error.code ?? error.message}): connections queued on a replica that dies are reset`);
  }
}

/**
 * Brings every built service to `counts[service]` replicas (a service `counts` leaves out is
 * left as it is); `extraEnv[service]` adds to its environment (e.g. the registry's
 * PAAS_EXTRA_LISTEN), `sharedEnv` to every service's (the bus: config.mjs busEnv).
 */
export async function startServices(counts, extraEnv = {}, sharedEnv = {}) {
  ensureListenerHandover();
  const asked = services.filter((service) => counts[service.name] !== undefined);
  for (const service of asked) {
    await stopAndSay(singleProcess(service));
    for (const replica of recordedReplicas(service).filter((r) => r.index >= counts[service.name])) {
      step(`${replica.name}: beyond the ${counts[service.name]} replica(s) asked for, stopping it`);
      await stopAndSay(replica);
    }
  }
  const built = asked.filter((service) => {
    if (fs.existsSync(service.main)) return true;
    warn(`${service.name}: ${relative(service.main)} does not exist yet, not started`);
    return false;
  });
  const replicas = built.map((service) => {
    const env = { ...sharedEnv, ...extraEnv[service.name], PAAS_BUILD: buildFingerprint(service) };
    return Array.from({ length: counts[service.name] }, (_, index) => serviceReplica(service, index, env));
  });
  await Promise.all(replicas.map(restartChanged));
  await ensureRunning(replicas.flat());
}

/** Stops every replica of every service (the last started first), whatever count started them. */
export async function stopServices() {
  let stopped = 0;
  for (const service of [...services].reverse()) {
    for (const entry of [...recordedReplicas(service), singleProcess(service)]) {
      if (await stopAndSay(entry)) stopped += 1;
    }
  }
  return stopped;
}

/** Restarts the replicas of one service that run something else than asked, one after another. */
async function restartChanged(replicas) {
  for (const replica of replicas) {
    const pid = ownedPid(replica);
    const reason = pid && whyRestart(replica, pid);
    if (!reason) continue;
    step(`${replica.name} ${reason}: restarting it`);
    await stop(replica);
    await ensureRunning([replica]);
  }
}

/** Why a running replica no longer is what up would start, or null. */
function whyRestart(replica, pid) {
  const running = processEnv(pid);
  if (running.PAAS_BUILD !== replica.env.PAAS_BUILD) return 'was rebuilt since it started';
  const executable = processExecutable(pid);
  if (executable !== fs.realpathSync(artifacts.node)) return `runs ${executable}, not ${relative(artifacts.node)}`;
  const changed = Object.keys(replica.env).filter((key) => running[key] !== replica.env[key]);
  return changed.length > 0 ? `was started with other settings (${changed.join(', ')})` : null;
}

/**
 * A digest of what a service runs: its build output and the libraries'. It travels in the
 * replica's environment (PAAS_BUILD), so a restart is due exactly when the code differs; file
 * times would not do, since nx rewrites every output it restores from its cache.
 */
function buildFingerprint(service) {
  const libs = path.join(REPO, 'libs');
  const dirs = [service.distDir, ...fs.readdirSync(libs).map((lib) => path.join(libs, lib, 'dist'))];
  const hash = createHash('sha256');
  for (const dir of dirs.filter((d) => fs.existsSync(d))) {
    for (const file of fs.readdirSync(dir, { recursive: true }).sort()) {
      const full = path.join(dir, file);
      if (!fs.statSync(full).isFile()) continue;
      hash.update(`${full}\0`).update(fs.readFileSync(full));
    }
  }
  return hash.digest('hex').slice(0, 16);
}
