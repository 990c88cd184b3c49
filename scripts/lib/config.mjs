// The one table of processes the platform runs, with the paths and environment they share.
// up.mjs starts the entries in order, down.mjs stops them in reverse, test.mjs reuses both.
// Ports default to docs/architecture.md; the infrastructure ports can be moved with
// environment variables (NATS_PORT, NATS_CLUSTER_PORT, …) and every service port with
// PAAS_PORT_OFFSET, so that a second copy can run beside a first one.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fail } from './log.mjs';

const env = process.env;

/** A setting no script can work with: said once, before anything is started or stopped. */
function invalidSetting(message) {
  fail(message);
  process.exit(2);
}

function wholeNumber(name, fallback, min, max) {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > max) {
    invalidSetting(`${name} must be a whole number from ${min} to ${max}, not "${value}"`);
  }
  return number;
}

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const PAAS_HOME = path.resolve(env.PAAS_HOME || path.join(REPO, '.paas'));
export const dirs = {
  bin: path.join(PAAS_HOME, 'bin'),
  data: path.join(PAAS_HOME, 'data'),
  logs: path.join(PAAS_HOME, 'logs'),
  run: path.join(PAAS_HOME, 'run'),
};

export const FERRETDB_VERSION = 'v1.24.2';
// 3.4.2's Micrometer 1.13.4 could fail Zipkin's start with a ConcurrentModificationException
// (micrometer-metrics/micrometer#5489, seen here); 3.4.4 carries Micrometer 1.14.2.
export const ZIPKIN_VERSION = '3.4.4';
/** The services run on Node 22: it honours `reusePort`, which lets replicas share a port (docs/architecture.md). */
export const NODE_VERSION = '22.23.5';
export const artifacts = {
  ferretdb: path.join(dirs.bin, 'ferretdb'),
  zipkinJar: path.join(dirs.bin, `zipkin-server-${ZIPKIN_VERSION}-exec.jar`),
  node: path.join(dirs.bin, `node-v${NODE_VERSION}`),
};

/** Added to every service port (public and admin), as the services do themselves (libs/platform/src/ports.ts). */
// The largest offset keeps the highest port, the router's tenth admin port (8990), a port.
export const PORT_OFFSET = wholeNumber('PAAS_PORT_OFFSET', 0, 0, 65535 - 8990);
/** Replicas per service; each has an admin port of its own, base + 100 × replica. */
export const MAX_REPLICAS = 10;
const REPLICA_PORT_STEP = 100;

const port = (name, fallback) => wholeNumber(name, fallback, 1, 65535);
export const ports = {
  nats: port('NATS_PORT', 4222),
  natsMonitor: port('NATS_MONITOR_PORT', 8222),
  natsCluster: port('NATS_CLUSTER_PORT', 6222),
  mongo: port('MONGO_PORT', 27017),
  ferretdbDebug: port('FERRETDB_DEBUG_PORT', 8088),
  zipkin: port('ZIPKIN_PORT', 9411),
  gateway: 8000 + PORT_OFFSET,
  registry: 5000 + PORT_OFFSET,
  router: 8080 + PORT_OFFSET,
  routerTls: 8443 + PORT_OFFSET,
};

/** The network the extra Docker engines (nodes) take their addresses from: node i owns <PAAS_NODE_NET>.i.0/24 (scripts/lib/nodes.mjs). */
export const NODE_NET = env.PAAS_NODE_NET || '10.250';
if (!/^10\.(25[0-5]|2[0-4]\d|1?\d?\d)$/.test(NODE_NET)) {
  invalidSetting(`PAAS_NODE_NET must be the first two octets of a 10.x network (e.g. 10.250), not "${NODE_NET}"`);
}

/**
 * The bus's credentials (scripts/lib/nats-auth.mjs): an NKey seed per service and one for the
 * operator (`admin.nk`: tests, benchmarks, the nats CLI), and each NATS server's configuration,
 * which names the keys and what each may do. NATS_NKEY_FILE, when set, is the key every service
 * of this copy uses instead (a copy on another platform's NATS: that platform's admin.nk).
 */
export const NATS_SECRETS = path.join(PAAS_HOME, 'secrets', 'nats');
export const natsKeyFile = (name) => path.join(NATS_SECRETS, `${name}.nk`);

/**
 * The key a service of this copy connects with: its own, unless NATS_NKEY_FILE names another
 * platform's. This copy's own admin key never goes to a service: tests and benchmarks carry it
 * in their environment, and an `up` they run must not restart every service with it.
 */
function serviceKeyFile(service) {
  const shared = env.NATS_NKEY_FILE;
  return shared && path.resolve(shared) !== natsKeyFile('admin') ? shared : natsKeyFile(service);
}

