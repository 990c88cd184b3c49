import type { NodeSpec } from '@paas/contracts/nodes';
import { loadConfig } from '@paas/platform/config';
import { BASE_PORTS, portOffset } from '@paas/platform/ports';
import { isolateBus } from '@paas/platform/testing';
import type Docker from 'dockerode';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { networkInterfaces } from 'node:os';
import path from 'node:path';
import { demuxFrames, DockerodeClient } from '../src/adapters/docker-client';
import { DockerRuntime, podNetwork } from '../src/adapters/docker-runtime';
import type { RuntimeContainer } from '../src/adapters/container-runtime';
import { dockerFor } from '@paas/platform/docker-engines';
import { buildImage, docker } from './support/test-image';

/**
 * What a pod can reach, tried from inside pods that the deploy-service's own runtime starts
 * (DockerRuntime, exactly as the RC reconciler starts every pod), on the host's engine and on
 * every extra node `npm run up` runs (.paas/run/nodes.json; `npm test` runs two):
 *
 * - a pod reaches the pods of its own namespace by their address, never those of another
 *   namespace (each namespace has a network of its own on each node);
 * - no pod connects to any port of the platform (NATS, the database, every service's public
 *   and admin ports, Zipkin, the nodes' engines) on any address of the host or of its node. To
 *   show that it is the firewall that refuses and not an empty port, the test listens on each
 *   of those ports on the pod network's gateway (an address of the host) and on each node's
 *   veth end, and connects there from the host first;
 * - every pod runs as a non-root user, without capabilities, with memory and pids limits.
 *
 * It needs the rules `npm run up` sets (scripts/lib/pod-guard.mjs); without them it fails.
 */
const suffix = randomUUID().slice(0, 6);
isolateBus('pods');
const instance = loadConfig().instance;
const image = `paas-test/pod-isolation-${suffix}:v1`;
const namespaces = { a: `iso-a-${suffix}`, b: `iso-b-${suffix}` };

interface TestNode {
  name: string;
  docker: Docker;
  runtime: DockerRuntime;
  /** The host's end of the node's veth (where the registry listens for it); none for the host's own engine. */
  hostEnd?: string;
  /** The node's own address (its engine, its published ports). */
  nodeIP: string;
  /** docker CLI arguments that reach its engine. */
  cli: string[];
}

/** The nodes of the platform as nodes.json lists them: `local` (this host's engine) and any extra engine. */
function testNodes(): TestNode[] {
  const file = path.join(loadConfig().home, 'run', 'nodes.json');
  const listed: { name: string; engineUrl: string; tlsDir?: string; hostIP: string; registryHost: string }[] = existsSync(file)
    ? JSON.parse(readFileSync(file, 'utf8'))
    : [{ name: 'local', engineUrl: 'unix:///var/run/docker.sock', hostIP: '127.0.0.1', registryHost: '' }];
  return listed.map((entry) => {
    const engine: NodeSpec['engine'] = { url: entry.engineUrl, ...(entry.tlsDir ? { tlsDir: entry.tlsDir } : {}) };
    const client = dockerFor(engine);
    const tls = entry.tlsDir ? ['-H', entry.engineUrl, '--tlsverify', ...['ca', 'cert', 'key'].map((file) => `--tls${file === 'ca' ? 'cacert' : file}=${entry.tlsDir}/${file}.pem`)] : [];
    return {
      name: entry.name,
      docker: client,
      runtime: new DockerRuntime(new DockerodeClient(client), entry.name, undefined, entry.hostIP),
      ...(entry.tlsDir ? { hostEnd: entry.registryHost.split(':')[0] } : {}),
      nodeIP: entry.hostIP,
      cli: tls,
    };
  });
}

/** Every port of the platform, as scripts/lib/config.mjs lays them out (its environment moves them alike). */
function platformPorts(env = process.env): number[] {
  const offset = portOffset(env);
  const base = (name: string, fallback: number) => Number(env[name] || fallback);
  const range = (first: number, count: number, step = 1) => Array.from({ length: count }, (_, i) => first + i * step);
  const mongo = Number(new URL(loadConfig().mongoUrl).port || 27017);
  return [
    ...range(base('NATS_PORT', 4222), 3),
    ...range(base('NATS_CLUSTER_PORT', 6222), 3),
    ...range(base('NATS_MONITOR_PORT', 8222), 3),
    mongo,
    base('FERRETDB_DEBUG_PORT', 8088),
    base('ZIPKIN_PORT', 9411),
    ...[BASE_PORTS.gateway, BASE_PORTS.registry, BASE_PORTS.routerHttp, BASE_PORTS.routerTls].map((port) => port + offset),
    ...[BASE_PORTS.gatewayAdmin, BASE_PORTS.registryAdmin, BASE_PORTS.build, BASE_PORTS.deploy, BASE_PORTS.routerAdmin].flatMap((port) => range(port + offset, 10, 100)),
  ];
}

