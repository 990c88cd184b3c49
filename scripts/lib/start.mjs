// Bringing entries of the process table up: skip what already answers, start the rest
// detached, then wait for all of them together.
import { relative } from './config.mjs';
import { Failure, ok, seconds, step, timed } from './log.mjs';
import { isHealthy, describeHealth, waitHealthy } from './probe.mjs';
import { isRunning, logFile, ownedPid, spawnDetached, tail } from './proc.mjs';

export async function ensureRunning(entries) {
  const pending = [];
  for (const entry of entries) {
    if (await isHealthy(entry)) ok(`${entry.name} already running`);
    else pending.push(startOrAdopt(entry));
  }
  const failures = (await Promise.all(pending.map(awaitReady))).filter(Boolean);
  if (failures.length > 0) throw new Failure(failures.join('\n'));
}

/**
 * Starts the entry, unless a process we started earlier is still alive (and starting up).
 * One that exits while we wait for it was stopping, not starting (a restart by hand, a
 * crash on its way out): it is started again, once.
 */
function startOrAdopt(entry) {
  const pid = ownedPid(entry);
  if (pid) {
    step(`${entry.name} (pid ${pid}) is not answering yet, waiting for it`);
    return { entry, hasExited: () => !isRunning(pid), adopted: true };
  }
  return start(entry);
}

function start(entry) {
  step(`starting ${entry.name} (log ${relative(logFile(entry.name))})`);
  const child = spawnDetached(entry);
  return { entry, hasExited: () => child.exited };
}

/** Resolves to null when ready, else to a description of the failure. */
async function awaitReady({ entry, hasExited, adopted }) {
  let [outcome, ms] = await timed(() => waitHealthy(entry, hasExited));
  if (outcome === 'exited' && adopted) [outcome, ms] = await timed(() => waitHealthy(entry, start(entry).hasExited));
  if (outcome === 'ready') {
    ok(`${entry.name} ready (${seconds(ms)})`);
    return null;
  }
  const log = logFile(entry.name);
  const what = outcome === 'exited' ? 'exited' : `not ready after ${seconds(entry.startTimeoutMs)}`;
  return `${entry.name} ${what} (waited for ${describeHealth(entry)}); ` +
    `last lines of ${relative(log)}:\n${tail(log)}`;
}
