// The one table of processes the platform runs, with the paths and environment they share.
// up.mjs starts the entries in order, down.mjs stops them in reverse, test.mjs reuses both.
// Ports default to docs/architecture.md; the infrastructure ports can be moved with
// environment variables (NATS_PORT, …) so that a second copy can run beside a first one.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const env = process.env;

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const PAAS_HOME = path.resolve(env.PAAS_HOME || path.join(REPO, '.paas'));
export const dirs = {
  bin: path.join(PAAS_HOME, 'bin'),
  data: path.join(PAAS_HOME, 'data'),
  logs: path.join(PAAS_HOME, 'logs'),
  run: path.join(PAAS_HOME, 'run'),
};

export const FERRETDB_VERSION = 'v1.24.2';
export const ZIPKIN_VERSION = '3.4.2';
export const artifacts = {
  ferretdb: path.join(dirs.bin, 'ferretdb'),
  zipkinJar: path.join(dirs.bin, `zipkin-server-${ZIPKIN_VERSION}-exec.jar`),
};

const port = (name, fallback) => Number(env[name] || fallback);
export const ports = {
  nats: port('NATS_PORT', 4222),
  natsMonitor: port('NATS_MONITOR_PORT', 8222),
  mongo: port('MONGO_PORT', 27017),
  ferretdbDebug: port('FERRETDB_DEBUG_PORT', 8088),
  zipkin: port('ZIPKIN_PORT', 9411),
  gateway: 8000,
  router: 8080,
};

/** A real MongoDB elsewhere replaces FerretDB when MONGO_URL is given. */
export const externalMongo = Boolean(env.MONGO_URL);

/** What every service reads (docs/architecture.md); values already in the environment win. */
export const serviceEnv = {
  MONGO_URL: env.MONGO_URL || `mongodb://127.0.0.1:${ports.mongo}`,
  NATS_URL: env.NATS_URL || `nats://127.0.0.1:${ports.nats}`,
  ZIPKIN_URL: env.ZIPKIN_URL ?? `http://127.0.0.1:${ports.zipkin}/api/v2/spans`,
  PAAS_HOME,
  REGISTRY_HOST: env.REGISTRY_HOST || '127.0.0.1:5000',
  ROUTER_DOMAIN: env.ROUTER_DOMAIN || 'apps.localhost',
  LOG_LEVEL: env.LOG_LEVEL || 'info',
};

/**
 * Infrastructure, in start order. Each entry: name; command (argv); program (the argv
 * element that identifies the process in /proc, so a recycled pid is never signalled);
 * health ({tcp: port} | {http: url} | {command: argv}); dirs to create; enabled (false:
 * up skips it, down still stops it if its pid file exists).
 */
export const infrastructure = [
  {
    name: 'dockerd',
    command: ['dockerd'],
    program: 'dockerd',
    health: { command: ['docker', 'info'] },
    startTimeoutMs: 60_000,
    stopTimeoutMs: 30_000, // it stops its containers first
  },
  {
    name: 'nats',
    command: ['nats-server', '-a', '127.0.0.1', '-p', `${ports.nats}`, '-js',
      '-sd', path.join(dirs.data, 'nats'), '-m', `${ports.natsMonitor}`],
    program: 'nats-server',
    health: { tcp: ports.nats },
    dirs: [path.join(dirs.data, 'nats')],
  },
  {
    name: 'ferretdb',
    enabled: !externalMongo,
    command: [artifacts.ferretdb, `--listen-addr=127.0.0.1:${ports.mongo}`,
      `--debug-addr=127.0.0.1:${ports.ferretdbDebug}`, '--handler=sqlite',
      `--sqlite-url=file:${path.join(dirs.data, 'ferretdb')}/`,
      `--state-dir=${path.join(dirs.data, 'ferretdb-state')}`, '--telemetry=disable'],
    program: artifacts.ferretdb,
    health: { tcp: ports.mongo },
    dirs: [path.join(dirs.data, 'ferretdb'), path.join(dirs.data, 'ferretdb-state')],
  },
  {
    name: 'zipkin',
    // Zipkin 3 serves through Armeria, which ignores --server.address: bind loopback here.
    command: ['java', '-jar', artifacts.zipkinJar, `--armeria.ports[0].port=${ports.zipkin}`,
      '--armeria.ports[0].ip=127.0.0.1', '--armeria.ports[0].protocols[0]=http'],
    program: artifacts.zipkinJar,
    health: { http: `http://127.0.0.1:${ports.zipkin}/health` },
    startTimeoutMs: 90_000,
  },
].map((entry) => ({ enabled: true, dirs: [], startTimeoutMs: 30_000, stopTimeoutMs: 10_000, ...entry }));

/** The five services, in start order (fewest dependencies first), with their readiness ports. */
const SERVICE_READY_PORTS = {
  'registry-service': 5000,
  'build-service': 8010,
  'deploy-service': 8020,
  router: 8090,
  'api-gateway': ports.gateway,
};

export const services = Object.entries(SERVICE_READY_PORTS).map(([name, readyPort]) => {
  const main = path.join(REPO, 'apps', name, 'dist', 'main.js');
  return {
    name,
    enabled: true,
    main,
    distDir: path.dirname(main),
    command: [process.execPath, main],
    program: main,
    env: serviceEnv,
    health: { http: `http://127.0.0.1:${readyPort}/readyz` },
    dirs: [],
    startTimeoutMs: 60_000,
    stopTimeoutMs: 10_000,
  };
});

/** Environment for nx and jest. */
export const toolEnv = { ...env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' };
export const bin = (tool) => path.join(REPO, 'node_modules', '.bin', tool);

/** A path as short as it can be shown: relative when inside the working directory. */
export function relative(file) {
  const short = path.relative(process.cwd(), file);
  return short === '' ? '.' : short.startsWith('..') ? file : short;
}
