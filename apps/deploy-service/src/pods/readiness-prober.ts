import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { DEPLOYMENT_LABELS, type Pod, type ReadinessProbe } from '@paas/contracts/deployments';
import { EventBus } from '@paas/platform/events';
import type { HttpProber } from '../adapters/http-prober';
import { HTTP_PROBER } from '../adapters/runtime.tokens';
import { setCondition } from '../conditions';
import { DEPLOY_SETTINGS, type DeploySettings } from '../deploy-settings';
import { ENQUEUER, type Enqueuer } from '../reconcile/enqueuer';
import { keyOf, type Store } from '../store';
import { PodRepository } from './pod.repository';
import { isReady, isTerminating } from './pod-state';
import type { ReadinessTracker } from './readiness';

const TICK_MS = 50;

interface Target {
  namespace: string;
  name: string;
  containerID: string;
  url: string;
  probe: ReadinessProbe;
  ready: boolean;
  failures: number;
  nextAt: number;
  inFlight: boolean;
}

/**
 * Probes each running pod's readiness endpoint on its own period (`GET
 * http://127.0.0.1:<hostPort><path>`, 200–399 = success). Ready after one success, not ready
 * after `failureThreshold` failures in a row; a change is written to the pod's Ready
 * condition, published as `pod.changed`, and its RC and Services are reconciled.
 */
@Injectable()
export class ReadinessProber implements ReadinessTracker, OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ReadinessProber.name);
  private readonly targets = new Map<string, Target>();
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(HTTP_PROBER) private readonly http: HttpProber,
    @Inject(PodRepository) private readonly pods: Store<Pod>,
    @Inject(EventBus) private readonly events: Pick<EventBus, 'publish'>,
    @Inject(ENQUEUER) private readonly enqueue: Enqueuer,
    @Inject(DEPLOY_SETTINGS) private readonly settings: DeploySettings,
  ) {}

  onModuleInit() {
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  onApplicationShutdown() {
    clearInterval(this.timer);
  }

  watch(pod: Pod): void {
    const probe = pod.spec.containers[0]?.readinessProbe;
    const { containerID, hostPort } = pod.status;
    const key = keyOf(pod.metadata.namespace, pod.metadata.name);
    if (!probe || !containerID || !hostPort || isTerminating(pod)) return;
    if (this.targets.get(key)?.containerID === containerID) return;
    this.targets.set(key, {
      namespace: pod.metadata.namespace,
      name: pod.metadata.name,
      containerID,
      url: `http://${pod.status.podIP ?? '127.0.0.1'}:${hostPort}${probe.httpGet.path}`,
      probe,
      // A restarted deploy-service keeps what it last recorded until probes say otherwise.
      ready: isReady(pod),
      failures: 0,
      nextAt: this.settings.now() + probe.initialDelaySeconds * 1000,
      inFlight: false,
    });
  }

  forget(namespace: string, name: string): void {
    this.targets.delete(keyOf(namespace, name));
  }

  /** Runs the probes that are due; exported for tests through `probeDue`. */
  tick(): void {
    void this.probeDue();
  }

  async probeDue(): Promise<void> {
    const now = this.settings.now();
    const due = [...this.targets.values()].filter((target) => !target.inFlight && target.nextAt <= now);
    await Promise.all(due.map((target) => this.probeOnce(target)));
  }

  private async probeOnce(target: Target) {
    target.inFlight = true;
    try {
      const ok = await this.http.probe(target.url, target.probe.timeoutSeconds * 1000);
      target.failures = ok ? 0 : target.failures + 1;
      const ready = ok ? true : target.failures >= target.probe.failureThreshold ? false : target.ready;
      if (ready !== target.ready && this.targets.get(keyOf(target.namespace, target.name)) === target) {
        await this.record(target, ready);
        target.ready = ready;
      }
    } catch (error) {
      this.logger.warn({ msg: `recording readiness of pod ${target.namespace}/${target.name} failed: ${(error as Error).message}` });
    } finally {
      target.inFlight = false;
      target.nextAt = this.settings.now() + target.probe.periodSeconds * 1000;
    }
  }

  private async record(target: Target, ready: boolean) {
    const { namespace, name, containerID } = target;
    const pod = await this.pods.find(namespace, name);
    if (!pod || pod.status.containerID !== containerID || isTerminating(pod)) {
      this.forget(namespace, name);
      return;
    }
    const updated = await this.pods.update(namespace, name, (current) => {
      if (current.status.containerID !== containerID || isTerminating(current)) return undefined;
      const condition = ready
        ? { type: 'Ready', status: 'True' as const }
        : { type: 'Ready', status: 'False' as const, reason: 'ReadinessProbeFailed', message: `GET ${target.url} failed ${target.failures} times` };
      return { ...current, status: { ...current.status, conditions: setCondition(current.status.conditions, condition, this.settings.now()) } };
    });
    if (isReady(updated) !== ready) return;
    await this.events.publish('pod.changed', { namespace, name, phase: updated.status.phase, ready });
    const rc = updated.metadata.labels?.[DEPLOYMENT_LABELS.deployment];
    if (rc) this.enqueue.replicationController(namespace, rc);
    await this.enqueue.endpointsSelecting(namespace, [updated.metadata.labels ?? {}]);
  }
}
