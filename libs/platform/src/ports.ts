import net from 'node:net';

/**
 * Where a replica of a service listens (docs/architecture.md, "Replicas and ports"). Every
 * port is a base (8000, 5001, ...) moved by `PAAS_PORT_OFFSET`, so that a second copy of the
 * platform can run beside the first. A public port (gateway 8000, registry 5000, router 8080
 * and 8443) is the same for every replica: they share it through SO_REUSEPORT. An admin port
 * (`/healthz`, `/readyz`, later `/metrics`) is the replica's own: base + 100 × replica, so
 * that `npm run up` and a scraper can reach one replica. `scripts/lib/config.mjs` computes
 * the same ports for the replicas it starts.
 */
const REPLICA_PORT_STEP = 100;
/** The base ports (`PAAS_PORT_OFFSET` 0, replica 0); scripts/lib/config.mjs holds the same table. */
export const BASE_PORTS = {
  gateway: 8000,
  gatewayAdmin: 8001,
  registry: 5000,
  registryAdmin: 5001,
  build: 8010,
  deploy: 8020,
  routerHttp: 8080,
  routerTls: 8443,
  routerAdmin: 8090,
} as const;

/** Replicas per service (admin slots 0 to 9: with no offset every admin port stays below 9000). */
const MAX_REPLICAS = 10;

/** `PAAS_PORT_OFFSET` (0): added to every service port. */
export function portOffset(env: NodeJS.ProcessEnv = process.env): number {
  return wholeNumber(env, 'PAAS_PORT_OFFSET', 0, 65535) ?? 0;
}

/** `PAAS_REPLICA`: which replica this process is (`npm run up` says); undefined when started by hand or by compose. */
export function replicaIndex(env: NodeJS.ProcessEnv = process.env): number | undefined {
  return wholeNumber(env, 'PAAS_REPLICA', 0, MAX_REPLICAS - 1);
}

/** A port every replica shares: the variable `name` when set, else base + offset. */
export function sharedPort(base: number, name: string, env: NodeJS.ProcessEnv = process.env): number {
  return wholeNumber(env, name, 0, 65535) ?? checkedPort(base + portOffset(env));
}

/** A port a replica's admin listener may take, and the replica slot it stands for. */
export interface AdminPort {
  port: number;
  slot: number;
}

/**
 * The ports a replica's admin listener may take, in order: the first of the variables `names` that is set; the
 * replica's own slot when `PAAS_REPLICA` says which it is; else every slot, the first free
 * one to be taken (replicas started alike, as `docker compose --scale` does, sort themselves out).
 */
export function adminPortCandidates(base: number, names: string[], env: NodeJS.ProcessEnv = process.env): AdminPort[] {
  const replica = replicaIndex(env);
  const explicit = names.find((name) => env[name] !== undefined && env[name] !== '');
  if (explicit) return [{ port: wholeNumber(env, explicit, 0, 65535) as number, slot: replica ?? 0 }];
  const first = base + portOffset(env);
  const slots = replica === undefined ? [...Array(MAX_REPLICAS).keys()] : [replica];
  return slots.map((slot) => ({ port: checkedPort(first + REPLICA_PORT_STEP * slot), slot }));
}

let currentSlot = 0;

/** The replica slot this process took (0 until its admin port listens); `/healthz` names it. */
export const replicaSlot = (): number => currentSlot;

/**
 * Calls `listen` with each candidate port until one is not taken, and records its slot. Any
 * other error, or every candidate taken, rejects (with the last EADDRINUSE).
 */
export async function listenOnFirstFree(candidates: AdminPort[], listen: (port: number) => Promise<unknown>): Promise<AdminPort> {
  let taken: Error | undefined;
  for (const candidate of candidates) {
    try {
      await listen(candidate.port);
      currentSlot = candidate.slot;
      return candidate;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
      taken = error as Error;
    }
  }
  throw taken ?? new Error('no admin port to listen on');
}

/**
 * `PAAS_EXTRA_LISTEN`: more addresses (comma-separated IPs) the public port is served on,
 * e.g. the host end of a node's veth so that its Docker engine reaches the registry. A
 * wildcard address is refused: the platform never listens on every interface.
 */
export function extraListenAddresses(env: NodeJS.ProcessEnv = process.env): string[] {
  const addresses = (env.PAAS_EXTRA_LISTEN ?? '').split(',').map((value) => value.trim()).filter(Boolean);
  for (const address of addresses) {
    if (net.isIP(address) === 0) throw new Error(`PAAS_EXTRA_LISTEN: ${address} is not an IP address`);
    if (address === '0.0.0.0' || /^[:0]+$/.test(address)) throw new Error(`PAAS_EXTRA_LISTEN: ${address} would listen on every interface`);
  }
  return addresses;
}

/**
 * Listen options that share the port with the other replicas. `reusePort` is honoured from
 * Node 22.12 on (SO_REUSEPORT: the kernel spreads new connections over the replicas' sockets);
 * Node 20, which runs the tests, ignores it. @types/node 20 does not know the option yet.
 */
export function sharedListenOptions(port: number, host: string): { port: number; host: string; reusePort: boolean } {
  return { port, host, reusePort: true };
}

function wholeNumber(env: NodeJS.ProcessEnv, name: string, min: number, max: number): number | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < min || number > max) throw new Error(`${name} must be a whole number from ${min} to ${max}, not ${value}`);
  return number;
}

function checkedPort(port: number): number {
  if (port > 65535) throw new Error(`port ${port} is beyond 65535: PAAS_PORT_OFFSET is too large`);
  return port;
}
