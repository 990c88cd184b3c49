import type { DeploymentConfig, Pod, ReplicationController } from '@paas/contracts/deployments';
import type { ResourceList } from '@paas/contracts/meta';
import type { RpcMethod, RpcRequest } from '@paas/contracts/rpc';
import { loadConfig } from '@paas/platform/config';
import { buildWebImage, eventually, freePort, requestOn, spawnService } from '@paas/platform/testing';
import type { Connection } from 'mongoose';
import type { NatsConnection } from 'nats';
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connectToCopy, dropCopy } from './support/spawned-copy';
import { dcBody, docker, TEST_LABEL } from './support/test-image';

/**
 * Image garbage collection on the host's engine, by a deploy-service process (the built main.js)
 * on a bus, database and platform instance of its own, collecting every second with a minimum
 * age of 30 s (time enough to roll DeploymentConfig `web` out to revision 3 before anything
 * not yet named by it may go). The images are made here, without a registry, labelled and named
 * as the platform's (a build's labels, this instance, the platform registry's address): once
 * revision 3 serves, revision 1's image, an image no DeploymentConfig names and a build's
 * untagged leftover go; revision 3's and 2's (the rollback target) stay, and so do an image a
 * stopped container was made from, another platform instance's image and the test's own image.
 */
const REPO = path.resolve(__dirname, '../../..');
const MAIN = path.join(REPO, 'apps/deploy-service/dist/main.js');
const suffix = randomUUID().slice(0, 8);
const prefix = `test-image-gc-${suffix}`;
const namespace = `image-gc-${suffix}`;
const REGISTRY = loadConfig().registryHost;
const repository = (name: string) => `${REGISTRY}/${namespace}/${name}`;
const logs = mkdtempSync(path.join(tmpdir(), 'paas-image-gc-'));
const stoppedContainer = `paas-test-image-gc-${suffix}`;

let nats: NatsConnection;
let db: Connection;
let service: ChildProcess | undefined;
let adminPort: number;
/** Every image the test made, by what it stands for: its id. */
const made: Record<string, string> = {};

/** An image as a build of this test's platform instance (or `instance`) would have labelled it, tagged `tag`; answers its id. */
function platformImage(tag: string, text: string, instance = prefix): string {
  buildWebImage(tag, text, [`LABEL ${TEST_LABEL}`, `LABEL paas.dev/build=${namespace}.web-1`, 'LABEL paas.dev/managed-by=build-service', `LABEL paas.dev/instance=${instance}`]);
  return docker('image', 'inspect', '--format', '{{.Id}}', tag);
}

const imageExists = (id: string) => docker('images', '-q', '--no-trunc', '--filter', `label=${TEST_LABEL}`).split('\n').includes(id);
const rpc = <M extends RpcMethod>(method: M, request: RpcRequest<M>) => requestOn(nats, prefix, method, request);
const containersOf = () => docker('ps', '-aq', '--filter', `label=paas.dev/namespace=${namespace}`).split('\n').filter(Boolean);

/** Sets DC `web`'s image, reading its resourceVersion again when the controller wrote meanwhile (409). */
async function setImage(image: string): Promise<void> {
  const body = dcBody(image);
  await eventually(`DC web to take ${image}`, async () => {
    const current = (await rpc('deploymentconfigs.get', { namespace, name: 'web' })) as DeploymentConfig;
    const update = { ...body, metadata: { ...body.metadata, resourceVersion: current.metadata.resourceVersion } };
    return rpc('deploymentconfigs.update', { namespace, name: 'web', body: update }).then(
      () => true,
      (error: Error) => {
        if (error.message.includes(': 409 ')) return undefined;
        throw error;
      },
    );
  }, 10_000);
}

const revisionExists = (version: number) =>
  eventually(`revision ${version}`, async () => ((await rpc('replicationcontrollers.list', { namespace })) as ResourceList<ReplicationController>).items.some((rc) => rc.metadata.name === `web-${version}`) || undefined, 30_000);

