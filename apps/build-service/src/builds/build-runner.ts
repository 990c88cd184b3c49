import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Build } from '@paas/contracts/builds';

/** Annotation naming the process that claimed a build: `<host>/<pid>/<instance>`. */
export const RUNNER_ANNOTATION = 'paas.dev/build-runner';
export const RUNNER_ID = Symbol('RUNNER_ID');

export function currentRunnerId(): string {
  return `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
}

/**
 * Whether the process that claimed `build` is certainly gone: it ran on this host and its
 * pid is dead, or the pid is ours but the instance is an earlier one. A runner on another
 * host cannot be judged here (that needs a lease) and counts as alive.
 */
export function runnerIsGone(build: Build, self: string, isAlive: (pid: number) => boolean = pidAlive): boolean {
  const runner = build.metadata.annotations?.[RUNNER_ANNOTATION];
  if (!runner) return true;
  const [host, pid] = runner.split('/');
  const [selfHost, selfPid] = self.split('/');
  if (host !== selfHost) return false;
  if (pid === selfPid) return runner !== self;
  return !isAlive(Number(pid));
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
