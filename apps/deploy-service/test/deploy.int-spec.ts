import type { INestApplication } from '@nestjs/common';
import type { DeploymentConfig, Endpoints, Pod, Service } from '@paas/contracts/deployments';
import type { EventEnvelope } from '@paas/contracts/events';
import type { ResourceList } from '@paas/contracts/meta';
import type { Status } from '@paas/contracts/status';
import { createHttpService } from '@paas/platform/bootstrap';
import { busNames } from '@paas/platform/bus-names';
import { busConnectionOptions } from '@paas/platform/bus-settings';
import { eventually } from '@paas/platform/testing';
import { loadConfig } from '@paas/platform/config';
import { AppModule, DEPLOY_SERVICE_OPTIONS } from '../src/app.module';
import { podNetwork } from '../src/adapters/docker-runtime';
import { connect, type NatsConnection, type Subscription } from 'nats';
import { busRpc } from './support/bus-rpc';
import { buildImage, dcBody, docker, SERVICE_BODY } from './support/test-image';

/**
 * The deploy-service on the real Docker engine, NATS and FerretDB: a DeploymentConfig with
 * a locally built busybox httpd image runs as a container, becomes Ready, is listed in its
 * Service's Endpoints and answers on its loopback port; an image change rolls out revision 2
 * and removes the old pod; a killed container is replaced; scale to 0 and delete leave nothing.
 */
const suffix = Math.random().toString(36).slice(2, 8);
const namespace = `deploy-it-${suffix}`;
const images = { v1: `paas-test/deploy-web-${suffix}:v1`, v2: `paas-test/deploy-web-${suffix}:v2`, root: `paas-test/deploy-root-${suffix}:v1`, hungry: `paas-test/deploy-hungry-${suffix}:v1` };

let nats: NatsConnection;
let app: INestApplication | undefined;
const endpointEvents: EventEnvelope<'endpoints.changed'>[] = [];
let eventSubscription: Subscription;

const { rpc, ok } = busRpc(() => nats);

const pods = async () => (await ok('pods.list', { namespace, labelSelector: 'deploymentconfig=web' })) as ResourceList<Pod>;
const containersWith = (label: string) => docker('ps', '-aq', '--filter', `label=${label}`);
/** dcBody as DeploymentConfig `name`, selecting only its own pods. */
function namedDc(name: string, image: string) {
  const body = dcBody(image);
  const labels = { app: name, deploymentconfig: name };
  return { ...body, metadata: { ...body.metadata, name }, spec: { ...body.spec, selector: { deploymentconfig: name }, template: { ...body.spec.template, metadata: { labels } } } };
}

/** As a client does: read, write with that resourceVersion, and on a 409 (the controller wrote the status meanwhile) read again. */
function updateDc(name: string, body: { metadata: object; spec: object }): Promise<DeploymentConfig> {
  return eventually('the DC update to get past concurrent status writes', async () => {
    const current = (await ok('deploymentconfigs.get', { namespace, name })) as DeploymentConfig;
    const reply = await rpc('deploymentconfigs.update', { namespace, name, body: { ...body, metadata: { ...body.metadata, resourceVersion: current.metadata.resourceVersion } } });
    if (!reply.ok && reply.status.code === 409) return undefined;
    if (!reply.ok) throw new Error(`deploymentconfigs.update: ${reply.status.code} ${reply.status.message}`);
    return reply.result as DeploymentConfig;
  }, 10_000);
}

/** The events of `type` about this test's namespace from now on, as they arrive; `stop()` ends the subscription. */
function collect<T extends 'pod.changed' | 'deployment.failed'>(type: T) {
  const received: EventEnvelope<T>[] = [];
  const subscription = nats.subscribe(busNames().event(type), {
    callback: (_error, message) => {
      const envelope = message.json<EventEnvelope<T>>();
      if (envelope.data.namespace === namespace) received.push(envelope);
    },
  });
  return { received, stop: () => subscription.unsubscribe() };
}

const isReady = (pod: Pod) => pod.status.conditions.some((c) => c.type === 'Ready' && c.status === 'True');

async function answer(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(3_000) });
  return `${res.status} ${(await res.text()).trim()}`;
}

/** The one ready pod of revision `version`, once it is alone and answers. */
async function servingPod(version: number): Promise<Pod> {
  return eventually(`revision ${version} to be the only pod, ready`, async () => {
    const { items } = await pods();
    const [pod] = items;
    return items.length === 1 && pod.metadata.labels?.deployment === `web-${version}` && isReady(pod) ? pod : undefined;
  });
}