/** Runs a shell script inside a container (as its own user), answering what it printed. */
async function shellIn(engine: Docker, id: string, script: string): Promise<string> {
  const exec = await engine.getContainer(id).exec({ Cmd: ['/bin/sh', '-c', script], AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return demuxFrames(Buffer.concat(chunks));
}

/** From inside container `id`, which of `targets` (`host:port`) accept a TCP connection. */
async function reachable(engine: Docker, id: string, targets: string[]): Promise<string[]> {
  const lines = targets.map((target) => {
    const [host, port] = [target.slice(0, target.lastIndexOf(':')), target.slice(target.lastIndexOf(':') + 1)];
    // nc's own connect timeout: busybox's `timeout` leaves a watchdog process behind for a second, and a pod may have few.
    return `nc -w 2 ${host} ${port} </dev/null >/dev/null 2>&1 && echo "open ${target}"`;
  });
  // Sixteen at a time (the pod's pids limit is 64): an address that drops rather than refuses
  // costs nc's 2 s, and this host may have many (other engines' bridges and veths).
  const batches = Array.from({ length: Math.ceil(lines.length / 16) }, (_, i) => [...lines.slice(i * 16, i * 16 + 16).map((line) => `(${line}) &`), 'wait']);
  const script = [...batches.flat(), 'echo done'].join('\n');
  const output = await shellIn(engine, id, script);
  if (!output.includes("done")) throw new Error(`the probe did not finish: ${output}`);
  return output.split('\n').filter((line) => line.startsWith('open ')).map((line) => line.slice('open '.length));
}

/** Listens on every port of `ports` that is free on `address` (an address of the host), for the test's control connections. */
async function listenOn(address: string, ports: number[]): Promise<{ ports: number[]; close: () => Promise<void> }> {
  const servers: net.Server[] = [];
  const listening: number[] = [];
  for (const port of ports) {
    const server = net.createServer((socket) => socket.end());
    const ok = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, address, () => resolve(true));
    });
    if (ok) {
      servers.push(server);
      listening.push(port);
    }
  }
  return { ports: listening, close: async () => void (await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))))) };
}

function connectsFromHost(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port, timeout: 2_000 });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

const hostAddresses = () =>
  Object.values(networkInterfaces())
    .flat()
    .filter((address) => address && address.family === 'IPv4' && !address.internal)
    .map((address) => (address as { address: string }).address);

const nodes = testNodes();
const started: { node: TestNode; container: RuntimeContainer }[] = [];
const ports = platformPorts();

async function startPod(node: TestNode, namespace: string, name: string): Promise<RuntimeContainer> {
  const container = await node.runtime.run({
    name: `paas.${namespace}.${name}`,
    hostname: name,
    namespace,
    image,
    env: [],
    labels: { 'paas.dev/namespace': namespace, 'paas.dev/pod': name, 'paas.dev/test': 'deploy' },
    containerPort: 8080,
    memoryBytes: 64 * 1024 ** 2,
    pidsLimit: 64,
  });
  started.push({ node, container });
  return container;
}

beforeAll(async () => {
  buildImage(image, 'a pod');
  for (const node of nodes.filter((n) => n.cli.length)) {
    execFileSync('bash', ['-o', 'pipefail', '-c', 'docker save "$1" | docker "${@:2}" load', 'bash', image, ...node.cli], { stdio: 'pipe' });
  }
}, 120_000);

afterAll(async () => {
  for (const { node, container } of started.splice(0)) await node.runtime.remove(container.id, { graceSeconds: 0 }).catch(() => undefined);
  for (const node of nodes) {
    const leftovers = (await node.docker.listNetworks({ filters: JSON.stringify({ label: [`paas.dev/instance=${instance}`] }) })) as { Name: string }[];
    for (const network of leftovers) await node.docker.getNetwork(network.Name).remove().catch(() => undefined);
    await node.docker.getImage(image).remove({ force: true }).catch(() => undefined);
  }
}, 120_000);

