// npm run up: installs what the platform needs and starts it, skipping every step whose
// result is already there, so a second run only checks. `--infra-only` stops after the
// infrastructure (Docker engine, NATS, FerretDB, Zipkin). `--replicas N` (or
// `service=N,…`) runs that many processes of each service, `--nodes N` that many Docker
// engines (the host's and N-1 in network namespaces), `--nats-cluster` three clustered NATS
// servers instead of one (`--nats-cluster 1` goes back); all are remembered (scripts/lib/scale.mjs).
import fs from 'node:fs';
import path from 'node:path';
import {
  REPO, bin, busEnv, dirs, externalMongo, infrastructure, ports, relative, serviceEnv, toolEnv,
} from './lib/config.mjs';
import { publishBuilders } from './lib/builders.mjs';
import { main, ok, produce, seconds, warn } from './lib/log.mjs';
import { checkNatsCluster, stopOtherNatsLayouts } from './lib/nats.mjs';
import { checkNatsCredentials, ensureNatsAuth } from './lib/nats-auth.mjs';
import { ensureNeighbourTable, ensureNodeEngines, ensureNodeNetworks, NODES_FILE, registerNodes, writeNodesFile } from './lib/nodes.mjs';
import { ensureHostPodGuard } from './lib/pod-guard.mjs';
import { isHealthy } from './lib/probe.mjs';
import { logFile, runLogged } from './lib/proc.mjs';
import {
  addGoToPath, ensureAptPackages, ensureFerretdb, ensureNodeModules, ensureServiceNode, ensureZipkin,
} from './lib/provision.mjs';
import { checkFlags, resolveScale } from './lib/scale.mjs';
import { startServices } from './lib/services.mjs';
import { ensureRunning } from './lib/start.mjs';

const BUILDERS_SCRIPT = path.join(REPO, 'apps', 'build-service', 'builders', 'build-all.sh');
const argv = process.argv.slice(2);
const infraOnly = argv.includes('--infra-only');

await main(async () => {
  checkFlags(argv);
  const scale = resolveScale(argv);
  const started = Date.now();
  addGoToPath();
  await ensureAptPackages();
  await ensureNodeModules();
  await ensureServiceNode();
  const infra = infrastructure(scale.nats).filter((entry) => entry.enabled);
  if (externalMongo) ok('MONGO_URL is set: using that MongoDB, not FerretDB');
  else if (!(await answering(infra, 'ferretdb'))) await ensureFerretdb();
  if (!(await answering(infra, 'zipkin'))) await ensureZipkin();
  // The NATS servers' configurations name what each service may do: the role table is built first.
  await buildWorkspace();
  await stopOtherNatsLayouts(scale.nats);
  await ensureNatsAuth(scale.nats);
  await ensureRunning(infra);
  await checkNatsCluster(scale.nats);
  await checkNatsCredentials(scale.nats);
  if (!infraOnly) {
    ensureHostPodGuard();
    ok('pods kept from the host and the nodes (iptables: PAAS-PODS, DOCKER-USER)');
    ensureNeighbourTable();
    await buildBuilderImages();
    // The registry listens on the host end of each node's veth: the networks come first.
    const nodes = await ensureNodeNetworks(scale.nodes);
    await ensureNodeEngines(nodes);
    await startServices(scale.replicas, {
      'registry-service': { PAAS_EXTRA_LISTEN: nodes.map((node) => node.hostIP).join(',') },
    }, busEnv(scale.nats));
    await publishBuilders(nodes);
    await registerNodes(writeNodesFile(nodes));
  }
  printSummary(scale, Date.now() - started);
});

/** Something (this platform's, or another copy's) already serves the entry's port: nothing to install for it. */
function answering(entries, name) {
  return isHealthy(entries.find((entry) => entry.name === name));
}

async function buildBuilderImages() {
  if (!fs.existsSync(BUILDERS_SCRIPT)) {
    return warn(`${relative(BUILDERS_SCRIPT)} does not exist yet: no S2I builder images built`);
  }
  await produce(`building the S2I builder images (log ${relative(logFile('builder-images'))})`,
    'builder images ready', () =>
      runLogged('builder-images', 'bash', [BUILDERS_SCRIPT], { cwd: REPO, env: { ...process.env, ...serviceEnv } }));
}

async function buildWorkspace() {
  await produce(`building the workspace: nx run-many -t build (log ${relative(logFile('nx-build'))})`,
    'workspace built', () =>
      runLogged('nx-build', bin('nx'), ['run-many', '-t', 'build'], { cwd: REPO, env: toolEnv }));
}

function printSummary(scale, ms) {
  ok(`platform up (${seconds(ms)})`);
  const replicas = Object.entries(scale.replicas).map(([name, count]) => `${name} ${count}`).join(', ');
  const lines = [
    ...(infraOnly ? [] : [
      ['API', `http://127.0.0.1:${ports.gateway}/api/v1`],
      ['login', `admin, password in ${relative(path.join(serviceEnv.PAAS_HOME, 'secrets/admin-password'))} (API, docker login ${serviceEnv.REGISTRY_HOST})`],
      ['routes', `http://<name>-<namespace>.${serviceEnv.ROUTER_DOMAIN}:${ports.router}`],
      ['replicas', replicas],
      ['nodes', `local${scale.nodes > 1 ? ` and ${scale.nodes - 1} more (${relative(NODES_FILE)})` : ''}`],
    ]),
    ['nats', busEnv(scale.nats).NATS_URL + (scale.nats > 1 ? ` (a cluster; event stream on ${busEnv(scale.nats).PAAS_STREAM_REPLICAS})` : '')],
    ['traces', `http://127.0.0.1:${ports.zipkin}/zipkin/`],
    ['logs', `${relative(dirs.logs)}/<process>.log`],
    ['stop', 'npm run down'],
  ];
  for (const [label, value] of lines) console.log(`  ${label.padEnd(8)} ${value}`);
}