beforeAll(async () => {
  nats = await connect(busConnectionOptions('integration-test'));
  eventSubscription = nats.subscribe(busNames().event('endpoints.changed'), {
    callback: (_error, message) => {
      const envelope = message.json<EventEnvelope<'endpoints.changed'>>();
      if (envelope.data.namespace === namespace) endpointEvents.push(envelope);
    },
  });
  buildImage(images.v1, 'hello v1');
  buildImage(images.v2, 'hello v2');
  // Starts only as root: it writes to /etc before serving.
  buildImage(images.root, 'root only', 'echo started; echo ready > /etc/ready && exec /bin/busybox httpd -f -p 8080 -h /www');
  // Reads 64 MiB into one buffer: more than the 8 MiB its DC allows.
  buildImage(images.hungry, 'hungry', 'exec /bin/busybox dd if=/dev/zero of=/dev/null bs=64M count=1');
  // Against the platform's deploy-service when `npm run up` runs one; otherwise one in-process.
  const running = await rpc('deploymentconfigs.list', { namespace }).then(
    () => true,
    () => false,
  );
  if (!running) {
    process.env.DEPLOY_DRAIN_MS ??= '300';
    process.env.DEPLOY_RESYNC_MS ??= '1000';
    process.env.DEPLOY_GRACE_SECONDS ??= '2';
    app = await createHttpService(AppModule, { ...DEPLOY_SERVICE_OPTIONS, logger: false });
    await app.init();
  }
}, 120_000);

afterAll(async () => {
  // Every DC a test made, also when it failed half-way: a DC left behind keeps pulling an image that is removed below.
  for (const name of ['web', 'root', 'oom', 'hooked', 'gate', 'recreate', 'live']) await rpc('deploymentconfigs.delete', { namespace, name }).catch(() => undefined);
  await rpc('services.delete', { namespace, name: 'web' }).catch(() => undefined);
  await eventually('the test containers to be gone', async () => (containersWith(`paas.dev/namespace=${namespace}`) === '' ? true : undefined), 30_000).catch(() => undefined);
  await app?.close();
  eventSubscription?.unsubscribe();
  await nats?.drain();
  const leftovers = containersWith(`paas.dev/namespace=${namespace}`).split('\n').filter(Boolean);
  if (leftovers.length) docker('rm', '-f', ...leftovers);
  for (const image of Object.values(images)) docker('rmi', '-f', image);
}, 60_000);

