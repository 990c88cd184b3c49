import { Logger } from '@nestjs/common';
import type { Container, Pod } from '@paas/contracts/deployments';
import { aNode, deployFixture, replicationController, runningPod, stopFixture, testSettings, type DeployFixture } from '../testing/fakes';
import { PodProber } from './pod-prober';

Logger.overrideLogger(false);

const fixtures: DeployFixture[] = [];
afterEach(() => fixtures.splice(0).forEach(stopFixture));

async function setup(answers: boolean[], pod = runningPod(replicationController(1, 1), 'web-1-a', 'c1', 40001, false)) {
  const fixture = await deployFixture([]);
  fixtures.push(fixture);
  fixture.nodes.seed(aNode('node-1'));
  const { pods, log, published, informers } = fixture;
  const now = { value: 0 };
  const urls: string[] = [];
  const http = {
    probe: async (url: string) => {
      urls.push(url);
      return answers.shift() ?? false;
    },
    connects: async (host: string, port: number) => {
      urls.push(`tcp://${host}:${port}`);
      return answers.shift() ?? false;
    },
  };
  const ownership = { shards: 16, listen: () => undefined };
  const removed: string[] = [];
  const runtime = {
    remove: async (id: string) => void removed.push(id),
    exec: async (id: string, command: string[]) => {
      urls.push(`exec ${id}: ${command.join(' ')}`);
      return answers.shift() ?? false;
    },
  };
  const cluster = { runtimeOf: () => runtime as never };
  const prober = new PodProber(http, pods, informers, cluster, ownership, testSettings(now));
  prober.watch(pods.seed(pod));
  const probe = async () => {
    await prober.probeDue();
    now.value += 1000;
  };
  const ready = async () => (await pods.get('demo', 'web-1-a')).status.conditions.find((c) => c.type === 'Ready')?.status;
  /** Runs what is due at `ms`; answers how many probes were made so far. */
  const probesAt = async (ms: number) => {
    now.value = ms;
    await prober.probeDue();
    return urls.length;
  };
  return { log, published, probe, probesAt, ready, urls, pods, prober, now, removed };
}

describe('PodProber, readiness', () => {
  it('marks a pod ready after one success, with pod.changed in the write (its change reconciles its RC and Services)', async () => {
    const { log, published, probe, ready, urls } = await setup([false, true]);
    await probe();
    expect(await ready()).toBe('False');
    expect(log).toEqual([]);
    await probe();
    expect(await ready()).toBe('True');
    expect(urls[0]).toBe('http://127.0.0.1:40001/');
    expect(log).toEqual(['publish pod.changed']);
    expect(published[0].data).toEqual({ namespace: 'demo', name: 'web-1-a', uid: expect.any(String), phase: 'Running', ready: true });
  });

  it("probes a container of this host's engine at its own address, not through the published port", async () => {
    const pod = runningPod(replicationController(1, 1), 'web-1-a', 'c1', 40001, false);
    const { probe, urls } = await setup([true], { ...pod, status: { ...pod.status, podIP: '172.17.0.5' } });
    await probe();
    expect(urls).toEqual(['http://172.17.0.5:8080/']);
  });

  it("probes a container of another node's engine at the port it publishes on that node's address", async () => {
    const pod = runningPod(replicationController(1, 1), 'web-1-a', 'c1', 40001, false);
    const elsewhere = { ...pod, spec: { ...pod.spec, nodeName: 'node-1' }, status: { ...pod.status, hostIP: '10.250.6.2', podIP: '10.250.6.130' } };
    const fixture = await setup([true], elsewhere);
    // The node as registered: an engine reached over tcp.
    await fixture.probe();
    expect(fixture.urls).toEqual(['http://10.250.6.2:40001/']);
  });

  it('marks a ready pod not ready only after failureThreshold failures in a row, saying why in its pod.changed', async () => {
    const { probe, ready, published } = await setup([true, false, false, true, false, false, false]);
    await probe();
    expect(await ready()).toBe('True');
    await probe();
    await probe();
    await probe(); // a success resets the count
    await probe();
    await probe();
    expect(await ready()).toBe('True');
    await probe();
    expect(await ready()).toBe('False');
    expect(published.map((event) => event.data)).toEqual([
      expect.objectContaining({ ready: true }),
      expect.objectContaining({ ready: false, message: 'GET http://127.0.0.1:40001/ failed 3 times' }),
    ]);
  });

  it('does not probe on a period not yet due, and stops for a forgotten pod', async () => {
    const { probe, urls, prober } = await setup([false, false, false]);
    await prober.probeDue();
    await prober.probeDue();
    expect(urls).toHaveLength(1);
    prober.forget('demo', 'web-1-a');
    await probe();
    expect(urls).toHaveLength(1);
  });

  it('probes a pod again after half the time it has taken so far (25 ms to 250 ms) until it is first Ready, then at its period', async () => {
    const pod = runningPod(replicationController(1, 1), 'web-1-a', 'c1', 40001, false);
    const container = pod.spec.containers[0];
    const probe = { httpGet: { path: '/', port: 8080 }, initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, failureThreshold: 3 };
    const slow = { ...pod, spec: { ...pod.spec, containers: [{ ...container, readinessProbe: probe }] } };
    // Ready at its 15th probe.
    const { probesAt, ready } = await setup([...Array(14).fill(false), true, false], slow);
    const probedAt: number[] = [];
    for (let ms = 0; ms <= 3_000; ms++) if ((await probesAt(ms)) > probedAt.length) probedAt.push(ms);
    const gaps = probedAt.slice(1).map((ms, i) => ms - probedAt[i]);
    expect(probedAt.slice(0, 8)).toEqual([0, 25, 50, 75, 113, 170, 255, 383]);
    expect(gaps.every((gap, i) => gap <= 250 && (i === 0 || gap >= gaps[i - 1]))).toBe(true);
    expect(probedAt.filter((ms) => ms < 2_000)).toHaveLength(14);
    expect(probedAt).toHaveLength(15);
    expect(await ready()).toBe('True');
    const readyAt = probedAt[14];
    expect(await probesAt(readyAt + 9_999)).toBe(15);
    expect(await probesAt(readyAt + 10_000)).toBe(16);
    expect(await probesAt(readyAt + 10_250)).toBe(16); // not ready is not a new start: still the period
  });
});

