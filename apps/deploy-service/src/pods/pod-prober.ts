import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { LIVENESS_PROBE_FAILED, STARTUP_PROBE_FAILED, type Container, type Pod, type Probe } from '@paas/contracts/deployments';
import { ShardOwnership, shardOf } from '@paas/platform/shard-ownership';
import type { HttpProber } from '../adapters/http-prober';
import { HTTP_PROBER } from '../adapters/runtime.tokens';
import { CLUSTER, type Cluster } from '../nodes/cluster';
import { setCondition } from '../conditions';
import { NODE_SCOPE } from '@paas/contracts/nodes';
import { DEPLOY_SETTINGS, type DeploySettings } from '../deploy-settings';
import { DeployInformers } from '../informers';
import { keyOf, type Store } from '../store';
import { PodRepository } from './pod.repository';
import { isReady, isTerminating, podChanged } from './pod-state';
import type { ReadinessTracker } from './readiness';

/**
 * How long a pod waits between probes until it is first Ready (or its period, if shorter):
 * half the time it has taken so far, from `firstMs` up to `mostMs`. A pod is seen Ready at most
 * half again as late as it took to answer, and never more than `mostMs` late (an app that
 * answers in 50 ms is seen within 25 ms), at 14 probes in its first 2 s: a rollout of
 * many pods at once does not flood the prober.
 */
export const UNTIL_READY = { firstMs: 25, mostMs: 250 };

type ProbeKind = 'startup' | 'readiness' | 'liveness';
const KINDS: ProbeKind[] = ['startup', 'readiness', 'liveness'];
const PROBE_FIELDS = { startup: 'startupProbe', readiness: 'readinessProbe', liveness: 'livenessProbe' } as const satisfies Record<ProbeKind, keyof Container>;

interface Target {
  kind: ProbeKind;
  namespace: string;
  name: string;
  nodeName: string;
  containerID: string;
  /** What is probed: a URL to GET, an address to connect to, or a command to run in the container. */
  check: { url: string } | { host: string; port: number } | { command: string[] };
  probe: Probe;
  ready: boolean;
  /** Ready at least once: from then on probed at its period, before that as UNTIL_READY says. */
  wasReady: boolean;
  /** When it began to be probed (its container had just started). */
  since: number;
  failures: number;
  nextAt: number;
  inFlight: boolean;
}

/**
 * Probes each running pod's startup, readiness and liveness probes on their own periods,
 * straight at the container's address on its node's network when that node is this host's
 * engine (no port proxy in between), else at the port it publishes on its node's address: a
 * GET answering 200–399 over kept-alive connections (`httpGet`), a connection that opens
 * (`tcpSocket`), or a command run in the container through its node's engine that exits 0
 * (`exec`).
 *
 * Startup: while a container's startup probe has not succeeded once, its readiness and
 * liveness are not probed; after `failureThreshold` failures in a row it is restarted as for
 * liveness (`StartupProbeFailed`). Once it succeeds it is not probed again, and the others
 * start at once (their `initialDelaySeconds` counted from the container's start).
 *
 * Readiness: Ready after one success, not ready after `failureThreshold` failures in a row; a
 * change is written to the pod's Ready condition with `pod.changed` in its outbox, and that
 * change has the pod's RC and Services reconciled. Until a pod is first Ready it is probed
 * again after half the time it has taken so far, from 25 ms up to 250 ms (UNTIL_READY); after,
 * at its period (10 s by default, as Kubernetes'): a platform at rest probes each pod rarely, a
 * new pod is seen Ready soon after it answers.
 *
 * Liveness: probed at its period from `initialDelaySeconds` on; after `failureThreshold`
 * failures in a row the pod is marked not ready (`LivenessProbeFailed`, with `pod.changed`)
 * and its container stopped: the RC controller starts it again as a restart, with back-off
 * if that repeats.
 *
 * One timer, armed for the next probe due: nothing runs between probes. Only pods of
 * namespaces this replica owns are probed.
 */