describe('deploy-service on the real engine', () => {
  it('refuses an invalid DeploymentConfig with 422 naming the field, and a dry run stores nothing', async () => {
    const invalid = await rpc('deploymentconfigs.create', { namespace, body: { metadata: { name: 'Bad_Name' }, spec: { selector: {}, template: {} } } });
    expect(invalid.ok).toBe(false);
    const status = (invalid as { status: Status }).status;
    expect(status).toMatchObject({ code: 422, reason: 'Invalid' });
    expect(status.details?.causes?.map((c) => c.field)).toEqual(expect.arrayContaining(['metadata.name']));

    const slow = dcBody(images.v1);
    const stalls = await rpc('deploymentconfigs.create', { namespace, body: { ...slow, spec: { ...slow.spec, minReadySeconds: 60, progressDeadlineSeconds: 60 } } });
    expect(stalls).toMatchObject({ ok: false, status: { code: 422, reason: 'Invalid', details: { causes: [expect.objectContaining({ field: 'spec.minReadySeconds' })] } } });

    const dry = await ok('deploymentconfigs.create', { namespace, body: dcBody(images.v1), dryRun: true });
    expect(dry.metadata.name).toBe('web');
    const missing = await rpc('deploymentconfigs.get', { namespace, name: 'web' });
    expect(missing).toMatchObject({ ok: false, status: { code: 404 } });
  });

  it('runs a pod that becomes Ready, is listed in the Endpoints and answers on its loopback port', async () => {
    const service = (await ok('services.create', { namespace, body: SERVICE_BODY })) as Service;
    expect(service.metadata.uid).toBeTruthy();
    const dc = (await ok('deploymentconfigs.create', { namespace, body: dcBody(images.v1) })) as DeploymentConfig;
    expect(dc.status.latestVersion).toBe(1);

    const pod = await servingPod(1);
    expect(pod.status).toMatchObject({ phase: 'Running', hostIP: '127.0.0.1', hostPort: expect.any(Number), containerID: expect.any(String) });
    const inspected = JSON.parse(docker('inspect', pod.status.containerID as string))[0];
    // The pod's own address on its namespace's network, which the readiness probes use.
    const network = podNetwork(loadConfig().instance, namespace).name;
    expect(Object.keys(inspected.NetworkSettings.Networks)).toEqual([network]);
    expect(pod.status.podIP).toBe(inspected.NetworkSettings.Networks[network].IPAddress);
    // Confined: not root (the test image names no user), no capabilities, the default limits.
    expect(inspected.Config.User).toBe('1001:0');
    expect(inspected.HostConfig).toMatchObject({ CapDrop: ['ALL'], SecurityOpt: ['no-new-privileges'], Memory: 512 * 1024 ** 2, PidsLimit: 1024 });
    expect(inspected.Config.Labels).toMatchObject({ 'paas.dev/managed-by': 'deploy-service', 'paas.dev/namespace': namespace, 'paas.dev/pod': pod.metadata.name, 'paas.dev/rc': 'web-1', 'paas.dev/dc': 'web' });
    expect(inspected.Config.Env).toContain('PORT=8080');

    const endpoints = await eventually('the endpoints to list the pod', async () => {
      const current = (await ok('endpoints.get', { namespace, name: 'web' })) as Endpoints;
      return current.addresses.length === 1 ? current : undefined;
    });
    expect(endpoints.addresses[0]).toMatchObject({ ip: '127.0.0.1', port: pod.status.hostPort, targetRef: { kind: 'Pod', name: pod.metadata.name } });
    expect(await answer(pod.status.hostPort as number)).toBe('200 hello v1');

    const everywhere = (await ok('endpoints.list', {})) as ResourceList<Endpoints>;
    expect(everywhere.items.map((e) => `${e.metadata.namespace}/${e.metadata.name}`)).toContain(`${namespace}/web`);

    const event = await eventually('an endpoints.changed event with the pod', async () =>
      endpointEvents.find((e) => e.data.name === 'web' && e.data.addresses.some((a) => a.port === pod.status.hostPort && a.pod === pod.metadata.name)),
    );
    expect(event.data.generation).toBe(endpoints.metadata.generation);

    const rolled = await eventually('the DC to report the rollout complete', async () => {
      const current = (await ok('deploymentconfigs.get', { namespace, name: 'web' })) as DeploymentConfig;
      return current.status.readyReplicas === 1 && current.status.conditions.some((c) => c.type === 'Progressing' && c.reason === 'NewReplicationControllerAvailable') ? current : undefined;
    });
    expect(rolled.status).toMatchObject({ latestVersion: 1, replicas: 1, updatedReplicas: 1 });
  });

  it('replaces a container that dies and counts the restart', async () => {
    const [before] = (await pods()).items;
    docker('kill', before.status.containerID as string);
    const after = await eventually('the pod to run a new container', async () => {
      const [pod] = (await pods()).items;
      return pod && pod.status.containerID !== before.status.containerID && isReady(pod) ? pod : undefined;
    });
    expect(after.metadata.name).toBe(before.metadata.name);
    expect(after.status.restartCount).toBe(before.status.restartCount + 1);
    expect(await answer(after.status.hostPort as number)).toBe('200 hello v1');
  });

  it('rolls a new image out as revision 2 and removes the old pod and its container', async () => {
    const [old] = (await pods()).items;
    const updated = await updateDc('web', dcBody(images.v2));
    expect(updated.status.latestVersion).toBe(2);

    const pod = await servingPod(2);
    expect(await answer(pod.status.hostPort as number)).toBe('200 hello v2');
    await eventually('the old container to be removed', async () => (containersWith(`paas.dev/pod=${old.metadata.name}`) === '' ? true : undefined));
    const endpoints = (await ok('endpoints.get', { namespace, name: 'web' })) as Endpoints;
    expect(endpoints.addresses.map((a) => a.targetRef.name)).toEqual([pod.metadata.name]);
    const rcs = await ok('replicationcontrollers.list', { namespace, labelSelector: 'deploymentconfig=web' });
    expect(rcs.items.map((rc) => [rc.metadata.name, rc.spec.replicas])).toEqual([
      ['web-1', 0],
      ['web-2', 1],
    ]);
    // Its rollout, step by step, as `oc logs dc/web` shows it; revision 1's log stays readable.
    const rollout = await eventually('the rollout log to end', async () => {
      const log = await ok('deploymentconfigs.log', { namespace, name: 'web' });
      return log.phase === 'Complete' && log.log.endsWith('--> Success\n') ? log : undefined;
    });
    expect(rollout.log.split('\n').filter(Boolean)).toEqual([
      "--> Scaling up web-2 from 0 to 1, scaling down web-1 from 1 to 0 (keep 1 pods available, don't exceed 2 pods)",
      '    Scaling web-2 up to 1',
      '    Scaling web-1 down to 0',
      '--> Success',
    ]);
    expect((await ok('deploymentconfigs.log', { namespace, name: 'web', version: 1, tailLines: 1 })).log).toBe('--> Success\n');
  });

  it('rolls back to the last complete revision as revision 3, which serves the first image again', async () => {
    const rolledBack = await ok('deploymentconfigs.rollback', { namespace, name: 'web', body: { kind: 'DeploymentConfigRollback', spec: {} } });
    expect(rolledBack.status.latestVersion).toBe(3);
    const pod = await servingPod(3);
    expect(await answer(pod.status.hostPort as number)).toBe('200 hello v1');
    const refused = await rpc('deploymentconfigs.rollback', { namespace, name: 'web', body: { spec: { revision: 7 } } });
    expect(refused).toMatchObject({ ok: false, status: { code: 422, reason: 'Invalid' } });
  });

  it('scales to 0 and, on delete, removes every pod, container and the Endpoints', async () => {
    await ok('deploymentconfigs.scale', { namespace, name: 'web', replicas: 0 });
    await eventually('no pods', async () => ((await pods()).items.length === 0 ? true : undefined));
    await eventually('no containers', async () => (containersWith(`paas.dev/namespace=${namespace}`) === '' ? true : undefined));
    const emptied = await eventually('empty endpoints', async () => {
      const current = (await ok('endpoints.get', { namespace, name: 'web' })) as Endpoints;
      return current.addresses.length + current.notReadyAddresses.length === 0 ? current : undefined;
    });
    await eventually('an endpoints.changed event with no addresses', async () =>
      endpointEvents.find((e) => e.data.name === 'web' && e.data.generation === emptied.metadata.generation && e.data.addresses.length === 0),
    );

    await ok('deploymentconfigs.scale', { namespace, name: 'web', replicas: 1 });
    await servingPod(3);
    await ok('deploymentconfigs.delete', { namespace, name: 'web' });
    await ok('services.delete', { namespace, name: 'web' });
    await eventually('every container of the DC to be gone', async () => (containersWith(`paas.dev/namespace=${namespace}`) === '' ? true : undefined));
    await eventually('the RCs to be gone', async () => ((await ok('replicationcontrollers.list', { namespace })).items.length === 0 ? true : undefined));
    expect((await pods()).items).toEqual([]);
    await eventually("the namespace's network to go with its last pod", async () => (docker('network', 'ls', '-q', '--filter', `label=paas.dev/namespace=${namespace}`) === '' ? true : undefined), 10_000);
    await eventually('the endpoints to be gone', async () => ((await rpc('endpoints.get', { namespace, name: 'web' })).ok ? undefined : true));
  });

  it('shows why a container that needs root cannot start: CrashLoopBackOff, the exit code and its last output', async () => {
    await ok('deploymentconfigs.create', { namespace, body: namedDc('root', images.root) });
    const failing = await eventually('the pod to say why it does not run', async () => {
      const [pod] = ((await ok('pods.list', { namespace, labelSelector: 'deploymentconfig=root' })) as ResourceList<Pod>).items;
      return pod?.status.reason === 'CrashLoopBackOff' ? pod : undefined;
    }, 60_000);
    expect(failing.status.message).toMatch(/exited with code 1 after [\d.]+ s, running as user 1001:0 without capabilities/);
    expect(failing.status.message).toContain("can't create /etc/ready: Permission denied");
    expect(isReady(failing)).toBe(false);
    // As kubectl shows it: waiting in CrashLoopBackOff, the run before it ended in an Error with exit code 1.
    expect(failing.status.containerStatuses).toEqual([
      expect.objectContaining({ ready: false, restartCount: failing.status.restartCount, state: { waiting: expect.objectContaining({ reason: 'CrashLoopBackOff' }) }, lastState: { terminated: expect.objectContaining({ exitCode: 1, reason: 'Error', finishedAt: expect.any(String) }) } }),
    ]);

    // Its log, as kubectl logs reads it: the stopped run it waits to replace is both the current and the previous one.
    const { name } = failing.metadata;
    // stdout and stderr, in the order the engine logged them (the two pipes race).
    const log = await ok('pods.log', { namespace, name });
    const lines = log.log.split('\n').filter(Boolean);
    expect(log.running).toBe(false);
    expect([...lines].sort()).toEqual(["/bin/sh: can't create /etc/ready: Permission denied", 'started']);
    expect((await ok('pods.log', { namespace, name, previous: true })).log).toBe(log.log);
    expect((await ok('pods.log', { namespace, name, tailLines: 1 })).log).toBe(`${lines[1]}\n`);
    const stamped = (await ok('pods.log', { namespace, name, timestamps: true })).log.split('\n').filter(Boolean);
    expect(stamped.map((line) => line.slice(line.indexOf(' ') + 1))).toEqual(lines);
    for (const line of stamped) expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z /);
    const after = stamped[0].split(' ')[0];
    const later = stamped.filter((line) => line.split(' ')[0] > after).map((line) => `${line.slice(line.indexOf(' ') + 1)}\n`);
    expect((await ok('pods.log', { namespace, name, sinceTime: after })).log).toBe(later.join(''));
    const bad = await rpc('pods.log', { namespace, name, sinceTime: 'yesterday' });
    expect(bad.ok ? 200 : bad.status.code).toBe(422);
    await ok('deploymentconfigs.delete', { namespace, name: 'root' });
  });

  it('shows a container killed for going over its memory limit as OOMKilled, with exit code 137', async () => {
    const body = namedDc('oom', images.hungry);
    const [container] = body.spec.template.spec.containers;
    const template = { ...body.spec.template, spec: { ...body.spec.template.spec, containers: [{ ...container, resources: { limits: { memoryBytes: 8 * 1024 ** 2 } } }] } };
    await ok('deploymentconfigs.create', { namespace, body: { ...body, spec: { ...body.spec, template } } });
    const killed = await eventually('the pod to say its container was OOMKilled', async () => {
      const [pod] = ((await ok('pods.list', { namespace, labelSelector: 'deploymentconfig=oom' })) as ResourceList<Pod>).items;
      return pod?.status.containerStatuses?.[0].lastState.terminated ? pod : undefined;
    }, 60_000);
    expect(killed.status.containerStatuses?.[0].lastState.terminated).toMatchObject({ exitCode: 137, reason: 'OOMKilled' });
    await ok('deploymentconfigs.delete', { namespace, name: 'oom' });
  });

  it('lifecycle hooks: a pre hook runs in the revision\'s image with its environment before any pod, a failing post hook is ignored, an aborting one fails the revision', async () => {
    const withHooks = (hooks: object, greeting = 'hi') => {
      const body = namedDc('hooked', images.v1);
      const [container] = body.spec.template.spec.containers;
      const template = { ...body.spec.template, spec: { ...body.spec.template.spec, containers: [{ ...container, env: [{ name: 'GREETING', value: greeting }] }] } };
      return { ...body, spec: { ...body.spec, template, strategy: { type: 'Rolling', rollingParams: { maxSurge: 1, maxUnavailable: 0, timeoutSeconds: 120, ...hooks } } } };
    };
    const run = (script: string, failurePolicy: string) => ({ failurePolicy, execNewPod: { containerName: 'web', command: ['/bin/sh', '-c', script], env: [{ name: 'STEP', value: 'migrate' }] } });
    const logOf = (version: number) => ok('deploymentconfigs.log', { namespace, name: 'hooked', version });

    await ok('deploymentconfigs.create', { namespace, body: withHooks({ pre: run('echo "$STEP says $GREETING"', 'Abort'), post: run('echo done; exit 1', 'Ignore') }) });
    const first = await eventually('revision 1 to complete after its hooks', async () => {
      const log = await logOf(1);
      return log.complete ? log : undefined;
    }, 60_000);
    const lines = first.log.split('\n').filter(Boolean);
    expect(lines).toEqual(expect.arrayContaining(['migrate says hi', '--> pre: Success', 'done', '--> post: Failed (exited with code 1); ignored (failurePolicy Ignore)']));
    // The plan first, then the hook, and only then the first pod.
    expect(lines.indexOf('--> pre: Success')).toBeLessThan(lines.findIndex((line) => line.startsWith('    Scaling hooked-1 up')));
    expect(lines.at(-1)).toBe('--> Success');

    // A template change (the strategy alone rolls nothing out) whose pre hook fails.
    await updateDc('hooked', withHooks({ pre: run('echo cannot migrate; exit 3', 'Abort') }, 'hello'));
    const failed = await eventually('revision 2 to fail on its pre hook', async () => {
      const dc = (await ok('deploymentconfigs.get', { namespace, name: 'hooked' })) as DeploymentConfig;
      return dc.status.conditions.find((c) => c.type === 'Progressing' && c.reason === 'HookFailed');
    }, 60_000);
    expect(failed.message).toBe('the pre hook of revision 2 failed: exited with code 3; revision 1 serves again');
    expect((await logOf(2)).log.split('\n').filter(Boolean)).toEqual(expect.arrayContaining(['cannot migrate', '--> pre: Failed (exited with code 3)']));
    const hookPods = ((await ok('pods.list', { namespace, labelSelector: 'deploymentconfig=hooked' })) as ResourceList<Pod>).items;
    expect(hookPods.map((pod) => pod.metadata.labels?.deployment)).toEqual(['hooked-1']);
    expect(containersWith(`paas.dev/hook-of=hooked-2`)).toBe('');
    await ok('deploymentconfigs.delete', { namespace, name: 'hooked' });
  });

  it('Recreate: no pod of the new revision exists while one of the old does; revisionHistoryLimit 1 keeps one old revision; rollout latest', async () => {
    const body = (image: string) => {
      const dc = namedDc('recreate', image);
      return { ...dc, spec: { ...dc.spec, replicas: 2, revisionHistoryLimit: 1, strategy: { type: 'Recreate' } } };
    };
    const revisionsOf = async () => ((await ok('pods.list', { namespace, labelSelector: 'deploymentconfig=recreate' })) as ResourceList<Pod>).items.map((pod) => pod.metadata.labels?.deployment ?? '');
    const servedBy = (revision: string) => async () => {
      const { items } = (await ok('pods.list', { namespace, labelSelector: 'deploymentconfig=recreate' })) as ResourceList<Pod>;
      return items.length === 2 && items.every((pod) => pod.metadata.labels?.deployment === revision && isReady(pod)) ? items : undefined;
    };
    await ok('deploymentconfigs.create', { namespace, body: body(images.v1) });
    await eventually('revision 1 to serve with 2 pods', servedBy('recreate-1'));

    const seen: string[][] = [];
    let watching = true;
    const watch = (async () => {
      while (watching) {
        seen.push(await revisionsOf());
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    await updateDc('recreate', body(images.v2));
    const [pod] = await eventually('revision 2 to serve with 2 pods', servedBy('recreate-2'), 60_000);
    watching = false;
    await watch;
    expect(await answer(pod.status.hostPort as number)).toBe('200 hello v2');
    expect(seen.filter((revisions) => new Set(revisions).size > 1)).toEqual([]);

    await updateDc('recreate', body(images.v1));
    await eventually('revision 3 to serve with 2 pods', servedBy('recreate-3'), 60_000);
    const kept = await eventually('revision 1 to be pruned', async () => {
      const rcs = await ok('replicationcontrollers.list', { namespace, labelSelector: 'deploymentconfig=recreate' });
      const names = rcs.items.map((rc) => rc.metadata.name).sort();
      return names.length === 2 ? names : undefined;
    }, 30_000);
    expect(kept).toEqual(['recreate-2', 'recreate-3']);

    // Rollout latest: revision 4 of the same template.
    expect((await ok('deploymentconfigs.instantiate', { namespace, name: 'recreate' })).status.latestVersion).toBe(4);
    const [rolled] = await eventually('revision 4 to serve with 2 pods', servedBy('recreate-4'), 60_000);
    expect(await answer(rolled.status.hostPort as number)).toBe('200 hello v1');
    await ok('deploymentconfigs.delete', { namespace, name: 'recreate' });
  });

  it('liveness: a container that stops answering its liveness probe (httpGet) is stopped and started again, and its pod says why; tcpSocket readiness', async () => {
    const { received: changes, stop } = collect('pod.changed');
    const dc = namedDc('live', images.v1);
    const [container] = dc.spec.template.spec.containers;
    // Ready once httpd's port opens (tcpSocket), alive while it serves the page (httpGet).
    const readinessProbe = { tcpSocket: { port: 8080 }, periodSeconds: 0.2, timeoutSeconds: 1, failureThreshold: 3 };
    const livenessProbe = { httpGet: { path: '/', port: 8080 }, periodSeconds: 0.2, timeoutSeconds: 1, failureThreshold: 2 };
    const probed = { ...container, readinessProbe, livenessProbe };
    await ok('deploymentconfigs.create', { namespace, body: { ...dc, spec: { ...dc.spec, template: { ...dc.spec.template, spec: { ...dc.spec.template.spec, containers: [probed] } } } } });
    const livePods = async () => ((await ok('pods.list', { namespace, labelSelector: 'deploymentconfig=live' })) as ResourceList<Pod>).items;
    const [first] = await eventually('the pod to be ready', async () => ((await livePods()).some(isReady) ? livePods() : undefined));

    // The page the probe asks for goes away: httpd answers 404 from then on.
    docker('exec', '-u', '0', first.status.containerID as string, '/bin/busybox', 'rm', '/www/index.html');
    const [restarted] = await eventually('the container to be started again and ready', async () => {
      const now = await livePods();
      return now.length === 1 && now[0].status.restartCount === 1 && now[0].status.containerID !== first.status.containerID && isReady(now[0]) ? now : undefined;
    }, 30_000);
    expect(restarted.metadata.name).toBe(first.metadata.name);
    expect(await answer(restarted.status.hostPort as number)).toBe('200 hello v1');
    expect(containersWith(`paas.dev/pod=${first.metadata.name}`).split('\n')).toHaveLength(1);
    const why = changes.find((change) => change.data.reason === 'LivenessProbeFailed');
    expect(why?.data).toMatchObject({ name: first.metadata.name, ready: false, message: expect.stringMatching(/^liveness probe GET http:\/\/\S+\/ failed 2 times in a row: the container is restarted$/) });
    stop();
    await ok('deploymentconfigs.delete', { namespace, name: 'live' });
  });

  it('startup and exec probes: readiness waits until the startup command succeeds in the container; a container that keeps failing it is restarted, saying why', async () => {
    const { received: changes, stop } = collect('pod.changed');
    const busybox = (...args: string[]) => ({ exec: { command: ['/bin/busybox', ...args] }, timeoutSeconds: 2 });
    const create = async (name: string, probes: object) => {
      const dc = namedDc(name, images.v1);
      const containers = [{ ...dc.spec.template.spec.containers[0], ...probes }];
      await ok('deploymentconfigs.create', { namespace, body: { ...dc, spec: { ...dc.spec, template: { ...dc.spec.template, spec: { ...dc.spec.template.spec, containers } } } } });
      return async () => ((await ok('pods.list', { namespace, labelSelector: `deploymentconfig=${name}` })) as ResourceList<Pod>).items;
    };
    const slowPods = await create('slow', {
      startupProbe: { ...busybox('test', '-f', '/www/started'), periodSeconds: 0.2, failureThreshold: 100 },
      readinessProbe: { ...busybox('test', '-f', '/www/index.html'), periodSeconds: 0.2, failureThreshold: 3 },
    });
    const neverPods = await create('never', { startupProbe: { ...busybox('false'), periodSeconds: 0.2, failureThreshold: 2 } });

    const [running] = await eventually('a container for the slow pod', async () => ((await slowPods()).find((pod) => pod.status.containerID) ? slowPods() : undefined));
    const restarted = await eventually('the failing pod to be restarted', async () => (await neverPods()).find((pod) => pod.status.restartCount >= 1), 30_000);
    // Its startup command has failed about every 0.2 s meanwhile: readiness was never probed.
    expect(isReady((await slowPods())[0])).toBe(false);
    docker('exec', '-u', '0', running.status.containerID as string, '/bin/busybox', 'touch', '/www/started');
    const [ready] = await eventually('the slow pod to be ready once started', async () => ((await slowPods()).some(isReady) ? slowPods() : undefined), 10_000);
    expect(ready.status.containerID).toBe(running.status.containerID);
    expect(ready.status.restartCount).toBe(0);

    const why = changes.find((change) => change.data.name === restarted.metadata.name && change.data.reason === 'StartupProbeFailed');
    expect(why?.data.message).toBe('startup probe exec /bin/busybox false failed 2 times in a row: the container is restarted');
    stop();
    await ok('deploymentconfigs.delete', { namespace, name: 'slow' });
    await ok('deploymentconfigs.delete', { namespace, name: 'never' });
  });

  it('readOnlyRootFilesystem: the pod serves, nothing can change its image files, not even root; /tmp stays writable', async () => {
    const dc = namedDc('sealed', images.v1);
    const containers = [{ ...dc.spec.template.spec.containers[0], securityContext: { readOnlyRootFilesystem: true } }];
    await ok('deploymentconfigs.create', { namespace, body: { ...dc, spec: { ...dc.spec, template: { ...dc.spec.template, spec: { ...dc.spec.template.spec, containers } } } } });
    const sealedPods = async () => ((await ok('pods.list', { namespace, labelSelector: 'deploymentconfig=sealed' })) as ResourceList<Pod>).items;
    const [pod] = await eventually('the sealed pod to be ready', async () => ((await sealedPods()).some(isReady) ? sealedPods() : undefined));
    expect(await answer(pod.status.hostPort as number)).toBe('200 hello v1');
    const id = pod.status.containerID as string;
    expect(() => docker('exec', '-u', '0', id, '/bin/busybox', 'touch', '/www/changed')).toThrow(/Read-only file system/);
    docker('exec', id, '/bin/busybox', 'touch', '/tmp/scratch');
    await ok('deploymentconfigs.delete', { namespace, name: 'sealed' });
  });

  it('cancel: a rollout whose pod never becomes ready is stopped by a user, fails as RolloutCancelled, and revision 1 serves alone', async () => {
    const haltPods = async () => ((await ok('pods.list', { namespace, labelSelector: 'deploymentconfig=halt' })) as ResourceList<Pod>).items;
    await ok('deploymentconfigs.create', { namespace, body: namedDc('halt', images.v1) });
    const [serving] = await eventually('revision 1 to serve', async () => ((await haltPods()).some(isReady) ? haltPods() : undefined));
    const refused = await rpc('deploymentconfigs.cancel', { namespace, name: 'halt' });
    expect(refused).toMatchObject({ ok: false, status: { code: 400, message: expect.stringContaining('no rollout is in progress') } });

    // Revision 2 probes a page its httpd does not have: it stays not ready, rolling out.
    const stuck = namedDc('halt', images.v2);
    const [container] = stuck.spec.template.spec.containers;
    const probe = { ...container.readinessProbe, httpGet: { path: '/missing', port: 8080 } };
    await updateDc('halt', { ...stuck, spec: { ...stuck.spec, template: { ...stuck.spec.template, spec: { ...stuck.spec.template.spec, containers: [{ ...container, readinessProbe: probe }] } } } });
    await eventually('a pod of revision 2', async () => ((await haltPods()).some((pod) => pod.metadata.labels?.deployment === 'halt-2') ? true : undefined));

    await ok('deploymentconfigs.cancel', { namespace, name: 'halt' });
    const cancelled = await eventually('the rollout to be cancelled', async () => {
      const dc = (await ok('deploymentconfigs.get', { namespace, name: 'halt' })) as DeploymentConfig;
      return dc.status.conditions.find((c) => c.type === 'Progressing' && c.reason === 'RolloutCancelled');
    }, 30_000);
    expect(cancelled.message).toBe('the rollout of revision 2 was cancelled; revision 1 serves again');
    const log = await ok('deploymentconfigs.log', { namespace, name: 'halt', version: 2 });
    expect(log.log.split('\n').filter(Boolean).at(-1)).toBe('--> Cancelled: the rollout of revision 2 was cancelled; revision 1 serves again');
    await eventually("the cancelled revision's pod to be gone", async () => ((await haltPods()).length === 1 ? true : undefined), 30_000);
    const [still] = await haltPods();
    expect(still.metadata.name).toBe(serving.metadata.name);
    expect(await answer(still.status.hostPort as number)).toBe('200 hello v1');
    await ok('deploymentconfigs.delete', { namespace, name: 'halt' });
  });

  it('health gate: a release whose pod crash-loops fails as soon as it does, and revision 1 keeps serving', async () => {
    const { received: failed, stop } = collect('deployment.failed');
    const gatePods = async () => ((await ok('pods.list', { namespace, labelSelector: 'deploymentconfig=gate' })) as ResourceList<Pod>).items;
    await ok('deploymentconfigs.create', { namespace, body: namedDc('gate', images.v1) });
    const [serving] = await eventually('revision 1 to serve', async () => ((await gatePods()).some(isReady) ? gatePods() : undefined));

    await updateDc('gate', namedDc('gate', images.root));
    const rolledBack = await eventually('the rollout to fail', async () => {
      const dc = (await ok('deploymentconfigs.get', { namespace, name: 'gate' })) as DeploymentConfig;
      return dc.status.conditions.some((c) => c.type === 'Progressing' && c.status === 'False') ? dc : undefined;
    }, 60_000);

    const progressing = rolledBack.status.conditions.find((c) => c.type === 'Progressing');
    expect(progressing).toMatchObject({ reason: 'CrashLoopBackOff', message: expect.stringMatching(/^a pod of revision 2 crash-loops: gate-2-\w+: back-off .*exited with code 1.*; revision 1 serves again$/) });
    const rcs = await ok('replicationcontrollers.list', { namespace, labelSelector: 'deploymentconfig=gate' });
    expect(rcs.items.map((rc) => [rc.metadata.name, rc.spec.replicas, rc.metadata.annotations?.['openshift.io/deployment.phase']])).toEqual([
      ['gate-1', 1, 'Complete'],
      ['gate-2', 0, 'Failed'],
    ]);
    await eventually('deployment.failed to be published', async () => failed.find((e) => e.data.name === 'gate' && e.data.version === 2 && e.data.reason === 'CrashLoopBackOff'));
    await eventually("the failed revision's pod to be gone", async () => ((await gatePods()).length === 1 ? true : undefined), 30_000);
    const [still] = await gatePods();
    expect(still.metadata.name).toBe(serving.metadata.name);
    expect(await answer(still.status.hostPort as number)).toBe('200 hello v1');
    stop();
    await ok('deploymentconfigs.delete', { namespace, name: 'gate' });
  });
});
