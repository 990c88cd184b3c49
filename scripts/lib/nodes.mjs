// Extra Docker engines on this machine ("nodes"), besides the host's own engine (node
// `local`). Node i (1 … N-1) runs in a network namespace of its own, joined to the host by a
// veth pair, with its own data and exec roots, bridge subnet and TLS-verified TCP socket, so
// that the platform drives it as it would an engine on another machine. Address plan
// (docs/architecture.md): with PAAS_NODE_NET=10.250 (the default) node i owns 10.250.i.0/24:
// the veth pair 10.250.i.1 (host) / 10.250.i.2 (node) as a /30, its engine on
// tcp://10.250.i.2:2376, its containers' bridge 10.250.i.129/25; the platform registry is
// reached at 10.250.i.1:<registry port>. Everything is found again by name, so up and down
// converge: they add what is missing and remove what is beyond the count.
import fs from 'node:fs';
import path from 'node:path';
import { NODE_NET, PAAS_HOME, dirs, ports, relative, serviceEnv } from './config.mjs';
import { asAdmin } from './gateway.mjs';
import { ok, warn } from './log.mjs';
import { ensureNodeCertificates, tlsFiles } from './node-certs.mjs';
import { ensureNodePodGuard } from './pod-guard.mjs';
import { capture, logFile, ownedPid, pidNames, stop, tail } from './proc.mjs';
import { ensureRunning } from './start.mjs';

const NET_ID = NODE_NET.split('.')[1];
const ENGINE_PORT = 2376;
export const NODES_FILE = path.join(dirs.run, 'nodes.json');
/**
 * The node engine's own settings (not the host engine's /etc/docker/daemon.json). Every
 * namespace with pods on a node has a network of its own there: Docker's default pools give
 * about 30 networks, these 4096 (/24s of 172.16.0.0/12, which nothing else uses inside the
 * node's namespace). Read when the engine starts.
 */
const NODE_DAEMON_CONFIG = { 'default-address-pools': [{ base: '172.16.0.0/12', size: 24 }] };

/**
 * The kernel's neighbour (ARP) table is one for every network namespace, and each pod takes
 * two entries in it (its address on the host or node side, the bridge's inside the pod).
 * Linux's defaults (gc_thresh3 = 1024) overflow at about 500 pods: new pods then answer
 * nothing, dmesg says "neighbor table overflow". Raised as Kubernetes nodes are; never lowered.
 */
const NEIGHBOUR_TABLE = { gc_thresh1: 2048, gc_thresh2: 8192, gc_thresh3: 16384 };

export function ensureNeighbourTable() {
  try {
    for (const [setting, wanted] of Object.entries(NEIGHBOUR_TABLE)) {
      const file = `/proc/sys/net/ipv4/neigh/default/${setting}`;
      if (Number(fs.readFileSync(file, 'utf8')) < wanted) fs.writeFileSync(file, String(wanted));
    }
    ok(`room for ${NEIGHBOUR_TABLE.gc_thresh3 / 2} pods in the neighbour table (net.ipv4.neigh.default.gc_thresh3=${NEIGHBOUR_TABLE.gc_thresh3})`);
  } catch (error) {
    warn(`the neighbour table is not raised (${error.code ?? error.message}): past about 500 pods new pods answer nothing`);
  }
}

/** Node `index`'s names, addresses and paths. */
function nodePlan(index) {
  const name = `node-${index}`;
  const hostIP = `${NODE_NET}.${index}.1`;
  const nodeIP = `${NODE_NET}.${index}.2`;
  return {
    name,
    index,
    netns: `paas${NET_ID}-${name}`,
    hostVeth: `p${NET_ID}n${index}h`,
    nodeVeth: `p${NET_ID}n${index}n`,
    hostIP,
    nodeIP,
    bridge: `${NODE_NET}.${index}.129/25`,
    engineUrl: `tcp://${nodeIP}:${ENGINE_PORT}`,
    tlsDir: path.join(PAAS_HOME, 'secrets', 'nodes', name),
    registryHost: `${hostIP}:${ports.registry}`,
    dataRoot: path.join(dirs.data, 'nodes', name),
    execRoot: path.join(dirs.run, 'nodes', name),
  };
}

/** The docker CLI's arguments to talk to the node's engine with the platform's client certificate. */
export function engineArgs(node) {
  const tls = tlsFiles(node.tlsDir);
  return ['-H', node.engineUrl, '--tlsverify', `--tlscacert=${tls.ca}`, `--tlscert=${tls.cert}`, `--tlskey=${tls.key}`];
}

export const dockerOn = (node, ...args) => capture('docker', [...engineArgs(node), ...args]);

