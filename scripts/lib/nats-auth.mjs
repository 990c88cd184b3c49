// Credentials and subject permissions on the bus (docs/security.md, "Service → service over
// NATS"). up makes, in .paas/secrets/nats/ (0700, files 0600):
//   <service>.nk     an NKey user seed per service, handed to it as NATS_NKEY_FILE
//   admin.nk         the operator's key: every subject (tests, benchmarks, the nats CLI)
//   route-password   what the servers of a NATS cluster authenticate their routes with
//   <server>.conf    each NATS server's configuration: where it listens (loopback only), its
//                    store, its routes, and every key with what it may publish and subscribe to
// The permissions come from the role table (libs/contracts/src/bus-roles.ts) through
// libs/platform/src/bus-permissions.ts, for this copy's bus prefix: up builds the workspace
// before it starts NATS. Keys are made once and kept; configurations are rewritten when they
// change, and a running server of ours then reloads (SIGHUP) or, started before it had one,
// restarts. Nothing here is ever printed: the seeds and the route password stay in their files.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { NATS_SECRETS, REPO, natsEntries, natsKeyFile, natsUrls } from './config.mjs';
import { Failure, ok, step, warn } from './log.mjs';
import { ownedPid, processArgv, stop } from './proc.mjs';

const require = createRequire(import.meta.url);
const fromRepo = (file) => require(path.join(REPO, file));

/** Writes `text` to `file` (mode 0600) unless it holds exactly that already; answers whether it wrote. */
function writeSecret(file, text) {
  if (fs.existsSync(file) && fs.readFileSync(file, 'utf8') === text) return false;
  fs.writeFileSync(file, text, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  return true;
}

/** The public key of `name`'s seed, making the seed when there is none. */
function ensureKey(name) {
  const { nkeys } = fromRepo('node_modules/nats');
  const file = natsKeyFile(name);
  if (!fs.existsSync(file)) writeSecret(file, `${new TextDecoder().decode(nkeys.createUser().getSeed())}\n`);
  return nkeys.fromSeed(new TextEncoder().encode(fs.readFileSync(file, 'utf8').trim())).getPublicKey();
}

function routePassword() {
  const file = path.join(NATS_SECRETS, 'route-password');
  if (!fs.existsSync(file)) writeSecret(file, `${randomBytes(24).toString('base64url')}\n`);
  return fs.readFileSync(file, 'utf8').trim();
}

/** Every user of the bus: the operator, then each service with its permissions on this copy's bus. */
function users() {
  const { SERVICES, BUS_ADMIN } = fromRepo('libs/contracts/dist/bus-roles.js');
  const { busPermissions } = fromRepo('libs/platform/dist/bus-permissions.js');
  const { loadConfig } = fromRepo('libs/platform/dist/config.js');
  const prefix = loadConfig().busPrefix;
  return [
    { nkey: ensureKey(BUS_ADMIN) },
    ...SERVICES.map((service) => {
      const { publish, publishDeny, subscribe, allowResponses } = busPermissions(service, prefix);
      return {
        nkey: ensureKey(service),
        permissions: { publish: { allow: publish, ...(publishDeny.length ? { deny: publishDeny } : {}) }, subscribe: { allow: subscribe }, allow_responses: allowResponses },
      };
    }),
  ];
}

/** One server's configuration (JSON, which nats-server reads as its own format). */
function serverConfig(settings, accounts, password) {
  const { cluster } = settings;
  return {
    ...(settings.serverName ? { server_name: settings.serverName } : {}),
    listen: `127.0.0.1:${settings.port}`,
    http: `127.0.0.1:${settings.monitorPort}`,
    jetstream: { store_dir: settings.storeDir },
    authorization: { users: accounts },
    ...(cluster ? {
      cluster: {
        name: cluster.name,
        listen: `127.0.0.1:${cluster.port}`,
        authorization: { user: 'route', password },
        routes: cluster.routes.map((port) => `nats-route://route:${password}@127.0.0.1:${port}`),
      },
    } : {}),
  };
}

/**
 * Keys and configurations for `count` NATS servers. A server of ours that runs without its
 * configuration (started by an up before credentials) is stopped, for ensureRunning to start
 * again; one whose configuration changed reloads it. Call before the servers are started.
 */
export async function ensureNatsAuth(count) {
  fs.mkdirSync(NATS_SECRETS, { recursive: true, mode: 0o700 });
  fs.chmodSync(NATS_SECRETS, 0o700);
  const accounts = users();
  const password = count > 1 ? routePassword() : undefined;
  for (const entry of natsEntries(count)) {
    const header = '# Made by npm run up (scripts/lib/nats-auth.mjs) and rewritten by it: change the role table, not this file.\n';
    const changed = writeSecret(entry.configFile, `${header}${JSON.stringify(serverConfig(entry.nats, accounts, password), null, 2)}\n`);
    const pid = ownedPid(entry);
    if (!pid) continue;
    if (!processArgv(pid).includes(entry.configFile)) {
      step(`${entry.name} runs without credentials or subject permissions: restarting it with ${path.relative(REPO, entry.configFile)}`);
      await stop(entry);
    } else if (changed) {
      process.kill(pid, 'SIGHUP');
      ok(`${entry.name}: its configuration changed, reloaded`);
    }
  }
}

/**
 * The key this copy's tools connect with: NATS_NKEY_FILE when given (a copy on another
 * platform's NATS), else the operator's.
 */
export const toolKeyFile = () => process.env.NATS_NKEY_FILE || natsKeyFile('admin');

/**
 * Checks that the NATS the services will use takes this copy's keys. A server that refuses
 * them is not ours (found answering, started elsewhere): a clear failure. One that asks for
 * no credentials enforces no permissions: said.
 */
export async function checkNatsCredentials(count) {
  const { connect, nkeyAuthenticator } = fromRepo('node_modules/nats');
  const servers = process.env.NATS_URL ? process.env.NATS_URL.split(',') : natsUrls(count);
  const seed = new TextEncoder().encode(fs.readFileSync(toolKeyFile(), 'utf8').trim());
  let nats;
  try {
    nats = await connect({ servers, authenticator: nkeyAuthenticator(seed), reconnect: false, timeout: 5_000 });
  } catch (error) {
    if (error.code !== 'AUTHORIZATION_VIOLATION') throw new Failure(`NATS at ${servers.join(', ')} does not answer: ${error.message}`);
    throw new Failure(`NATS at ${servers.join(', ')} refuses this platform's keys: it was not started by this up (no pid file in ${path.dirname(path.dirname(NATS_SECRETS))}/run). `
      + 'Give this copy a NATS of its own (NATS_PORT, NATS_CLUSTER_PORT, NATS_MONITOR_PORT), or the key of the platform that runs it (NATS_NKEY_FILE=<its .paas/secrets/nats/admin.nk>)');
  }
  try {
    if (!nats.info?.auth_required) warn(`NATS at ${servers.join(', ')} asks for no credentials: it was started elsewhere, and the services' subject permissions are not enforced there`);
    else ok(`NATS asks every connection for credentials (keys in ${path.relative(REPO, NATS_SECRETS)})`);
  } finally {
    await nats.close();
  }
}