/** A real MongoDB elsewhere replaces FerretDB when MONGO_URL is given. */
export const externalMongo = Boolean(env.MONGO_URL);

/**
 * NATS servers `up` can run: 1 (the single server, the default) or a cluster of 3 on loopback
 * (`up --nats-cluster`, scripts/lib/scale.mjs). Other sizes are refused: a JetStream cluster
 * remembers its peers, so growing or shrinking one needs peers removed by hand.
 */
export const NATS_LAYOUTS = [1, 3];
export const NATS_CLUSTER_NAME = 'paas';

/**
 * Server i (1 … count) of a NATS cluster: client port NATS_PORT + i - 1 (4222, 4223, 4224),
 * route port NATS_CLUSTER_PORT + i - 1 (6222 …), monitor NATS_MONITOR_PORT + i - 1 (8222 …),
 * JetStream store .paas/data/nats-<i>, server_name nats-<i>.
 */
export function natsClusterNode(i) {
  return {
    name: `nats-${i}`,
    port: ports.nats + i - 1,
    clusterPort: ports.natsCluster + i - 1,
    monitorPort: ports.natsMonitor + i - 1,
    dataDir: path.join(dirs.data, `nats-${i}`),
  };
}

/** The addresses of `count` NATS servers as the services take them (NATS_URL, comma-separated). */
export const natsUrls = (count) => (count === 1 ? [`nats://127.0.0.1:${ports.nats}`]
  : Array.from({ length: count }, (_, i) => `nats://127.0.0.1:${natsClusterNode(i + 1).port}`));

/**
 * What the services are told about the bus for `count` NATS servers: every server, and in a
 * cluster the event stream kept on three of them (at most as many as there are). Values already
 * in the environment win; one server sets no replica count (the service keeps what exists).
 */
export function busEnv(count) {
  return {
    NATS_URL: env.NATS_URL || natsUrls(count).join(','),
    ...(env.PAAS_STREAM_REPLICAS || count > 1 ? { PAAS_STREAM_REPLICAS: env.PAAS_STREAM_REPLICAS || String(Math.min(count, 3)) } : {}),
  };
}

/** What every service reads (docs/architecture.md); values already in the environment win. */
export const serviceEnv = {
  MONGO_URL: env.MONGO_URL || `mongodb://127.0.0.1:${ports.mongo}`,
  NATS_URL: env.NATS_URL || `nats://127.0.0.1:${ports.nats}`,
  ZIPKIN_URL: env.ZIPKIN_URL ?? `http://127.0.0.1:${ports.zipkin}/api/v2/spans`,
  PAAS_HOME,
  REGISTRY_HOST: env.REGISTRY_HOST || `127.0.0.1:${ports.registry}`,
  PAAS_PORT_OFFSET: String(PORT_OFFSET),
  ROUTER_DOMAIN: env.ROUTER_DOMAIN || 'apps.localhost',
  LOG_LEVEL: env.LOG_LEVEL || 'info',
  // `npm run up` is a development machine: a BuildConfig may name a repository on its disk
  // (the build-service refuses them unless told so: BUILD_LOCAL_SOURCES=deny to try it).
  BUILD_LOCAL_SOURCES: env.BUILD_LOCAL_SOURCES || 'allow',
};

// The infrastructure's processes. Each entry: name; command (argv); program (the argv element
// that identifies the process in /proc, so a recycled pid is never signalled); health
// ({tcp: port} | {http: url} | {command: argv}); dirs to create; enabled (false: up skips it,
// down still stops it if its pid file exists).
const withDefaults = (entry) => ({ enabled: true, dirs: [], startTimeoutMs: 30_000, stopTimeoutMs: 10_000, ...entry });

const dockerd = {
  name: 'dockerd',
  command: ['dockerd'],
  program: 'dockerd',
  health: { command: ['docker', 'info'] },
  startTimeoutMs: 60_000,
  stopTimeoutMs: 30_000, // it stops its containers first
};

/**
 * A NATS server runs from a configuration file up writes (scripts/lib/nats-auth.mjs) from the
 * entry's `nats` settings, the keys and their permissions: `nats-server -c <file>`.
 */
const natsServer = (name, settings, health) => ({
  name,
  command: ['nats-server', '-c', path.join(NATS_SECRETS, `${name}.conf`)],
  configFile: path.join(NATS_SECRETS, `${name}.conf`),
  program: 'nats-server',
  health,
  dirs: [settings.storeDir],
  nats: settings,
});

/** The single NATS server: the default layout. */
const singleNats = natsServer('nats', { port: ports.nats, monitorPort: ports.natsMonitor, storeDir: path.join(dirs.data, 'nats') }, { tcp: ports.nats });

