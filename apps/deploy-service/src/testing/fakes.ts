import type { DeploymentConfig, Pod, ReplicationController, Service } from '@paas/contracts/deployments';
import { isNodeReady, NODE_SCOPE, type Node } from '@paas/contracts/nodes';
import type { LimitRange, ResourceQuota } from '@paas/contracts/quotas';
import { aNode } from '@paas/platform/test-nodes';
import { matchesLabels, type Labels } from '@paas/contracts/meta';
import { InMemoryFeed, InMemoryResourceRepository } from '@paas/platform/in-memory-repository';
import { Informer } from '@paas/platform/informer';
import type { AnyResource, OutboxEvent } from '@paas/platform/resource-repository';
import type { ContainerLogOptions, ContainerRuntime, RunRequest, RuntimeContainer } from '../adapters/container-runtime';
import type { ConfigMapRecord } from '../configmaps/configmap.repository';
import type { DeploySettings } from '../deploy-settings';
import type { RolloutLogLine } from '../deploymentconfigs/rollout-log';
import type { EndpointsRecord } from '../endpoints/endpoints.repository';
import type { DeployInformers } from '../informers';
import { holding, type Cluster, type NodeContainer } from '../nodes/cluster';
import type { ReadinessTracker } from '../pods/readiness';
import { QuotaAdmission } from '../quotas/quota-admission';
import type { Enqueuer } from '../reconcile/enqueuer';
import { SecretCipher } from '../secrets/secret-cipher';
import type { SecretRecord } from '../secrets/secret.repository';

/** One log of what the code under test did, in order, shared by the fakes. */
export type ActionLog = string[];

/** The deploy-service's repositories in memory, with informers over them, as the service wires them. */
export interface DeployFixture {
  log: ActionLog;
  /** Events the repositories' outboxes published, in order (each also logged as `publish <type>`). */
  published: OutboxEvent[];
  dcs: InMemoryResourceRepository<DeploymentConfig>;
  rcs: InMemoryResourceRepository<ReplicationController>;
  pods: InMemoryResourceRepository<Pod>;
  services: InMemoryResourceRepository<Service>;
  endpoints: InMemoryResourceRepository<EndpointsRecord>;
  nodes: InMemoryResourceRepository<Node>;
  configMaps: InMemoryResourceRepository<ConfigMapRecord>;
  secrets: InMemoryResourceRepository<SecretRecord>;
  resourceQuotas: InMemoryResourceRepository<ResourceQuota>;
  limitRanges: InMemoryResourceRepository<LimitRange>;
  informers: Pick<DeployInformers, 'dcs' | 'rcs' | 'pods' | 'services' | 'endpoints' | 'nodes' | 'configMaps' | 'secrets' | 'resourceQuotas' | 'limitRanges'>;
}

/** Quota admission over a fixture's caches: it admits everything until a test seeds a ResourceQuota or a LimitRange. */
export const quotaAdmission = (informers: DeployFixture['informers']) => new QuotaAdmission(informers, { podMemoryBytes: 512 * 1024 ** 2 });

/** Lifecycle hooks for reconciler tests whose DCs have none. */
export const noHooks = { advance: async () => ({ log: [] }), removeAll: async () => undefined };

/** The Secrets key of the unit tests. */
export const testCipher = () => new SecretCipher(Buffer.alloc(32, 7));

/**
 * Repositories of every kind the deploy-service owns, on one in-memory feed, and started
 * informers over them, with one Ready node, `local`. Creates and deletes of the kinds in
 * `logged` go to `log`, as do the events published; `seed` puts objects in place that the
 * informers then hold.
 */
export async function deployFixture(logged: string[] = ['Pod']): Promise<DeployFixture> {
  const log: ActionLog = [];
  const published: OutboxEvent[] = [];
  const feed = new InMemoryFeed();
  const publisher = { publish: async (event: OutboxEvent) => void (published.push(event), log.push(`publish ${event.type}`)) };
  const repository = <R extends AnyResource>(kind: R['kind']) => new InMemoryResourceRepository<R>(kind, { feed, publisher, log: logged.includes(kind) ? log : undefined });
  const dcs = repository<DeploymentConfig>('DeploymentConfig');
  const rcs = repository<ReplicationController>('ReplicationController');
  const pods = repository<Pod>('Pod');
  const services = repository<Service>('Service');
  const endpoints = repository<EndpointsRecord>('Endpoints');
  const nodes = repository<Node>('Node');
  const configMaps = repository<ConfigMapRecord>('ConfigMap');
  const secrets = repository<SecretRecord>('Secret');
  const resourceQuotas = repository<ResourceQuota>('ResourceQuota');
  const limitRanges = repository<LimitRange>('LimitRange');
  nodes.seed(aNode('local'));
  const informer = <R extends AnyResource>(source: InMemoryResourceRepository<R>) => new Informer<R>(source, feed, { resyncMs: 3_600_000 });
  const informers = {
    dcs: informer(dcs),
    rcs: informer(rcs),
    pods: informer(pods),
    services: informer(services),
    endpoints: informer(endpoints),
    nodes: informer(nodes),
    configMaps: informer(configMaps),
    secrets: informer(secrets),
    resourceQuotas: informer(resourceQuotas),
    limitRanges: informer(limitRanges),
  };
  await Promise.all(Object.values(informers).map((i) => i.start()));
  return { log, published, dcs, rcs, pods, services, endpoints, nodes, configMaps, secrets, resourceQuotas, limitRanges, informers };
}

export { aNode };

/** The nodes of a fixture, each with a FakeRuntime that logs to the fixture's log. */
export class FakeCluster implements Cluster {
  private readonly runtimes = new Map<string, FakeRuntime>();
  /** Containers an `oom` event was seen for. */
  readonly oomKilled = new Set<string>();

