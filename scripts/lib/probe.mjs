// Health probes for the process table: a TCP connect, an HTTP 2xx, or a command exiting 0.
import { execFile } from 'node:child_process';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export function tcpOpen(port, host = '127.0.0.1', timeoutMs = 1_000) {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (open) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export async function httpOk(url, timeoutMs = 2_000) {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

export function commandOk([command, ...args], timeoutMs = 15_000) {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: timeoutMs }, (error) => resolve(!error));
  });
}

export function isHealthy({ health }) {
  if (health.tcp) return tcpOpen(health.tcp);
  if (health.http) return httpOk(health.http);
  return commandOk(health.command);
}

export function describeHealth({ health }) {
  if (health.tcp) return `127.0.0.1:${health.tcp} accepting connections`;
  if (health.http) return `${health.http} answering 2xx`;
  return `\`${health.command.join(' ')}\` succeeding`;
}

/**
 * Polls the entry's health until it answers. Resolves to 'ready', 'exited' (hasExited()
 * turned true first) or 'timeout'.
 */
export async function waitHealthy(entry, hasExited, timeoutMs = entry.startTimeoutMs) {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await sleep(250)) {
    if (await isHealthy(entry)) return 'ready';
    if (hasExited()) return 'exited';
  }
  return 'timeout';
}
