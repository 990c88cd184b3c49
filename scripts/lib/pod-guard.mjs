// The firewall between pods and everything that is not a pod of their own namespace
// (docs/security.md, "Pods"). The deploy-service puts every namespace's pods on a Docker
// network of their own per node, whose bridge it names `paaspod<8 hex digits>`
// (POD_BRIDGE_PREFIX in apps/deploy-service/src/adapters/docker-runtime.ts); Docker already
// keeps two such networks apart. What Docker leaves open, these rules close, matching the
// bridge prefix so that a network made later is covered without a rule of its own:
//
// - on the host: a pod opens no connection to any address of the host itself (its gateway,
//   the veth ends the registry listens on for the nodes, the LAN address ...), whatever the
//   port: chain PAAS-PODS, jumped to from INPUT. And no pod of the host's engine reaches the
//   nodes' network (<PAAS_NODE_NET>.0.0/16: the nodes' engines on 2376, the ports their pods
//   publish), a rule in DOCKER-USER.
// - in each node's network namespace: a pod opens no connection to the node itself (its
//   engine) nor, through the veth, to the host (the registry's node address above all).
//
// Only new connections are refused (conntrack NEW): the router's and the probes' connections
// into a pod, and their answers, pass. Rules are added where missing and never duplicated;
// down leaves them (they refuse only traffic from pod bridges, and another copy of the
// platform may use them).
import { capture } from './proc.mjs';
import { NODE_NET } from './config.mjs';

export const POD_BRIDGES = 'paaspod+';
export const GUARD_CHAIN = 'PAAS-PODS';

/** iptables in the host's network namespace, or in `netns` (a node's). */
const iptables = (netns, ...args) => (netns
  ? capture('nsenter', [`--net=/var/run/netns/${netns}`, 'iptables', '-w', ...args])
  : capture('iptables', ['-w', ...args]));

function has(netns, ...rule) {
  try {
    iptables(netns, '-C', ...rule);
    return true;
  } catch {
    return false;
  }
}

/** Inserts `rule` at the head of `chain` unless it is there already. */
function ensureFirst(netns, chain, rule) {
  if (!has(netns, chain, ...rule)) iptables(netns, '-I', chain, '1', ...rule);
}

function ensureChain(netns, chain) {
  try {
    iptables(netns, '-n', '-L', chain);
  } catch {
    iptables(netns, '-N', chain);
  }
}

const NEW = ['-m', 'conntrack', '--ctstate', 'NEW'];

/** PAAS-PODS: refuse every new connection it is handed (TCP with a reset, the rest unreachable). */
function ensureRefusingChain(netns) {
  ensureChain(netns, GUARD_CHAIN);
  const tcp = ['-p', 'tcp', ...NEW, '-j', 'REJECT', '--reject-with', 'tcp-reset'];
  const other = [...NEW, '-j', 'REJECT', '--reject-with', 'icmp-port-unreachable'];
  const wanted = [tcp, other];
  const present = iptables(netns, '-S', GUARD_CHAIN).split('\n').filter((line) => line.startsWith(`-A ${GUARD_CHAIN} `));
  if (present.length === wanted.length && wanted.every((rule) => has(netns, GUARD_CHAIN, ...rule))) return;
  iptables(netns, '-F', GUARD_CHAIN);
  for (const rule of wanted) iptables(netns, '-A', GUARD_CHAIN, ...rule);
}

/**
 * The host's rules: pods reach no address of the host, and pods of the host's engine reach no
 * node. Needs the host's engine running (its DOCKER-USER chain).
 */
export function ensureHostPodGuard() {
  ensureRefusingChain(null);
  ensureFirst(null, 'INPUT', ['-i', POD_BRIDGES, '-j', GUARD_CHAIN]);
  ensureChain(null, 'DOCKER-USER');
  ensureFirst(null, 'DOCKER-USER', ['-i', POD_BRIDGES, '-d', `${NODE_NET}.0.0/16`, ...NEW, '-j', 'REJECT']);
}

/** A node's rules, in its network namespace, once its engine runs: pods reach neither the node nor the host. */
export function ensureNodePodGuard(node) {
  ensureRefusingChain(node.netns);
  ensureFirst(node.netns, 'INPUT', ['-i', POD_BRIDGES, '-j', GUARD_CHAIN]);
  ensureChain(node.netns, 'DOCKER-USER');
  ensureFirst(node.netns, 'DOCKER-USER', ['-i', POD_BRIDGES, '-o', node.nodeVeth, ...NEW, '-j', 'REJECT']);
}