/** The node's engine as an entry of the process table (pid file .paas/run/node-<i>.pid). */
function engineEntry(node) {
  const tls = tlsFiles(node.tlsDir);
  return {
    name: node.name,
    // nsenter, not `ip netns exec`: the latter remounts /sys and dockerd then finds no devices cgroup.
    command: ['nsenter', `--net=/var/run/netns/${node.netns}`, 'dockerd',
      `--data-root=${node.dataRoot}`, `--exec-root=${node.execRoot}`,
      `--pidfile=${path.join(node.execRoot, 'dockerd.pid')}`,
      `--config-file=${path.join(node.execRoot, 'daemon.json')}`, // not the host engine's /etc/docker/daemon.json
      `--bip=${node.bridge}`, `--insecure-registry=${node.registryHost}`,
      `--host=${node.engineUrl}`, '--tlsverify', `--tlscacert=${tls.ca}`, `--tlscert=${tls.serverCert}`, `--tlskey=${tls.serverKey}`],
    program: `--data-root=${node.dataRoot}`,
    env: {},
    health: { command: ['docker', ...engineArgs(node), 'info'] },
    dirs: [node.dataRoot, node.execRoot],
    startTimeoutMs: 60_000,
    stopTimeoutMs: 30_000, // it stops its containers first
  };
}

const linkExists = (name) => fs.existsSync(`/sys/class/net/${name}`);
const netnsExists = (name) => fs.existsSync(`/var/run/netns/${name}`);

function ensureNetwork(node) {
  if (!netnsExists(node.netns)) capture('ip', ['netns', 'add', node.netns]);
  if (!linkExists(node.hostVeth)) {
    capture('ip', ['link', 'add', node.hostVeth, 'type', 'veth', 'peer', 'name', node.nodeVeth, 'netns', node.netns]);
  }
  capture('ip', ['addr', 'replace', `${node.hostIP}/30`, 'dev', node.hostVeth]);
  capture('ip', ['link', 'set', node.hostVeth, 'up']);
  capture('ip', ['-n', node.netns, 'addr', 'replace', `${node.nodeIP}/30`, 'dev', node.nodeVeth]);
  capture('ip', ['-n', node.netns, 'link', 'set', node.nodeVeth, 'up']);
  capture('ip', ['-n', node.netns, 'link', 'set', 'lo', 'up']);
}

function removeNetwork(node) {
  if (linkExists(node.hostVeth)) capture('ip', ['link', 'del', node.hostVeth]); // takes its peer along
  if (netnsExists(node.netns)) capture('ip', ['netns', 'del', node.netns]);
}

/** Indexes of the nodes that exist in any form: an engine's pid file or a namespace. */
function existingNodes() {
  const fromPids = pidNames(/^node-\d+$/).map((name) => Number(name.slice('node-'.length)));
  const prefix = `paas${NET_ID}-node-`;
  const fromNamespaces = fs.existsSync('/var/run/netns')
    ? fs.readdirSync('/var/run/netns').filter((name) => name.startsWith(prefix)).map((name) => Number(name.slice(prefix.length)))
    : [];
  return [...new Set([...fromPids, ...fromNamespaces])].filter(Number.isInteger).sort((a, b) => b - a);
}

/** Stops a node: its containers, then its engine by pid, then its veth pair and namespace. */
async function stopNode(node) {
  const entry = engineEntry(node);
  if (ownedPid(entry)) {
    try {
      const running = dockerOn(node, 'ps', '-q').trim().split('\n').filter(Boolean);
      if (running.length > 0) dockerOn(node, 'stop', '--time', '10', ...running);
    } catch {
      // the engine stops what is left itself
    }
  }
  const outcome = await stop(entry);
  removeNetwork(node);
  ok(`${node.name}: ${outcome?.message ?? 'engine not running'}; network ${node.netns} removed`);
}

/** Stops every node whose index is `keep` or more (all of them with keep 1); answers how many. */
export async function stopNodes(keep = 1) {
  const surplus = existingNodes().filter((index) => index >= keep);
  for (const index of surplus) await stopNode(nodePlan(index));
  if (keep <= 1) fs.rmSync(NODES_FILE, { force: true });
  return surplus.length;
}

/**
 * The networks of nodes 1 … count-1, made before the registry starts: it listens on the
 * host end of each veth. Surplus nodes are stopped first.
 */
export async function ensureNodeNetworks(count) {
  await stopNodes(count);
  const nodes = Array.from({ length: count - 1 }, (_, i) => nodePlan(i + 1));
  for (const node of nodes) ensureNetwork(node);
  return nodes;
}

/**
 * Certificates and engines (started together, each waited for) of `nodes`. Their builder
 * images come from the platform's registry once it runs (builders.mjs).
 */