/** A ready pod whose container has only a liveness probe (period 10 s, threshold 3). */
function livePod() {
  const pod = runningPod(replicationController(1, 1), 'web-1-a', 'c1', 40001, true);
  const probe = { httpGet: { path: '/healthz', port: 8080 }, initialDelaySeconds: 5, periodSeconds: 10, timeoutSeconds: 1, failureThreshold: 3 };
  const { readinessProbe: _readiness, ...container } = pod.spec.containers[0];
  return { ...pod, spec: { ...pod.spec, containers: [{ ...container, livenessProbe: probe }] } };
}

describe('PodProber, tcpSocket', () => {
  it("connects to a tcpSocket probe's port: the container's own on this host's engine, the published one elsewhere; a failure names the address", async () => {
    const pod = runningPod(replicationController(1, 1), 'web-1-a', 'c1', 40001, true);
    const { readinessProbe: _http, ...container } = pod.spec.containers[0];
    const tcp = { tcpSocket: { port: 5432 }, initialDelaySeconds: 0, periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 1 };
    const local = { ...pod, spec: { ...pod.spec, containers: [{ ...container, readinessProbe: tcp }] }, status: { ...pod.status, podIP: '172.17.0.5' } };
    const { probe, urls, published } = await setup([false], local);
    await probe();
    expect(urls).toEqual(['tcp://172.17.0.5:5432']);
    expect(published.map((event) => event.data)).toEqual([expect.objectContaining({ ready: false, message: 'TCP 172.17.0.5:5432 failed 1 times' })]);

    const elsewhere = { ...local, metadata: { ...local.metadata, name: 'web-1-b' }, spec: { ...local.spec, nodeName: 'node-1' }, status: { ...local.status, hostIP: '10.250.6.2' } };
    const other = await setup([true], elsewhere);
    await other.probe();
    expect(other.urls).toEqual(['tcp://10.250.6.2:40001']);
  });
});

describe('PodProber, liveness', () => {
  it('probes from initialDelaySeconds on at its period; after failureThreshold failures in a row the pod says why and its container is stopped', async () => {
    const { probesAt, urls, removed, published, ready } = await setup([false, true, false, false, false], livePod());
    expect(await probesAt(4_000)).toBe(0);
    expect(await probesAt(5_000)).toBe(1);
    expect(await probesAt(15_000)).toBe(2); // a success resets the count
    expect(await probesAt(25_000)).toBe(3);
    expect(await probesAt(35_000)).toBe(4);
    expect(removed).toEqual([]);
    expect(await probesAt(45_000)).toBe(5);
    expect(urls[0]).toBe('http://127.0.0.1:40001/healthz');
    expect(removed).toEqual(['c1']);
    expect(await ready()).toBe('False');
    expect(published.map((event) => event.data)).toEqual([
      expect.objectContaining({ ready: false, reason: 'LivenessProbeFailed', message: 'liveness probe GET http://127.0.0.1:40001/healthz failed 3 times in a row: the container is restarted' }),
    ]);
    // The stopped container is not probed again; its replacement will be, once the RC records it.
    expect(await probesAt(60_000)).toBe(5);
  });

  it('leaves a container alone whose pod moved on to another container meanwhile', async () => {
    const { probesAt, removed, pods } = await setup([false, false, false], livePod());
    await pods.updateStatus('demo', 'web-1-a', (status) => ({ ...status, containerID: 'c2' }));
    for (const ms of [5_000, 15_000, 25_000]) await probesAt(ms);
    expect(removed).toEqual([]);
  });
});

