// Processes: detached daemons with pid and log files under PAAS_HOME, and foreground
// commands whose output goes either to the terminal or to a log file.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { dirs, relative } from './config.mjs';
import { Failure } from './log.mjs';

export const pidFile = (name) => path.join(dirs.run, `${name}.pid`);
export const logFile = (name) => path.join(dirs.logs, `${name}.log`);

export function readPid(name) {
  try {
    const pid = Number.parseInt(fs.readFileSync(pidFile(name), 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

export const removePidFile = (name) => fs.rmSync(pidFile(name), { force: true });

/** Alive and not a zombie (an exited child of a still-running parent). */
export function isRunning(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** A process's command line, as the list of its arguments. */
export function processArgv(pid) {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  } catch {
    return [];
  }
}

/** The environment a process was started with (from /proc), as an object. */
export function processEnv(pid) {
  try {
    return Object.fromEntries(fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean)
      .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]));
  } catch {
    return {};
  }
}

/** The program a process runs (its executable's real path), or null. */
export function processExecutable(pid) {
  try {
    return fs.readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return null;
  }
}

/** Names of the pid files in .paas/run that match `pattern` (e.g. /^router-\d+$/). */
export function pidNames(pattern) {
  try {
    return fs.readdirSync(dirs.run).filter((file) => file.endsWith('.pid'))
      .map((file) => file.slice(0, -'.pid'.length)).filter((name) => pattern.test(name));
  } catch {
    return [];
  }
}

/** The pid from the entry's pid file if that process is still the one we started, else null. */
export function ownedPid(entry) {
  const pid = readPid(entry.name);
  return pid && isRunning(pid) && processArgv(pid).includes(entry.program) ? pid : null;
}

/** Starts the entry in its own session, output appended to its log; it outlives this script. */
export function spawnDetached(entry) {
  for (const dir of [dirs.run, dirs.logs, ...entry.dirs]) fs.mkdirSync(dir, { recursive: true });
  const log = logFile(entry.name);
  fs.appendFileSync(log, `\n=== ${new Date().toISOString()} starting: ${entry.command.join(' ')}\n`);
  const fd = fs.openSync(log, 'a');
  const [command, ...args] = entry.command;
  const child = spawn(command, args, {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, ...entry.env },
  });
  fs.closeSync(fd);
  child.exited = false;
  child.on('exit', () => (child.exited = true));
  child.on('error', (error) => { // e.g. ENOENT: shown with the log's tail by the start wait
    child.exited = true;
    fs.appendFileSync(log, `${error.message}\n`);
  });
  if (child.pid) fs.writeFileSync(pidFile(entry.name), `${child.pid}\n`);
  child.unref();
  return child;
}

async function waitForExit(pid, timeoutMs) {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(200)) {
    if (!isRunning(pid)) return true;
  }
  return !isRunning(pid);
}

/**
 * Stops what up started, by pid file: SIGTERM, then SIGKILL to its process group after the
 * entry's stop timeout. Resolves to null when there was no pid file, else to
 * { stopped, message }.
 */
export async function stop(entry) {
  if (readPid(entry.name) === null) return null;
  const pid = ownedPid(entry);
  removePidFile(entry.name);
  if (!pid) return { stopped: false, message: 'stale pid file removed' };
  signal(pid, 'SIGTERM');
  if (await waitForExit(pid, entry.stopTimeoutMs)) return { stopped: true, message: `stopped (pid ${pid})` };
  signal(-pid, 'SIGKILL') || signal(pid, 'SIGKILL'); // its process group, if it leads one
  await waitForExit(pid, 5_000);
  return { stopped: true, message: `killed after ${entry.stopTimeoutMs / 1000} s (pid ${pid})` };
}

function signal(pid, name) {
  try {
    return process.kill(pid, name);
  } catch (error) {
    if (error.code === 'ESRCH') return false;
    throw error;
  }
}

export const commandExists = (command) =>
  spawnSync('sh', ['-c', 'command -v "$1"', 'sh', command], { stdio: 'ignore' }).status === 0;

/** Runs a command with the terminal's stdio; resolves to its exit code. */
export function run(command, args, options = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'inherit', ...options });
    child.on('error', (error) => {
      console.error(`${command}: ${error.message}`);
      resolve(127);
    });
    // Killed by a signal: 128 + its number, as a shell says it.
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1)));
  });
}

export function tail(file, lines = 25) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log yet)';
  }
}

/**
 * Runs a command to completion with its output in .paas/logs/<logName>.log (replaced each
 * time); throws a Failure with the log's tail if it fails.
 */
export async function runLogged(logName, command, args, options = {}) {
  fs.mkdirSync(dirs.logs, { recursive: true });
  const log = logFile(logName);
  const fd = fs.openSync(log, 'w');
  const code = await run(command, args, { ...options, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  if (code !== 0) {
    throw new Failure(`${[command, ...args].join(' ')} failed (exit ${code}); ` +
      `last lines of ${relative(log)}:\n${tail(log)}`);
  }
}

/** Runs a command and returns its stdout; throws a Failure with its stderr if it fails. */
export function capture(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...options });
  if (result.status !== 0) {
    const reason = result.error?.message ?? (result.stderr.trim() || result.stdout.trim());
    throw new Failure(`${[command, ...args].join(' ')} failed: ${reason}`);
  }
  return result.stdout;
}