/**
 * Server i of a cluster of `count`, routed to the others (the routes authenticate with a
 * password of the cluster's own). Ready once its monitor's /healthz says so: JetStream has
 * found its meta leader, so the services can set their stream up.
 */
function clusterNats(i, count) {
  const node = natsClusterNode(i);
  const routes = Array.from({ length: count }, (_, j) => natsClusterNode(j + 1)).filter((other) => other.name !== node.name).map((other) => other.clusterPort);
  return natsServer(node.name, {
    port: node.port, monitorPort: node.monitorPort, storeDir: node.dataDir,
    serverName: node.name, cluster: { name: NATS_CLUSTER_NAME, port: node.clusterPort, routes },
  }, { http: `http://127.0.0.1:${node.monitorPort}/healthz` });
}

/** The NATS entries for `count` servers: `nats` alone, or `nats-1` … `nats-<count>`. */
export const natsEntries = (count) => (count === 1 ? [singleNats]
  : Array.from({ length: count }, (_, i) => clusterNats(i + 1, count))).map(withDefaults);

const ferretdb = {
  name: 'ferretdb',
  enabled: !externalMongo,
  command: [artifacts.ferretdb, `--listen-addr=127.0.0.1:${ports.mongo}`,
    `--debug-addr=127.0.0.1:${ports.ferretdbDebug}`, '--handler=sqlite',
    `--sqlite-url=file:${path.join(dirs.data, 'ferretdb')}/`,
    `--state-dir=${path.join(dirs.data, 'ferretdb-state')}`, '--telemetry=disable'],
  program: artifacts.ferretdb,
  health: { tcp: ports.mongo },
  dirs: [path.join(dirs.data, 'ferretdb'), path.join(dirs.data, 'ferretdb-state')],
};

const zipkin = {
  name: 'zipkin',
  // Zipkin 3 serves through Armeria, which ignores --server.address: bind loopback here.
  command: ['java', '-jar', artifacts.zipkinJar, `--armeria.ports[0].port=${ports.zipkin}`,
    '--armeria.ports[0].ip=127.0.0.1', '--armeria.ports[0].protocols[0]=http'],
  program: artifacts.zipkinJar,
  health: { http: `http://127.0.0.1:${ports.zipkin}/health` },
  startTimeoutMs: 90_000,
};

/** Infrastructure, in start order, with `natsCount` NATS servers. */
export function infrastructure(natsCount = 1) {
  return [dockerd, ...natsEntries(natsCount), ferretdb, zipkin].map(withDefaults);
}

/** Every entry up may have started, whatever its NATS layout: down stops those with a pid file. */
export const everyInfrastructure = [dockerd, ...NATS_LAYOUTS.flatMap(natsEntries), ferretdb, zipkin].map(withDefaults);

/**
 * The five services, in start order (fewest dependencies first), with the base of each
 * replica's admin port (`/readyz` there is what up waits for). The gateway, the registry and
 * the router also have public ports that all their replicas share (`ports` above).
 */
const SERVICE_ADMIN_PORTS = {
  'registry-service': 5001,
  'build-service': 8010,
  'deploy-service': 8020,
  router: 8090,
  'api-gateway': 8001,
};

export const services = Object.keys(SERVICE_ADMIN_PORTS).map((name) => {
  const main = path.join(REPO, 'apps', name, 'dist', 'main.js');
  return { name, main, distDir: path.dirname(main) };
});

/** The admin port of a service's replica `index`. */
export const adminPort = (service, index) => SERVICE_ADMIN_PORTS[service] + PORT_OFFSET + REPLICA_PORT_STEP * index;

/**
 * Replica `index` of a service as an entry of the process table: pid file
 * `.paas/run/<service>-<index>.pid`, log `.paas/logs/<service>-<index>.log`, told which
 * replica it is (`PAAS_REPLICA`); `extraEnv` adds to what every service reads.
 */
export function serviceReplica(service, index, extraEnv = {}) {
  return {
    name: `${service.name}-${index}`,
    service: service.name,
    index,
    main: service.main,
    distDir: service.distDir,
    command: [artifacts.node, service.main],
    program: service.main,
    env: { ...serviceEnv, NATS_NKEY_FILE: serviceKeyFile(service.name), ...extraEnv, PAAS_REPLICA: String(index) },
    health: { http: `http://127.0.0.1:${adminPort(service.name, index)}/readyz` },
    dirs: [],
    startTimeoutMs: 60_000,
    stopTimeoutMs: 10_000,
  };
}

/** Environment for nx and jest. */
export const toolEnv = { ...env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' };
export const bin = (tool) => path.join(REPO, 'node_modules', '.bin', tool);

/** A path as short as it can be shown: relative when inside the working directory. */
export function relative(file) {
  const short = path.relative(process.cwd(), file);
  return short === '' ? '.' : short.startsWith('..') ? file : short;
}
