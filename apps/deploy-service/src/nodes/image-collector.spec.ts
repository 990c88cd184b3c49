import { Logger } from '@nestjs/common';
import type { DeploymentConfig, ReplicationController } from '@paas/contracts/deployments';
import type { Labels } from '@paas/contracts/meta';
import type { Node } from '@paas/contracts/nodes';
import { INSTANCE_LABEL, loadConfig } from '@paas/platform/config';
import { MetricsRegistry } from '@paas/platform/metrics';
import type { NodeImage, NodeImages } from '../adapters/node-images';
import { aNode, deployFixture, replicationController, runningPod, stopFixture, testSettings, type DeployFixture } from '../testing/fakes';
import { imageGcMetrics, NodeImageCollector } from './image-collector';

/** The platform registry as images name it, and the instance these tests run as. */
const { registryHost: REGISTRY, instance: INSTANCE } = loadConfig();
const MIB = 1024 ** 2;
const BUILT: Labels = { 'paas.dev/build': 'demo.web-1', 'paas.dev/managed-by': 'build-service', [INSTANCE_LABEL]: INSTANCE };

/** An engine's images in memory: what it holds, which ids its containers use, and what it was asked to remove. */
class FakeNodeImages implements NodeImages {
  readonly removed: string[] = [];
  /** Ids the engine refuses to remove, as it does for an image a container was made from meanwhile. */
  readonly refused = new Set<string>();
  failure?: Error;

  constructor(
    private readonly images: NodeImage[],
    readonly used = new Set<string>(),
    private readonly sizes = new Map<string, number>(),
  ) {}

  async list() {
    if (this.failure) throw this.failure;
    return this.images.filter((image) => !this.removed.includes(image.id));
  }

  async inUse() {
    return new Set(this.used);
  }

  async uniqueSizes() {
    return new Map(this.sizes);
  }

  async remove(image: NodeImage) {
    if (this.refused.has(image.id)) return 'in-use' as const;
    this.removed.push(image.id);
    return 'removed' as const;
  }
}

let made = 0;
/** An image named `references`, each one made after the one before unless `createdAt` says when. */
function anImage(id: string, references: string[], labels: Labels = {}, createdAt = Date.parse('2029-12-01T00:00:00Z') + made++): NodeImage {
  return { id, references, labels, createdAt };
}

/** Revision `version` of DC `web`, in `phase`, running `image`. */
function revision(version: number, phase: string, image: string, replicas = 0): ReplicationController {
  const rc = replicationController(version, replicas);
  const [container] = rc.spec.template.spec.containers;
  return {
    ...rc,
    metadata: { ...rc.metadata, annotations: { ...rc.metadata.annotations, 'openshift.io/deployment.phase': phase } },
    spec: { ...rc.spec, template: { ...rc.spec.template, spec: { ...rc.spec.template.spec, containers: [{ ...container, image }] } } },
    status: { ...rc.status, replicas },
  };
}

function deploymentConfig(latest: ReplicationController): DeploymentConfig {
  return {
    apiVersion: 'v1',
    kind: 'DeploymentConfig',
    metadata: { name: 'web', namespace: 'demo', uid: 'uid-web', resourceVersion: '1', generation: 1, creationTimestamp: '2030-01-01T00:00:00Z' },
    spec: {
      replicas: 1,
      selector: { deploymentconfig: 'web' },
      template: { metadata: { labels: { deploymentconfig: 'web' } }, spec: latest.spec.template.spec },
      triggers: [{ type: 'ConfigChange' }],
      strategy: { type: 'Rolling', rollingParams: { maxSurge: 1, maxUnavailable: 0, timeoutSeconds: 600 } },
      paused: false,
      progressDeadlineSeconds: 60,
      minReadySeconds: 0,
      revisionHistoryLimit: 10,
    },
    status: { latestVersion: revisionNumber(latest), observedGeneration: 1, replicas: 1, readyReplicas: 1, updatedReplicas: 1, conditions: [] },
  };
}

const revisionNumber = (rc: ReplicationController) => Number(rc.metadata.annotations?.['openshift.io/deployment-config.latest-version']);
const digest = (name: string) => `${REGISTRY}/demo/web@sha256:${name}`;