export async function ensureNodeEngines(nodes) {
  for (const node of nodes) {
    const { made } = ensureNodeCertificates(node.tlsDir, { name: node.name, ip: node.nodeIP });
    if (made) ok(`${node.name}: TLS certificates made in ${relative(node.tlsDir)}`);
    fs.mkdirSync(node.execRoot, { recursive: true });
    fs.writeFileSync(path.join(node.execRoot, 'daemon.json'), `${JSON.stringify(NODE_DAEMON_CONFIG)}\n`);
  }
  try {
    await ensureRunning(nodes.map(engineEntry));
  } catch (error) {
    const broken = nodes.filter(hasBrokenNetworkStore);
    if (!broken.length) throw error;
    for (const node of broken) setNetworkStoreAside(node);
    await ensureRunning(nodes.map(engineEntry));
  }
  for (const node of nodes) ensureNodePodGuard(node);
}

/**
 * Docker 20.10 panics at start (libnetwork `reservePools`, index out of range) when its
 * network store holds a network whose address pool was never written: an engine stopped
 * while a pod network was being made (the chaos suite stops node-1 under load). Nothing the
 * store holds is needed: the host-side bridges are made again at start, and the
 * deploy-service makes each namespace's pod network again with its next pod there.
 */
function hasBrokenNetworkStore(node) {
  return tail(logFile(node.name), 200).includes('libnetwork.(*controller).reservePools');
}

function setNetworkStoreAside(node) {
  const store = path.join(node.dataRoot, 'network', 'files', 'local-kv.db');
  if (!fs.existsSync(store)) return;
  const aside = `${store}.broken-${Date.now()}`;
  fs.renameSync(store, aside);
  warn(`${node.name}: its engine would not start (a network store left half-written when it stopped, a Docker 20.10 bug); set aside as ${relative(aside)}, starting again`);
}

/** .paas/run/nodes.json: every engine the platform may run pods on, as registered as Nodes. */
export function writeNodesFile(nodes) {
  const local = {
    name: 'local',
    engineUrl: process.env.DOCKER_HOST || 'unix:///var/run/docker.sock',
    hostIP: '127.0.0.1',
    registryHost: serviceEnv.REGISTRY_HOST,
  };
  const extra = nodes.map((node) => ({
    name: node.name, engineUrl: node.engineUrl, tlsDir: node.tlsDir, hostIP: node.nodeIP, registryHost: node.registryHost,
  }));
  fs.mkdirSync(dirs.run, { recursive: true });
  fs.writeFileSync(NODES_FILE, `${JSON.stringify([local, ...extra], null, 2)}\n`);
  return [local, ...extra];
}

/** Names of the nodes `up` makes: only these does it ever remove from the platform. */
const MANAGED_NODE = /^(local|node-\d+)$/;

/**
 * Registers every engine of `entries` as a Node through the API (as an admin would register
 * an engine elsewhere: `POST /api/v1/nodes` with its URL and TLS directory), updates one
 * whose address changed, and removes the `node-<i>` a smaller `--nodes` left behind. Nodes
 * registered by hand (other names) are left alone.
 */
export async function registerNodes(entries) {
  const api = (method, url, body) => asAdmin(method, `/api/v1/nodes${url}`, body, [404, 409]);
  const wanted = new Map(entries.map((entry) => [entry.name, entry]));
  for (const entry of entries) {
    const spec = { engine: { url: entry.engineUrl, ...(entry.tlsDir ? { tlsDir: entry.tlsDir } : {}) }, hostIP: entry.hostIP, registryHost: entry.registryHost };
    let current = await api('GET', `/${entry.name}`);
    if (current.status === 404) {
      // 409: the deploy-service registered its own host's engine meanwhile (it does when no node exists).
      if ((await api('POST', '', { metadata: { name: entry.name }, spec })).status !== 409) {
        ok(`node ${entry.name} registered (${entry.engineUrl})`);
        continue;
      }
      current = await api('GET', `/${entry.name}`);
    }
    if (JSON.stringify({ ...spec, unschedulable: current.body.spec.unschedulable }) !== JSON.stringify(current.body.spec)) {
      await api('PUT', `/${entry.name}`, { metadata: current.body.metadata, spec: { ...spec, unschedulable: current.body.spec.unschedulable } });
      ok(`node ${entry.name} updated (${entry.engineUrl})`);
    }
  }
  for (const node of (await api('GET', '')).body.items ?? []) {
    if (MANAGED_NODE.test(node.metadata.name) && !wanted.has(node.metadata.name)) {
      await api('DELETE', `/${node.metadata.name}`);
      ok(`node ${node.metadata.name} removed (its engine is stopped)`);
    }
  }
}
