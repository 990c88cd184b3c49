// NATS as up runs it: the single server (`nats`, the default) or a cluster of three on loopback
// (`nats-1` … `nats-3`, up --nats-cluster); the entries are in config.mjs. Switching layouts
// stops the other one's servers first (the single server and the first cluster server share
// 4222 and its monitor port), and a cluster is checked to be ours and fully routed before the
// services are pointed at it.
import { NATS_CLUSTER_NAME, NATS_LAYOUTS, natsClusterNode, natsEntries, natsUrls } from './config.mjs';
import { Failure, ok } from './log.mjs';
import { stop } from './proc.mjs';

/** How long a started cluster may take to route every server to every other. */
const ROUTE_WAIT_MS = 10_000;

/** Stops the servers up started for another NATS layout than `count` servers (by pid file; others are left alone). */
export async function stopOtherNatsLayouts(count) {
  const wanted = new Set(natsEntries(count).map((entry) => entry.name));
  for (const entry of NATS_LAYOUTS.filter((layout) => layout !== count).flatMap(natsEntries)) {
    if (wanted.has(entry.name)) continue;
    const outcome = await stop(entry);
    if (outcome) ok(`${entry.name}: ${outcome.message} (NATS now runs ${count === 1 ? 'as one server' : `as a cluster of ${count}`})`);
  }
}

/**
 * Each server of a cluster of `count` must be the one up configures (its server_name, in the
 * cluster NATS_CLUSTER_NAME) and routed to every other: a foreign NATS answering on one of
 * the ports, or a server left from another layout, would otherwise be taken for ours.
 */
export async function checkNatsCluster(count) {
  if (count === 1) return;
  for (let i = 1; i <= count; i++) {
    const node = natsClusterNode(i);
    const varz = await monitor(node, 'varz');
    if (varz.server_name !== node.name || varz.cluster?.name !== NATS_CLUSTER_NAME || varz.port !== node.port) {
      throw new Failure(`127.0.0.1:${node.port} (monitor ${node.monitorPort}) is not ${node.name} of this platform's NATS cluster ` +
        `but "${varz.server_name}" of ${varz.cluster?.name ? `cluster "${varz.cluster.name}"` : 'no cluster'}: ` +
        'stop it, or move the cluster with NATS_PORT, NATS_CLUSTER_PORT and NATS_MONITOR_PORT');
    }
    // Servers route to each other after they start (a first attempt, then one a second): wait for it.
    const deadline = Date.now() + ROUTE_WAIT_MS;
    let routed = (await monitor(node, 'routez')).num_routes;
    while (routed < count - 1 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      routed = (await monitor(node, 'routez')).num_routes;
    }
    if (routed < count - 1) throw new Failure(`${node.name} is routed to ${routed} of the other ${count - 1} servers after ${ROUTE_WAIT_MS / 1000} s: see its log`);
  }
  ok(`NATS cluster of ${count} routed (${natsUrls(count).join(', ')})`);
}

/** One page of a server's monitor (varz, routez …) as JSON. */
async function monitor(node, page) {
  try {
    const response = await fetch(`http://127.0.0.1:${node.monitorPort}/${page}`, { signal: AbortSignal.timeout(5_000) });
    return await response.json();
  } catch (error) {
    throw new Failure(`${node.name}: its monitor on 127.0.0.1:${node.monitorPort} does not answer /${page} (${error.message})`);
  }
}
