import type { Pod, ReplicationController } from '@paas/contracts/deployments';
import type { EventMap, EventType } from '@paas/contracts/events';
import { API_VERSION, matchesLabels, type Labels } from '@paas/contracts/meta';
import { ApiError } from '@paas/platform/api-error';
import type { AnyResource, NewResource } from '@paas/platform/resource-repository';
import { isDeepStrictEqual } from 'node:util';
import type { ContainerRuntime, RunRequest, RuntimeContainer } from '../adapters/container-runtime';
import type { DeploySettings } from '../deploy-settings';
import type { ReadinessTracker } from '../pods/readiness';
import type { Enqueuer } from '../reconcile/enqueuer';
import type { Store } from '../store';

/** One log of what the code under test did, in order, shared by the fakes. */
export type ActionLog = string[];

/** A ResourceRepository in memory, with the same semantics (409 on stale versions, generation on spec change). */
export class InMemoryStore<R extends AnyResource> implements Store<R> {
  readonly items = new Map<string, R>();
  private clock = Date.parse('2030-01-01T00:00:00Z');

  constructor(
    readonly kind: R['kind'],
    private readonly log?: ActionLog,
  ) {}

  async create(input: NewResource<R>): Promise<R> {
    const key = `${input.metadata.namespace}/${input.metadata.name}`;
    if (this.items.has(key)) throw ApiError.alreadyExists(this.kind, input.metadata.name);
    const resource = {
      apiVersion: API_VERSION,
      kind: this.kind,
      metadata: { ...input.metadata, uid: `uid-${input.metadata.name}`, resourceVersion: '1', generation: 1, creationTimestamp: new Date((this.clock += 1000)).toISOString() },
      spec: input.spec,
      status: input.status,
    } as R;
    this.items.set(key, clone(resource));
    this.log?.push(`create ${this.kind} ${input.metadata.name}`);
    return clone(resource);
  }

  /** Puts a fully formed resource in place, as if stored earlier. */
  seed(resource: R): R {
    this.items.set(`${resource.metadata.namespace}/${resource.metadata.name}`, clone(resource));
    return resource;
  }

  async find(namespace: string, name: string): Promise<R | undefined> {
    const item = this.items.get(`${namespace}/${name}`);
    return item ? clone(item) : undefined;
  }

  async get(namespace: string, name: string): Promise<R> {
    const item = await this.find(namespace, name);
    if (!item) throw ApiError.notFound(this.kind, name);
    return item;
  }

  async list(filter: { namespace?: string; labels?: Labels } = {}): Promise<R[]> {
    return [...this.items.values()]
      .filter((r) => (!filter.namespace || r.metadata.namespace === filter.namespace) && matchesLabels(r.metadata.labels, filter.labels ?? {}))
      .sort((a, b) => a.metadata.creationTimestamp.localeCompare(b.metadata.creationTimestamp))
      .map(clone);
  }

  async update(namespace: string, name: string, mutate: (current: R) => R | undefined, options: { resourceVersion?: string } = {}): Promise<R> {
    const current = await this.get(namespace, name);
    if (options.resourceVersion && options.resourceVersion !== current.metadata.resourceVersion) throw ApiError.conflict(this.kind, name, 'stale');
    const next = mutate(clone(current));
    if (!next || isDeepStrictEqual(next, current)) return current;
    next.metadata = {
      ...next.metadata,
      resourceVersion: String(Number(current.metadata.resourceVersion) + 1),
      generation: current.metadata.generation + (isDeepStrictEqual(next.spec, current.spec) ? 0 : 1),
    };
    this.items.set(`${namespace}/${name}`, clone(next));
    return clone(next);
  }

  async updateStatus(namespace: string, name: string, mutate: (status: R['status'], resource: R) => R['status']): Promise<R> {
    return this.update(namespace, name, (current) => ({ ...current, status: mutate(current.status, current) }));
  }

  async delete(namespace: string, name: string): Promise<R> {
    const item = await this.get(namespace, name);
    this.items.delete(`${namespace}/${name}`);
    this.log?.push(`delete ${this.kind} ${name}`);
    return item;
  }
}

/** A node in memory: `run` starts a container at once on the next free port. */
export class FakeRuntime implements ContainerRuntime {
  readonly nodeName = 'local';
  readonly containers = new Map<string, RuntimeContainer>();
  readonly runs: RunRequest[] = [];
  private next = 1;

  constructor(private readonly log: ActionLog) {}

  async run(request: RunRequest): Promise<RuntimeContainer> {
    const id = `c${this.next++}`;
    const container: RuntimeContainer = { id, labels: { ...request.labels }, state: 'running', hostPort: 40000 + this.next };
    this.containers.set(id, container);
    this.runs.push(request);
    this.log.push(`run ${request.labels['paas.dev/pod']}`);
    return { ...container };
  }

  async remove(id: string, options: { graceSeconds?: number } = {}): Promise<void> {
    this.containers.delete(id);
    this.log.push(`remove ${id} grace=${options.graceSeconds ?? 'default'}`);
  }