  constructor(
    private readonly fixture: Pick<DeployFixture, 'informers' | 'log'>,
    private readonly prefix = (node: string) => (node === 'local' ? '' : `${node}:`),
  ) {}

  /** The runtime of a node, registered or not (for seeding containers). */
  node(name: string): FakeRuntime {
    const runtime = this.runtimes.get(name) ?? new FakeRuntime(this.fixture.log, name, this.prefix(name));
    this.runtimes.set(name, runtime);
    return runtime;
  }

  runtimeOf(name: string): ContainerRuntime | undefined {
    return this.fixture.informers.nodes.get(NODE_SCOPE, name) ? this.node(name) : undefined;
  }

  isReady(name: string): boolean {
    return isNodeReady(this.fixture.informers.nodes.get(NODE_SCOPE, name));
  }

  wasOomKilled(id: string): boolean {
    return this.oomKilled.has(id);
  }

  nodesHolding(image: string, nodes: string[]): Promise<Set<string>> {
    return holding(nodes, (node) => this.node(node).hasImage(image));
  }

  async listByOwner(labels: Labels): Promise<NodeContainer[]> {
    const ready = this.fixture.informers.nodes.list({ namespace: NODE_SCOPE }).filter(isNodeReady);
    const listed = await Promise.all(ready.map(async (node) => (await this.node(node.metadata.name).listByOwner(labels)).map((c) => ({ ...c, node: node.metadata.name }))));
    return listed.flat();
  }
}

/** Stops a fixture's informers (their resync timers). */
export function stopFixture(fixture: DeployFixture): void {
  for (const informer of Object.values(fixture.informers)) (informer as Informer<AnyResource>).stop();
}

/** A node in memory: `run` starts a container at once on the next free port. */
export class FakeRuntime implements ContainerRuntime {
  readonly hostIP: string;
  readonly containers = new Map<string, RuntimeContainer>();
  readonly runs: RunRequest[] = [];
  private next = 1;

  /** `prefix` goes before container ids and log lines (`node-1:c1`), so that nodes tell apart. */
  constructor(
    private readonly log: ActionLog,
    readonly nodeName = 'local',
    private readonly prefix = '',
  ) {
    this.hostIP = nodeName === 'local' ? '127.0.0.1' : `10.250.${nodeName.length}.2`;
  }

  /** The images it holds: none unless a test puts some here. */
  readonly images = new Set<string>();

  async hasImage(image: string): Promise<boolean> {
    return this.images.has(image);
  }

  async run(request: RunRequest): Promise<RuntimeContainer> {
    const id = `${this.prefix}c${this.next++}`;
    const container: RuntimeContainer = { id, labels: { ...request.labels }, state: 'running', hostPort: 40000 + this.next, ip: `172.17.0.${this.next}` };
    this.containers.set(id, container);
    this.runs.push(request);
    this.log.push(`${this.prefix}run ${request.labels['paas.dev/pod']}`);
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

  /** What `seed` said a container wrote. */
  readonly output = new Map<string, string>();
  /** The exec probes run, as `<id>: <command>`; each answers the next of `execAnswers` (false once none is left). */
  readonly execs: string[] = [];
  readonly execAnswers: boolean[] = [];

  async exec(id: string, command: string[]): Promise<boolean> {
    this.execs.push(`${id}: ${command.join(' ')}`);
    return this.execAnswers.shift() ?? false;
  }

  async logs(id: string, { tail }: ContainerLogOptions): Promise<string> {
    const lines = (this.output.get(id) ?? '').split('\n');
    return (tail === undefined ? lines : lines.slice(-tail)).join('\n');
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
  endpointsSelecting(namespace: string, podLabels: Labels[]) {
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

export function testSettings(now: { value: number }, overrides: Partial<DeploySettings> = {}): DeploySettings {
  return {
    drainMs: 1000,
    drainTimeoutMs: 30_000,
    resyncMs: 5000,
    graceSeconds: 10,
    batchSize: 10,
    nodeHeartbeatMs: 2000,
    nodeGraceMs: 6000,
    podMemoryBytes: 512 * 1024 ** 2,
    maxPodsPerNode: 110,
    podPidsLimit: 1024,
    podUser: '1001:0',
    restartBackoffMs: 10_000,
    restartBackoffMaxMs: 300_000,
    imageGcIntervalMs: 300_000,
    imageGcMinAgeMs: 600_000,
    now: () => now.value,
    ...overrides,
  };
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
      hostIP: '127.0.0.1',
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

/** Rollout logs in memory, by RC uid, as `RolloutLogRepository` keeps them. */
export class MemoryRolloutLogs {
  readonly logs = new Map<string, { namespace: string; deploymentConfig: string; lines: RolloutLogLine[] }>();

  async append(revision: { uid: string; namespace: string; deploymentConfig: string }, lines: string[], time: string): Promise<void> {
    const log = this.logs.get(revision.uid) ?? { namespace: revision.namespace, deploymentConfig: revision.deploymentConfig, lines: [] };
    log.lines.push(...lines.map((text) => ({ time, text })));
    this.logs.set(revision.uid, log);
  }

  async read(uid: string): Promise<RolloutLogLine[]> {
    return this.logs.get(uid)?.lines ?? [];
  }

  async remove(uid: string): Promise<void> {
    this.logs.delete(uid);
  }

  async removeAllOf(namespace: string, name: string): Promise<void> {
    for (const [uid, log] of this.logs) if (log.namespace === namespace && log.deploymentConfig === name) this.logs.delete(uid);
  }

  /** The texts of one revision's log. */
  texts(uid: string): string[] {
    return (this.logs.get(uid)?.lines ?? []).map((line) => line.text);
  }
}