const fixtures: DeployFixture[] = [];
afterEach(() => fixtures.splice(0).forEach(stopFixture));
beforeAll(() => Logger.overrideLogger(false));

/**
 * DC `web` at revision 4 (running, one pod on `local`), after revision 3 failed: revision 2 is
 * the last Complete one, revision 1 the one before it. `engines` are the nodes' images.
 */
async function setup(engines: Record<string, FakeNodeImages>, options: { nodes?: Node[]; minAgeMs?: number } = {}) {
  const fixture = await deployFixture();
  fixtures.push(fixture);
  const rcs = [revision(1, 'Complete', digest('d1')), revision(2, 'Complete', digest('d2')), revision(3, 'Failed', digest('d3')), revision(4, 'Running', digest('d4'), 1)];
  rcs.forEach((rc) => fixture.rcs.seed(rc));
  fixture.dcs.seed(deploymentConfig(rcs[3]));
  fixture.pods.seed(runningPod(rcs[3], 'web-4-a', 'c1', 40001, true));
  for (const node of options.nodes ?? []) fixture.nodes.seed(node);
  await Promise.all(Object.values(fixture.informers).map((informer) => informer.relist()));
  const now = { value: Date.parse('2030-01-01T00:00:00Z') };
  const ownership = { owned: true, ownsNamespace: () => ownership.owned };
  const registry = new MetricsRegistry();
  const engineOf = { of: (node: Node) => ({ images: engines[node.metadata.name] }) };
  const collector = new NodeImageCollector(fixture.informers, engineOf, ownership, testSettings(now, { imageGcMinAgeMs: options.minAgeMs ?? 0 }), imageGcMetrics(registry));
  /** A round `ms` after the last one. */
  const roundAfter = async (ms: number) => {
    now.value += ms;
    await collector.collect();
  };
  return { collector, ownership, roundAfter, metrics: () => registry.render(), fixture };
}

