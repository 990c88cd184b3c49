// Runs one step of `npm run up`/`down` (scripts/lib) in a process of its own, so that the
// jest tests in this folder drive the very code up uses, with the PAAS_HOME, ports and node
// network of their environment (scripts/lib reads its settings when it is loaded).
//   node up-steps.mjs start-services '{"api-gateway":2}' ['{"api-gateway":{"VAR":"value"}}']
//   node up-steps.mjs stop-services
//   node up-steps.mjs start-nodes 2     (writes .paas/run/nodes.json)
//   node up-steps.mjs stop-nodes
import { main } from '../../../scripts/lib/log.mjs';
import { ensureNodeEngines, ensureNodeNetworks, stopNodes, writeNodesFile } from '../../../scripts/lib/nodes.mjs';
import { ensureServiceNode } from '../../../scripts/lib/provision.mjs';
import { startServices, stopServices } from '../../../scripts/lib/services.mjs';

const [step, ...args] = process.argv.slice(2);

const steps = {
  'start-services': async (counts, extraEnv = '{}') => {
    await ensureServiceNode();
    await startServices(JSON.parse(counts), JSON.parse(extraEnv));
  },
  'stop-services': () => stopServices(),
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
