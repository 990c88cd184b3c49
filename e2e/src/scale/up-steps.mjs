// Runs one step of `npm run up`/`down` (scripts/lib) in a process of its own, so that the
// jest tests in this folder drive the very code up uses, with the PAAS_HOME, ports and node
// network of their environment (scripts/lib reads its settings when it is loaded).
//   node up-steps.mjs start-services '{"api-gateway":2}' ['{"api-gateway":{"VAR":"value"}}' [3]]
//                     (the last argument: the NATS servers to point them at, as up does; 1 by default)
//   node up-steps.mjs stop-services
//   node up-steps.mjs start-nats 3      (1: the single server)
//   node up-steps.mjs stop-nats
//   node up-steps.mjs start-nodes 2     (writes .paas/run/nodes.json)
//   node up-steps.mjs stop-nodes
import { busEnv, everyInfrastructure, infrastructure } from '../../../scripts/lib/config.mjs';
import { main } from '../../../scripts/lib/log.mjs';
import { checkNatsCluster, stopOtherNatsLayouts } from '../../../scripts/lib/nats.mjs';
import { checkNatsCredentials, ensureNatsAuth } from '../../../scripts/lib/nats-auth.mjs';
import { ensureNodeEngines, ensureNodeNetworks, stopNodes, writeNodesFile } from '../../../scripts/lib/nodes.mjs';
import { stop } from '../../../scripts/lib/proc.mjs';
import { ensureServiceNode } from '../../../scripts/lib/provision.mjs';
import { startServices, stopServices } from '../../../scripts/lib/services.mjs';
import { ensureRunning } from '../../../scripts/lib/start.mjs';

const [step, ...args] = process.argv.slice(2);
const isNats = (entry) => entry.program === 'nats-server';

const steps = {
  'start-services': async (counts, extraEnv = '{}', natsCount = '1') => {
    await ensureServiceNode();
    await startServices(JSON.parse(counts), JSON.parse(extraEnv), busEnv(Number(natsCount)));
  },
  'stop-services': () => stopServices(),
  'start-nats': async (count) => {
    await stopOtherNatsLayouts(Number(count));
    await ensureNatsAuth(Number(count));
    await ensureRunning(infrastructure(Number(count)).filter(isNats));
    await checkNatsCluster(Number(count));
    await checkNatsCredentials(Number(count));
  },
  'stop-nats': async () => {
    for (const entry of everyInfrastructure.filter(isNats)) await stop(entry);
  },
  'start-nodes': async (count) => {
    const nodes = await ensureNodeNetworks(Number(count));
    await ensureNodeEngines(nodes);
    writeNodesFile(nodes);
  },
  'stop-nodes': () => stopNodes(),
};

await main(async () => {
  if (!steps[step]) throw new Error(`no step ${step}; steps: ${Object.keys(steps).join(', ')}`);
  await steps[step](...args);
});