describe('NodeImageCollector', () => {
  it("removes the platform's images that no container uses and no DeploymentConfig keeps, oldest first, and nothing it did not make", async () => {
    const images = [
      anImage('rev-1', [digest('d1')], BUILT),
      anImage('rev-2', [digest('d2')], BUILT),
      anImage('rev-3', [digest('d3')], BUILT),
      anImage('rev-4', [digest('d4')], BUILT),
      // Pulled from the platform registry by a pod long gone, built elsewhere (no labels: the default instance's).
      anImage('orphan', [`${REGISTRY}/demo/api:latest`, `${REGISTRY}/demo/api@sha256:o`]),
      anImage('stopped', [`${REGISTRY}/demo/old@sha256:s`]),
      // A build's image whose tag the next build took, and an untagged image nobody says anything about.
      anImage('leftover', [], BUILT, Date.parse('2029-11-01T00:00:00Z')),
      anImage('dangling', []),
      anImage('builder', ['paas-builder/nodejs:latest'], { 'paas.dev/builder': 'nodejs' }),
      anImage('builder-in-registry', [`${REGISTRY}/demo/python:1`], { 'io.openshift.tags': 'builder,python' }),
      anImage('users-own', [`${REGISTRY}/demo/tool:1`, 'myorg/tool:1']),
      anImage('base', ['debian:bookworm']),
      anImage('other-platform', [`${REGISTRY}/demo/web@sha256:x`], { ...BUILT, [INSTANCE_LABEL]: `not-${INSTANCE}` }),
    ];
    const local = new FakeNodeImages(images, new Set(['rev-4', 'stopped']), new Map([['rev-1', 5 * MIB], ['orphan', 3 * MIB], ['leftover', 2 * MIB], ['rev-2', 100 * MIB]]));
    const { collector, metrics } = await setup({ local });

    await collector.collect();

    expect(local.removed).toEqual(['leftover', 'rev-1', 'orphan']);
    expect(metrics()).toContain('node_image_gc_removed_images_total{node="local"} 3');
    expect(metrics()).toContain(`node_image_gc_freed_bytes_total{node="local"} ${10 * MIB}`);
  });

  it('keeps the images of the pods and of every revision that has or wants pods, on every node', async () => {
    const pulled = (id: string) => anImage(id, [`${REGISTRY}/demo/web@sha256:${id}`]);
    const local = new FakeNodeImages([pulled('d1'), pulled('d2'), pulled('d5')]);
    const { collector, fixture } = await setup({ local });
    // Revision 1 scaled up again (a rollback under way), and a pod of another DC on another node.
    await fixture.rcs.update('demo', 'web-1', (rc) => ({ ...rc, spec: { ...rc.spec, replicas: 1 } }));
    const other = runningPod(revision(5, 'Running', digest('d5'), 1), 'api-1-a', 'c9', 40009, true);
    await fixture.pods.create({ ...other, metadata: { ...other.metadata, name: 'api-1-a' }, spec: { ...other.spec, nodeName: 'node-1' } });
    await Promise.all(Object.values(fixture.informers).map((informer) => informer.relist()));

    await collector.collect();

    expect(local.removed).toEqual([]);
  });

  it('names the images it keeps as each node reaches the registry', async () => {
    const node1 = aNode('node-1');
    const asOnNode1 = (name: string) => `${node1.spec.registryHost}/demo/web@sha256:${name}`;
    const engine = new FakeNodeImages([anImage('rev-1', [asOnNode1('d1')], BUILT), anImage('rev-2', [asOnNode1('d2')], BUILT), anImage('rev-4', [`${node1.spec.registryHost}/demo/web:latest`, asOnNode1('d4')], BUILT)]);
    const { collector } = await setup({ local: new FakeNodeImages([]), 'node-1': engine }, { nodes: [node1] });

    await collector.collect();

    expect(engine.removed).toEqual(['rev-1']);
  });

  it('removes an image only once it has been seen unused for the minimum age', async () => {
    const committedNow = anImage('just-committed', [], BUILT, Date.parse('2030-01-01T00:00:00Z'));
    const local = new FakeNodeImages([anImage('rev-1', [digest('d1')], BUILT), committedNow], new Set(['rev-1']));
    const { collector, roundAfter } = await setup({ local }, { minAgeMs: 600_000 });

    await collector.collect();
    // Its last container goes: unused from the next round on.
    local.used.clear();
    await roundAfter(300_000);
    expect(local.removed).toEqual([]);
    await roundAfter(300_000);
    expect(local.removed).toEqual(['just-committed']);
    await roundAfter(300_000);
    expect(local.removed).toEqual(['just-committed', 'rev-1']);
  });

  it('works only in the replica that owns the cluster scope, and forgets what it saw when it stops owning it', async () => {
    const local = new FakeNodeImages([anImage('rev-1', [digest('d1')], BUILT)]);
    const { collector, ownership, roundAfter } = await setup({ local }, { minAgeMs: 600_000 });
    for (const owned of [false, true, false]) {
      ownership.owned = owned;
      await collector.collect();
    }
    ownership.owned = true;
    // 10 minutes after it was first seen unused, but it was seen by a replica that has since stopped owning the work.
    await roundAfter(600_000);
    expect(local.removed).toEqual([]);
    await roundAfter(600_000);
    expect(local.removed).toEqual(['rev-1']);
  });

  it('keeps an image the engine refuses to remove, leaves NotReady nodes alone, and counts a node whose engine does not answer', async () => {
    const local = new FakeNodeImages([anImage('rev-1', [digest('d1')], BUILT), anImage('orphan', [`${REGISTRY}/demo/api@sha256:o`])]);
    local.refused.add('rev-1');
    const down = new FakeNodeImages([anImage('rev-1', [digest('d1')], BUILT)]);
    down.failure = new Error('connect ECONNREFUSED');
    const gone = new FakeNodeImages([anImage('rev-1', [digest('d1')], BUILT)]);
    const { collector, metrics } = await setup({ local, 'node-1': down, 'node-2': gone }, { nodes: [aNode('node-1'), aNode('node-2', { ready: false })] });

    await collector.collect();

    expect(local.removed).toEqual(['orphan']);
    expect(gone.removed).toEqual([]);
    expect(metrics()).toContain('node_image_gc_removed_images_total{node="local"} 1');
    expect(metrics()).toContain('node_image_gc_failures_total{node="node-1"} 1');
  });
});