  async listByOwner(labels: Labels): Promise<RuntimeContainer[]> {
    return [...this.containers.values()].filter((c) => matchesLabels(c.labels, labels)).map((c) => ({ ...c }));
  }

  async inspect(id: string): Promise<RuntimeContainer | undefined> {
    return this.containers.get(id);
  }

  /** A container as if it were already there (possibly exited). */
  seed(container: RuntimeContainer) {
    this.containers.set(container.id, container);
  }
}

export class RecordingEnqueuer implements Enqueuer {
  constructor(private readonly log: ActionLog) {}
  deploymentConfig(namespace: string, name: string) {
    this.log.push(`enqueue dc ${name}`);
  }
  replicationController(namespace: string, name: string) {
    this.log.push(`enqueue rc ${name}`);
  }
  endpoints(namespace: string, service: string) {
    this.log.push(`enqueue endpoints ${service}`);
  }
  async endpointsSelecting(namespace: string, podLabels: Labels[]) {
    this.log.push(`enqueue endpoints of ${podLabels.map((l) => l.deployment ?? '?').join(',')}`);
  }
}

export class RecordingTracker implements ReadinessTracker {
  readonly watched = new Set<string>();
  watch(pod: Pod) {
    this.watched.add(pod.metadata.name);
  }
  forget(_namespace: string, name: string) {
    this.watched.delete(name);
  }
}

export class RecordingEvents {
  readonly published: { type: EventType; data: unknown; id?: string }[] = [];
  constructor(private readonly log?: ActionLog) {}
  async publish<T extends EventType>(type: T, data: EventMap[T], options: { id?: string } = {}) {
    this.published.push({ type, data, id: options.id });
    this.log?.push(`publish ${type}`);
    return { id: options.id ?? 'x', type, source: 'test', subject: '', time: '', data };
  }
}

export function testSettings(now: { value: number }, overrides: Partial<DeploySettings> = {}): DeploySettings {
  return { drainMs: 1000, resyncMs: 5000, graceSeconds: 10, batchSize: 10, nodeName: 'local', now: () => now.value, ...overrides };
}

export function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** An RC of DC `web` at revision `version` with a probed single-container template. */
export function replicationController(version: number, replicas: number, overrides: { uid?: string } = {}): ReplicationController {
  const name = `web-${version}`;
  return {
    apiVersion: 'v1',
    kind: 'ReplicationController',
    metadata: {
      name,
      namespace: 'demo',
      uid: overrides.uid ?? `uid-${name}`,
      resourceVersion: '1',
      generation: 1,
      creationTimestamp: '2030-01-01T00:00:00.000Z',
      labels: { deploymentconfig: 'web' },
      annotations: { 'openshift.io/deployment-config.latest-version': String(version), 'openshift.io/deployment.phase': 'Running' },
      ownerReferences: [{ apiVersion: 'v1', kind: 'DeploymentConfig', name: 'web', uid: 'uid-web', controller: true }],
    },
    spec: {
      replicas,
      selector: { deploymentconfig: 'web', deployment: name },
      template: {
        metadata: { labels: { app: 'web', deploymentconfig: 'web', deployment: name } },
        spec: {
          containers: [
            {
              name: 'web',
              image: `registry/demo/web@sha256:${version}`,
              env: [{ name: 'GREETING', value: 'hi' }],
              ports: [{ containerPort: 8080, protocol: 'TCP' }],
              readinessProbe: { httpGet: { path: '/', port: 8080 }, initialDelaySeconds: 0, periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 3 },
            },
          ],
        },
      },
    },
    status: { replicas: 0, readyReplicas: 0, observedGeneration: 1 },
  };
}

/** A pod of `rc`, running in container `containerID` on `hostPort`, Ready or not. */
export function runningPod(rc: ReplicationController, name: string, containerID: string, hostPort: number, ready: boolean, created = '2030-01-01T00:00:01.000Z'): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'demo',
      uid: `uid-${name}`,
      resourceVersion: '1',
      generation: 1,
      creationTimestamp: created,
      labels: rc.spec.template.metadata.labels,
      annotations: {},
      ownerReferences: [{ apiVersion: 'v1', kind: 'ReplicationController', name: rc.metadata.name, uid: rc.metadata.uid, controller: true }],
    },
    spec: { containers: rc.spec.template.spec.containers, nodeName: 'local' },
    status: {
      phase: 'Running',
      podIP: '127.0.0.1',
      hostPort,
      containerID,
      restartCount: 0,
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: created }],
    },
  };
}

export function ownerLabels(rc: ReplicationController, pod: string): Labels {
  return {
    ...rc.spec.template.metadata.labels,
    'paas.dev/managed-by': 'deploy-service',
    'paas.dev/namespace': rc.metadata.namespace,
    'paas.dev/pod': pod,
    'paas.dev/rc': rc.metadata.name,
    'paas.dev/dc': 'web',
  };
}