/** `pod` with these probes in place of its container's. */
function withProbes(pod: Pod, probes: Pick<Container, 'readinessProbe' | 'livenessProbe' | 'startupProbe'>): Pod {
  const { readinessProbe: _readiness, ...container } = pod.spec.containers[0];
  return { ...pod, spec: { ...pod.spec, containers: [{ ...container, ...probes }] } };
}

const every = (periodSeconds: number, failureThreshold: number) => ({ initialDelaySeconds: 0, periodSeconds, timeoutSeconds: 1, failureThreshold });

describe('PodProber, exec', () => {
  it("runs an exec probe's command in the pod's container through its node's engine: exit 0 is a success", async () => {
    const pod = withProbes(runningPod(replicationController(1, 1), 'web-1-a', 'c1', 40001, true), { readinessProbe: { exec: { command: ['cat', '/tmp/ready'] }, ...every(1, 1) } });
    const { probe, ready, urls, published } = await setup([false, true], pod);
    await probe();
    expect(published.map((event) => event.data)).toEqual([expect.objectContaining({ ready: false, message: 'exec cat /tmp/ready failed 1 times' })]);
    await probe();
    expect(await ready()).toBe('True');
    expect(urls).toEqual(['exec c1: cat /tmp/ready', 'exec c1: cat /tmp/ready']);
  });
});

describe('PodProber, startup', () => {
  const starting = () =>
    withProbes(runningPod(replicationController(1, 1), 'web-1-a', 'c1', 40001, false), {
      startupProbe: { httpGet: { path: '/started', port: 8080 }, ...every(1, 3) },
      readinessProbe: { httpGet: { path: '/ready', port: 8080 }, ...every(1, 3) },
      livenessProbe: { httpGet: { path: '/healthz', port: 8080 }, ...every(10, 3) },
    });

  it('holds readiness and liveness back until the startup probe succeeds once, then starts them and probes startup no more', async () => {
    const { probesAt, urls, ready } = await setup([false, false, true, true, true], starting());
    await probesAt(0);
    await probesAt(1_000);
    expect(urls).toEqual(['http://127.0.0.1:40001/started', 'http://127.0.0.1:40001/started']);
    await probesAt(2_000);
    await probesAt(2_000);
    expect(urls.slice(2)).toEqual(['http://127.0.0.1:40001/started', 'http://127.0.0.1:40001/ready', 'http://127.0.0.1:40001/healthz']);
    expect(await ready()).toBe('True');
    await probesAt(3_000);
    expect(urls.slice(5)).toEqual(['http://127.0.0.1:40001/ready']);
  });

  it('restarts a container that fails its startup probe failureThreshold times in a row, and says why', async () => {
    const { probesAt, removed, published, urls } = await setup([false, false, false], starting());
    for (const ms of [0, 1_000, 2_000]) await probesAt(ms);
    expect(urls).toHaveLength(3);
    expect(removed).toEqual(['c1']);
    expect(published.map((event) => event.data)).toEqual([
      expect.objectContaining({ ready: false, reason: 'StartupProbeFailed', message: 'startup probe GET http://127.0.0.1:40001/started failed 3 times in a row: the container is restarted' }),
    ]);
  });

  it('makes a container without a readiness probe Ready once its startup probe succeeds', async () => {
    const pod = withProbes(runningPod(replicationController(1, 1), 'web-1-a', 'c1', 40001, false), { startupProbe: { tcpSocket: { port: 8080 }, ...every(1, 3) } });
    const { probe, ready, published } = await setup([false, true], pod);
    await probe();
    expect(await ready()).toBe('False');
    await probe();
    expect(await ready()).toBe('True');
    expect(published.map((event) => event.data)).toEqual([expect.objectContaining({ ready: true })]);
  });

  it('does not hold back a pod found Ready (a restarted deploy-service): it started before', async () => {
    const pod = starting();
    const { probesAt, urls } = await setup([true, true], { ...pod, status: { ...pod.status, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2030-01-01T00:00:00Z' }] } });
    await probesAt(0);
    expect(urls).toEqual(['http://127.0.0.1:40001/ready', 'http://127.0.0.1:40001/healthz']);
  });
});
