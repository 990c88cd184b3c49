// How many of each the platform runs: replicas per service, Docker engines (nodes) and NATS
// servers. Asked with `up --replicas …`/`--nodes …`/`--nats-cluster [1|3]` or
// PAAS_REPLICAS/PAAS_NODES/PAAS_NATS_CLUSTER (a flag wins), and remembered in
// .paas/scale.json, so that a later plain `npm run up` (npm test runs one) keeps the platform
// as it was scaled instead of shrinking it back to one of each.
import fs from 'node:fs';
import path from 'node:path';
import { MAX_REPLICAS, NATS_LAYOUTS, PAAS_HOME, services } from './config.mjs';
import { Failure } from './log.mjs';

const MAX_NODES = 20;
const SCALE_FILE = path.join(PAAS_HOME, 'scale.json');
/** Each flag up takes, and whether it takes a value: always, never, or optionally (`--nats-cluster` alone is 3). */
const FLAGS = { '--infra-only': 'never', '--replicas': 'always', '--nodes': 'always', '--nats-cluster': 'optional' };
const NATS_CLUSTER_DEFAULT = '3';
const serviceNames = services.map((service) => service.name);

/** Whether argv[i + 1] is the value of the flag at i (not the next flag). */
const valueFollows = (argv, i) => i + 1 < argv.length && !argv[i + 1].startsWith('--');

/** The value of `--name value` or `--name=value` in argv (`fallback` for an optional one given bare), else undefined. */
function flagValue(argv, name, fallback) {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === name) {
      if (valueFollows(argv, i)) return argv[i + 1];
      if (fallback === undefined) throw new Failure(`${name} needs a value`);
      return fallback;
    }
    if (argv[i].startsWith(`${name}=`)) return argv[i].slice(name.length + 1);
  }
  return undefined;
}

/** Refuses flags up does not know, so that a typo (`--replica 2`) is not silently ignored. */
export function checkFlags(argv) {
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i].split('=')[0];
    const takes = FLAGS[flag];
    if (!takes) throw new Failure(`unknown argument ${argv[i]}; up takes ${Object.keys(FLAGS).join(', ')}`);
    if (takes === 'never' && argv[i].includes('=')) throw new Failure(`${flag} takes no value`);
    if (!argv[i].includes('=') && (takes === 'always' || (takes === 'optional' && valueFollows(argv, i)))) i++;
  }
}

/** NATS servers: 1 (one server) or a cluster of 3 (NATS_LAYOUTS). */
function natsCount(value, what) {
  const number = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!NATS_LAYOUTS.includes(number)) {
    throw new Failure(`${what} must be 1 (one NATS server) or 3 (a cluster), not "${value}": ` +
      'a JetStream cluster remembers its servers, so up does not grow or shrink one');
  }
  return number;
}

function count(value, what, max) {
  const number = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(number >= 1 && number <= max)) throw new Failure(`${what} must be a whole number from 1 to ${max}, not "${value}"`);
  return number;
}

/**
 * Replica counts from `N`, `service=N,…` or both (`2,router=3`: every service 2, the
 * router 3); services not named run one.
 */
export function parseReplicas(spec, source) {
  if (spec.trim() === '') throw new Failure(`${source} is empty: give a count (2) or counts per service (api-gateway=2,router=3)`);
  const counts = Object.fromEntries(serviceNames.map((name) => [name, 1]));
  const named = {};
  for (const part of spec.split(',').map((item) => item.trim()).filter(Boolean)) {
    const [name, value] = part.includes('=') ? part.split('=', 2) : [undefined, part];
    if (name === undefined) {
      for (const service of serviceNames) counts[service] = count(value, source, MAX_REPLICAS);
    } else if (!serviceNames.includes(name)) {
      throw new Failure(`${source}: no service "${name}"; the services are ${serviceNames.join(', ')}`);
    } else {
      named[name] = count(value, `${source} for ${name}`, MAX_REPLICAS);
    }
  }
  return { ...counts, ...named };
}

function loadSaved() {
  try {
    return JSON.parse(fs.readFileSync(SCALE_FILE, 'utf8'));
  } catch {
    return {};
  }
}

/**
 * What this `up` runs: `{replicas: {service: n}, nodes: n, nats: n}`. Each part comes from its
 * flag, else its variable, else the last up's choice, else one of each; the result is saved.
 */
export function resolveScale(argv, env = process.env) {
  const saved = loadSaved();
  const replicasSpec = flagValue(argv, '--replicas');
  const nodesSpec = flagValue(argv, '--nodes');
  const natsSpec = flagValue(argv, '--nats-cluster', NATS_CLUSTER_DEFAULT);
  const replicas = replicasSpec !== undefined ? parseReplicas(replicasSpec, '--replicas')
    : env.PAAS_REPLICAS ? parseReplicas(env.PAAS_REPLICAS, 'PAAS_REPLICAS')
      : { ...parseReplicas('1', 'default'), ...validSaved(saved.replicas) };
  const asked = nodesSpec !== undefined ? count(nodesSpec, '--nodes', MAX_NODES)
    : env.PAAS_NODES ? count(env.PAAS_NODES, 'PAAS_NODES', MAX_NODES)
      : Number.isInteger(saved.nodes) && saved.nodes >= 1 && saved.nodes <= MAX_NODES ? saved.nodes : 1;
  // npm test needs two nodes (pods spread over them, a node's loss); it never shrinks a larger platform.
  const nodes = Math.max(asked, env.PAAS_MIN_NODES ? count(env.PAAS_MIN_NODES, 'PAAS_MIN_NODES', MAX_NODES) : 1);
  const nats = natsSpec !== undefined ? natsCount(natsSpec, '--nats-cluster')
    : env.PAAS_NATS_CLUSTER ? natsCount(env.PAAS_NATS_CLUSTER, 'PAAS_NATS_CLUSTER')
      : NATS_LAYOUTS.includes(saved.nats) ? saved.nats : 1;
  fs.mkdirSync(PAAS_HOME, { recursive: true });
  fs.writeFileSync(SCALE_FILE, `${JSON.stringify({ replicas, nodes, nats }, null, 2)}\n`);
  return { replicas, nodes, nats };
}

/** The saved counts of services that still exist, each within bounds. */
function validSaved(replicas = {}) {
  return Object.fromEntries(Object.entries(replicas)
    .filter(([name, n]) => serviceNames.includes(name) && Number.isInteger(n) && n >= 1 && n <= MAX_REPLICAS));
}