@Injectable()
export class PodProber implements ReadinessTracker, OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(PodProber.name);
  private readonly targets = new Map<string, Target>();
  private timer?: NodeJS.Timeout;
  private started = false;

  constructor(
    @Inject(HTTP_PROBER) private readonly http: HttpProber,
    @Inject(PodRepository) private readonly pods: Store<Pod>,
    @Inject(DeployInformers) private readonly cache: Pick<DeployInformers, 'nodes'>,
    @Inject(CLUSTER) private readonly cluster: Pick<Cluster, 'runtimeOf'>,
    @Inject(ShardOwnership) private readonly ownership: Pick<ShardOwnership, 'listen' | 'shards'>,
    @Inject(DEPLOY_SETTINGS) private readonly settings: DeploySettings,
  ) {}

  onModuleInit() {
    this.started = true;
    this.ownership.listen({
      acquired: () => undefined,
      lost: (shard) => {
        for (const target of [...this.targets.values()]) if (shardOf(target.namespace, this.ownership.shards) === shard) this.forget(target.namespace, target.name);
      },
    });
    this.schedule();
  }

  onApplicationShutdown() {
    this.started = false;
    clearTimeout(this.timer);
  }

  watch(pod: Pod): void {
    for (const kind of KINDS) this.watchFor(kind, pod);
    this.schedule();
  }

  private watchFor(kind: ProbeKind, pod: Pod) {
    const probe = pod.spec.containers[0]?.[PROBE_FIELDS[kind]];
    const { containerID } = pod.status;
    const key = targetKey(pod.metadata.namespace, pod.metadata.name, kind);
    if (!probe || !containerID || isTerminating(pod)) return;
    if (this.targets.get(key)?.containerID === containerID) return;
    // A pod Ready already (a restarted deploy-service finds it so) started long ago.
    if (kind === 'startup' && isReady(pod)) return;
    const check = this.checkOf(pod, probe);
    if (!check) return;
    this.targets.set(key, {
      kind,
      namespace: pod.metadata.namespace,
      name: pod.metadata.name,
      nodeName: pod.spec.nodeName,
      containerID,
      check,
      probe,
      // A restarted deploy-service keeps what it last recorded until probes say otherwise.
      ready: isReady(pod),
      wasReady: isReady(pod),
      failures: 0,
      since: this.settings.now(),
      nextAt: this.settings.now() + probe.initialDelaySeconds * 1000,
      inFlight: false,
    });
  }

  /** What a probe of `pod` reaches; undefined while a network probe has no published port to go to. */
  private checkOf(pod: Pod, probe: Probe): Target['check'] | undefined {
    if (probe.exec) return { command: probe.exec.command };
    const { hostPort, hostIP, podIP } = pod.status;
    if (!hostPort) return undefined;
    // A container's own address is reachable from here only on this host's engine; elsewhere, the published port.
    const local = this.cache.nodes.get(NODE_SCOPE, pod.spec.nodeName)?.spec.engine.url.startsWith('unix://') ?? false;
    const port = probe.httpGet?.port ?? probe.tcpSocket?.port;
    const [host, hostSidePort] = podIP && local && port ? [podIP, port] : [hostIP ?? '127.0.0.1', hostPort];
    return probe.httpGet ? { url: `http://${host}:${hostSidePort}${probe.httpGet.path}` } : { host, port: hostSidePort };
  }

  /** A readiness or liveness probe held back while its container's startup probe has not succeeded. */
  private waitsForStartup(target: Target): boolean {
    return target.kind !== 'startup' && this.targets.get(targetKey(target.namespace, target.name, 'startup'))?.containerID === target.containerID;
  }

  forget(namespace: string, name: string): void {
    for (const kind of KINDS) this.targets.delete(targetKey(namespace, name, kind));
  }

  /** Runs the probes that are due (the timer calls it; tests call it with their own clock). */
  async probeDue(): Promise<void> {
    const now = this.settings.now();
    const due = [...this.targets.values()].filter((target) => !target.inFlight && target.nextAt <= now && !this.waitsForStartup(target));
    await Promise.all(due.map((target) => this.probeOnce(target)));
  }

  /** Arms the one timer for the earliest probe due. */
  private schedule() {
    if (!this.started) return;
    clearTimeout(this.timer);
    let next = Infinity;
    for (const target of this.targets.values()) if (!target.inFlight && !this.waitsForStartup(target)) next = Math.min(next, target.nextAt);
    if (next === Infinity) return;
    this.timer = setTimeout(() => void this.probeDue().finally(() => this.schedule()), Math.max(0, next - this.settings.now()));
    this.timer.unref();
  }

  private async probeOnce(target: Target) {
    target.inFlight = true;
    try {
      const ok = await this.run(target);
      target.failures = ok ? 0 : target.failures + 1;
      const current = this.targets.get(targetKey(target.namespace, target.name, target.kind)) === target;
      if (!current) return;
      if (target.kind === 'startup' && ok) {
        await this.startupSucceeded(target);
        return;
      }
      if (target.kind !== 'readiness') {
        if (target.failures >= target.probe.failureThreshold) await this.restart(target);
        return;
      }
      const ready = ok ? true : target.failures >= target.probe.failureThreshold ? false : target.ready;
      if (ready !== target.ready) {
        await this.record(target, ready);
        target.ready = ready;
      }
    } catch (error) {
      this.logger.warn({ msg: `recording the ${target.kind} of pod ${target.namespace}/${target.name} failed: ${(error as Error).message}` });
    } finally {
      target.inFlight = false;
      target.wasReady ||= target.ready;
      target.nextAt = this.settings.now() + this.periodOf(target);
    }
  }

  /** Liveness is probed at its period from the start; readiness as UNTIL_READY says until the first Ready. */
  private periodOf(target: Target): number {
    const periodMs = target.probe.periodSeconds * 1000;
    if (target.kind !== 'readiness' || target.wasReady) return periodMs;
    const halfSoFar = (this.settings.now() - target.since) / 2;
    return Math.min(periodMs, UNTIL_READY.mostMs, Math.max(UNTIL_READY.firstMs, halfSoFar));
  }

  private run({ check, probe, nodeName, containerID }: Target): Promise<boolean> {
    const timeoutMs = probe.timeoutSeconds * 1000;
    if ('url' in check) return this.http.probe(check.url, timeoutMs);
    if ('host' in check) return this.http.connects(check.host, check.port, timeoutMs);
    return this.cluster.runtimeOf(nodeName)?.exec(containerID, check.command, timeoutMs) ?? Promise.resolve(false);
  }

  /**
   * A startup probe that succeeded is done with; the container's other probes start now. A
   * container without a readiness probe is Ready from here (as one without any probe is from
   * its start).
   */
  private async startupSucceeded(target: Target) {
    this.targets.delete(targetKey(target.namespace, target.name, 'startup'));
    const now = this.settings.now();
    for (const kind of ['readiness', 'liveness'] as const) {
      const next = this.targets.get(targetKey(target.namespace, target.name, kind));
      if (next?.containerID === target.containerID) next.nextAt = Math.max(next.nextAt, now);
    }
    if (this.targets.get(targetKey(target.namespace, target.name, 'readiness'))?.containerID !== target.containerID) await this.record(target, true);
  }

  /**
   * A container that failed its liveness or startup probe: the pod says why (not ready, out of
   * the Endpoints, a Warning Event from its `pod.changed`), then the container is stopped. Its
   * RC starts it again, and the new container is probed afresh.
   */
  private async restart(target: Target) {
    const { namespace, name, containerID } = target;
    this.forget(namespace, name);
    const message = `${target.kind} probe ${described(target)} failed ${target.failures} times in a row: the container is restarted`;
    const reason = target.kind === 'startup' ? STARTUP_PROBE_FAILED : LIVENESS_PROBE_FAILED;
    const pod = await this.pods.find(namespace, name);
    if (!pod || pod.status.containerID !== containerID || isTerminating(pod)) return;
    await this.pods.update(
      namespace,
      name,
      (current) => {
        if (current.status.containerID !== containerID || isTerminating(current)) return undefined;
        const condition = { type: 'Ready', status: 'False' as const, reason, message };
        return { ...current, status: { ...current.status, conditions: setCondition(current.status.conditions, condition, this.settings.now()) } };
      },
      { outbox: (next) => [podChanged(next, false)] },
    );
    this.logger.log({ msg: `pod ${namespace}/${name}: ${message}` });
    await this.cluster.runtimeOf(target.nodeName)?.remove(containerID, { graceSeconds: this.settings.graceSeconds });
  }

  private async record(target: Target, ready: boolean) {
    const { namespace, name, containerID } = target;
    const pod = await this.pods.find(namespace, name);
    if (!pod || pod.status.containerID !== containerID || isTerminating(pod)) {
      this.forget(namespace, name);
      return;
    }
    await this.pods.update(
      namespace,
      name,
      (current) => {
        if (current.status.containerID !== containerID || isTerminating(current)) return undefined;
        const condition = ready
          ? { type: 'Ready', status: 'True' as const }
          : { type: 'Ready', status: 'False' as const, reason: 'ReadinessProbeFailed', message: `${described(target)} failed ${target.failures} times` };
        return { ...current, status: { ...current.status, conditions: setCondition(current.status.conditions, condition, this.settings.now()) } };
      },
      { outbox: (next) => [podChanged(next, ready)] },
    );
  }
}

function targetKey(namespace: string, name: string, kind: ProbeKind): string {
  return `${keyOf(namespace, name)}#${kind}`;
}

/** A probe as its messages name it: `GET <url>`, `TCP <host>:<port>`, or `exec <command>`. */
function described({ check }: Target): string {
  if ('url' in check) return `GET ${check.url}`;
  return 'host' in check ? `TCP ${check.host}:${check.port}` : `exec ${check.command.join(' ')}`;
}