beforeAll(async () => {
  made.v1 = platformImage(`${repository('web')}:v1`, 'revision 1');
  made.v2 = platformImage(`${repository('web')}:v2`, 'revision 2');
  made.v3 = platformImage(`${repository('web')}:v3`, 'revision 3');
  made.unnamed = platformImage(`${repository('api')}:v1`, 'named by no DeploymentConfig');
  // A build's image whose tag the next build of the stream took: untagged, labelled.
  made.leftover = platformImage(`${repository('left')}:latest`, 'build 1');
  made.leftoverTagged = platformImage(`${repository('left')}:latest`, 'build 2');
  made.stopped = platformImage(`${repository('stopped')}:v1`, 'a stopped container was made from it');
  docker('create', '--name', stoppedContainer, '--label', TEST_LABEL, `${repository('stopped')}:v1`);
  made.otherInstance = platformImage(`${repository('web')}:other`, 'another platform', `other-${suffix}`);
  buildWebImage(`paas-test/image-gc-own-${suffix}:v1`, "the test's own", [`LABEL ${TEST_LABEL}`]);
  made.own = docker('image', 'inspect', '--format', '{{.Id}}', `paas-test/image-gc-own-${suffix}:v1`);

  ({ nats, db } = await connectToCopy(prefix));
  adminPort = await freePort();
  service = spawnService(
    MAIN,
    {
      PAAS_BUS_PREFIX: prefix,
      PAAS_DB_PREFIX: prefix,
      PAAS_INSTANCE: prefix,
      PORT: String(adminPort),
      DEPLOY_DRAIN_MS: '300',
      DEPLOY_GRACE_SECONDS: '1',
      DEPLOY_IMAGE_GC_INTERVAL_MS: '1000',
      DEPLOY_IMAGE_GC_MIN_AGE_MS: '30000',
    },
    path.join(logs, 'deploy-service.log'),
  );
  await eventually('the deploy-service to answer on the bus', async () => (await rpc('deploymentconfigs.list', { namespace })) && true, 60_000);
}, 120_000);

afterAll(async () => {
  await rpc('deploymentconfigs.delete', { namespace, name: 'web' }).catch(() => undefined);
  await eventually('the test containers to be gone', async () => (containersOf().length === 0 ? true : undefined), 30_000).catch(() => undefined);
  if (service && service.exitCode === null && service.signalCode === null) service.kill('SIGTERM');
  const leftovers = containersOf();
  if (leftovers.length) docker('rm', '-f', ...leftovers);
  docker('rm', '-f', stoppedContainer);
  const images = Object.values(made).filter(imageExists);
  if (images.length) docker('rmi', '-f', ...images);
  await dropCopy(prefix, { nats, db }, logs);
}, 60_000);

describe('image garbage collection on a node', () => {
  it("removes the platform's unused images once revision 3 serves, and keeps the rollback target and everything not the platform's", async () => {
    await rpc('deploymentconfigs.create', { namespace, body: dcBody(`${repository('web')}:v1`) });
    await revisionExists(1);
    await setImage(`${repository('web')}:v2`);
    await revisionExists(2);
    await setImage(`${repository('web')}:v3`);
    await eventually('revision 3 alone, ready', async () => {
      const { items } = (await rpc('pods.list', { namespace })) as ResourceList<Pod>;
      const ready = items.length === 1 && items[0].metadata.labels?.deployment === 'web-3' && items[0].status.conditions.some((c) => c.type === 'Ready' && c.status === 'True');
      return ready && containersOf().length === 1 ? true : undefined;
    }, 60_000);

    const garbage = [made.v1, made.unnamed, made.leftover, made.leftoverTagged];
    await eventually('the unused images to be removed', async () => (garbage.every((id) => !imageExists(id)) ? true : undefined), 120_000);

    for (const kept of [made.v2, made.v3, made.stopped, made.otherInstance, made.own]) expect(imageExists(kept)).toBe(true);
    // Counted once the round that removed the last of them is over.
    const metrics = await eventually('the removals to be counted', async () => {
      const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`)).text();
      return /^node_image_gc_removed_images_total\{node="local"\} 4$/m.test(text) ? text : undefined;
    }, 10_000);
    expect(Number(/^node_image_gc_freed_bytes_total\{node="local"\} (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThan(0);
    expect(readFileSync(path.join(logs, 'deploy-service.log'), 'utf8')).toMatch(/removed \d unused images? from node local, freeing at least/);
  });
});