describe.each(nodes.map((node) => [node.name, node] as const))('pods on node %s', (_name, node) => {
  let a1: RuntimeContainer;
  let a2: RuntimeContainer;
  let b1: RuntimeContainer;

  beforeAll(async () => {
    a1 = await startPod(node, namespaces.a, `a1-${node.name}`);
    a2 = await startPod(node, namespaces.a, `a2-${node.name}`);
    b1 = await startPod(node, namespaces.b, `b1-${node.name}`);
  }, 60_000);

  it("reach their own namespace's pods by address, never another namespace's", async () => {
    expect(a1.ip).toBeTruthy();
    expect(b1.ip).toBeTruthy();
    expect(await reachable(node.docker, a1.id, [`${a2.ip}:8080`, `${b1.ip}:8080`])).toEqual([`${a2.ip}:8080`]);
    expect(await reachable(node.docker, b1.id, [`${a1.ip}:8080`, `${a2.ip}:8080`])).toEqual([]);
    const networks = (id: string) => node.docker.getContainer(id).inspect().then((info) => Object.keys(info.NetworkSettings.Networks));
    expect(await networks(a1.id)).toEqual([podNetwork(instance, namespaces.a).name]);
    expect(await networks(b1.id)).toEqual([podNetwork(instance, namespaces.b).name]);
  }, 60_000);

  it('connect to no port of the platform on any address of the host or of the node, though those ports answer there from the host', async () => {
    const info = await node.docker.getContainer(a1.id).inspect();
    const gateway = info.NetworkSettings.Networks[podNetwork(instance, namespaces.a).name].Gateway;
    // On the host's engine the pod's gateway is an address of the host; on a node it is the node's own.
    const controlAddress = node.hostEnd ?? gateway;
    const control = await listenOn(controlAddress, ports);
    try {
      expect(control.ports.length).toBeGreaterThan(ports.length / 2);
      for (const port of control.ports) expect(await connectsFromHost(controlAddress, port)).toBe(true);
      // Not 127.0.0.1: inside a pod that is the pod itself.
      const addresses = [...new Set([...hostAddresses(), gateway, ...nodes.map((n) => n.nodeIP)])].filter((ip) => ip !== '127.0.0.1');
      const targets = addresses.flatMap((address) => [...ports, 2376].map((port) => `${address}:${port}`));
      expect(await reachable(node.docker, a1.id, targets)).toEqual([]);
      // The probe itself works: the same pod reaches a pod of its namespace.
      expect(await reachable(node.docker, a1.id, [`${a2.ip}:8080`])).toEqual([`${a2.ip}:8080`]);
    } finally {
      await control.close();
    }
  }, 120_000);

  it('run as a non-root user, with no capability and none to gain, within their memory and pids limits', async () => {
    const info = await node.docker.getContainer(a1.id).inspect();
    expect(info.Config.User).toBe('1001:0');
    expect(info.HostConfig).toMatchObject({ CapDrop: ['ALL'], SecurityOpt: ['no-new-privileges'], Memory: 64 * 1024 ** 2, MemorySwap: 64 * 1024 ** 2, PidsLimit: 64 });
    const inside = await shellIn(node.docker, a1.id, 'id -u; grep -E "^Cap(Eff|Prm|Bnd)" /proc/self/status; touch /probe 2>&1 || echo "no write"');
    expect(inside).toContain('1001');
    expect(inside).toMatch(/CapEff:\s+0000000000000000/);
    expect(inside).toMatch(/CapBnd:\s+0000000000000000/);
    expect(inside).toContain('no write');
  }, 60_000);

  it("lose their namespace's network with the last of its pods on the node", async () => {
    const name = podNetwork(instance, namespaces.b).name;
    await node.runtime.remove(b1.id, { graceSeconds: 0 });
    started.splice(started.findIndex((s) => s.container.id === b1.id), 1);
    await expect(node.docker.getNetwork(name).inspect()).rejects.toMatchObject({ statusCode: 404 });
    expect((await node.docker.getNetwork(podNetwork(instance, namespaces.a).name).inspect()).Name).toBe(podNetwork(instance, namespaces.a).name);
  }, 60_000);
});

it('tests at least the host engine', () => {
  expect(nodes.map((node) => node.name)).toContain('local');
  expect(docker('version', '--format', '{{.Server.APIVersion}}')).toBeTruthy();
});
