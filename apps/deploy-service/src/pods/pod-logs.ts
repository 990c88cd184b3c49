import { Inject, Injectable } from '@nestjs/common';
import { CRASH_LOOP_BACK_OFF, type Pod, type PodLog, type PodLogOptions } from '@paas/contracts/deployments';
import { ApiError } from '@paas/platform/api-error';
import { RUNTIME_LABELS, type RuntimeContainer } from '../adapters/container-runtime';
import { CLUSTER, type Cluster } from '../nodes/cluster';
import type { Store } from '../store';
import { PodRepository } from './pod.repository';

/**
 * `GET pods/{name}/log`: what the pod's container wrote, read from its node's engine, as
 * `kubectl logs` reads it. The current container is the one the pod's status names (while a
 * pod crash-loops, the one that stopped last); `previous` is the one before it, while its node
 * still has it, or the stopped one a crash-looping pod waits to replace.
 */
@Injectable()
export class PodLogs {
  constructor(
    @Inject(PodRepository) private readonly pods: Pick<Store<Pod>, 'get'>,
    @Inject(CLUSTER) private readonly cluster: Pick<Cluster, 'runtimeOf'>,
  ) {}

  async read(namespace: string, name: string, options: PodLogOptions): Promise<PodLog> {
    const pod = await this.pods.get(namespace, name);
    const node = pod.spec.nodeName;
    const runtime = node ? this.cluster.runtimeOf(node) : undefined;
    if (!node || !runtime) throw ApiError.of('BadRequest', `pod "${name}" has no container yet: it is not placed on a node (${pod.status.reason ?? pod.status.phase})`);
    const containers = await runtime.listByOwner({ [RUNTIME_LABELS.namespace]: namespace, [RUNTIME_LABELS.pod]: name });
    const container = options.previous ? previousOf(pod, containers) : containers.find((c) => c.id === pod.status.containerID) ?? containers.find((c) => c.state === 'running');
    if (!container) {
      throw ApiError.of('BadRequest', options.previous ? `previous terminated container of pod "${name}" not found` : `container of pod "${name}" is not there yet (${pod.status.reason ?? pod.status.phase})`);
    }
    const since = options.sinceTime === undefined ? undefined : fixedTime(options.sinceTime);
    if (since === undefined && options.sinceTime !== undefined) throw ApiError.invalid('PodLogOptions', name, 'sinceTime', 'must be an RFC 3339 time');
    const text = await runtime.logs(container.id, {
      ...(options.tailLines !== undefined ? { tail: options.tailLines } : {}),
      // A follower's next read starts at its last line's time: lines stamped at or before it were sent already.
      timestamps: options.timestamps || since !== undefined,
      ...(since ? { since: unixSeconds(since) } : {}),
    });
    const lines = since ? text.split('\n').filter((line) => line && stampOf(line) > since) : undefined;
    const kept = lines ? lines.map((line) => (options.timestamps ? line : line.slice(line.indexOf(' ') + 1))).join('\n') + (lines.length ? '\n' : '') : text;
    return { log: kept, running: container.state === 'running' };
  }
}

/** The container that ran before the current one. */
function previousOf(pod: Pod, containers: RuntimeContainer[]): RuntimeContainer | undefined {
  const stopped = containers.filter((c) => c.state === 'exited' || c.state === 'dead');
  const older = stopped.find((c) => c.id !== pod.status.containerID);
  if (older) return older;
  return pod.status.reason === CRASH_LOOP_BACK_OFF ? stopped.find((c) => c.id === pod.status.containerID) : undefined;
}

/**
 * An RFC 3339 time in the engine's fixed form (UTC, nine fraction digits), so that it compares
 * with the lines' stamps as a string; undefined when it is not a time.
 */
export function fixedTime(time: string): string | undefined {
  const utc = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(time);
  if (utc) return Number.isNaN(Date.parse(`${utc[1]}Z`)) ? undefined : `${utc[1]}.${(utc[2] ?? '').padEnd(9, '0')}Z`;
  const parsed = Date.parse(time);
  return /^\d{4}-\d\d-\d\dT/.test(time) && !Number.isNaN(parsed) ? fixedTime(new Date(parsed).toISOString()) : undefined;
}

/** A fixed time as the engine's `since` (`<seconds>.<nanoseconds>`). */
function unixSeconds(fixed: string): string {
  return `${Math.floor(Date.parse(fixed) / 1000)}.${fixed.slice(20, 29)}`;
}

/** A line's timestamp (RFC 3339 nano, fixed width from the engine, so strings compare as times). */
function stampOf(line: string): string {
  return line.slice(0, line.indexOf(' '));
}
