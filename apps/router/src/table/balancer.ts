import type { BalanceAlgorithm } from '@paas/contracts/routes';
import { createHash } from 'node:crypto';

/** How long an endpoint that refused a connection is left out (passive health). */
export const EJECT_MS = 10_000;

/**
 * One endpoint as every table sees it: the same object across table swaps, so requests in
 * flight (leastconn) and an ejection (passive health) outlive a route or endpoints change.
 */
export class Endpoint {
  /** Requests this router has in flight to it. */
  active = 0;
  /** Until when it is left out after refusing a connection (ms since epoch). */
  ejectedUntil = 0;
  /** `http://ip:port`, the key of its connection pool. */
  readonly origin: string;
  /** `ip:port`, as logs and metrics name it. */
  readonly address: string;
  /** What the sticky cookie holds: stable for the address, reveals nothing of it. */
  readonly cookieId: string;

  constructor(
    readonly ip: string,
    readonly port: number,
  ) {
    const host = ip.includes(':') ? `[${ip}]` : ip;
    this.address = `${host}:${port}`;
    this.origin = `http://${this.address}`;
    this.cookieId = createHash('sha256').update(this.address).digest('hex').slice(0, 16);
  }

  healthy(now: number): boolean {
    return this.ejectedUntil <= now;
  }

  eject(now: number): void {
    this.ejectedUntil = now + EJECT_MS;
  }
}

/** An endpoint's share of a route's traffic: its Service's weight. */
export interface WeightedEndpoint {
  endpoint: Endpoint;
  weight: number;
}

/** The longest round-robin schedule built; weights are scaled down to fit it. */
const MAX_SCHEDULE = 1024;

/**
 * Picks an endpoint of one route by its strategy, weights respected, in O(1) but for
 * leastconn (a scan of the endpoints). The schedule is a smooth weighted round robin
 * laid out once when the table is built (nginx's algorithm: no bursts to one endpoint);
 * random and source index into it, so they follow the weights too. An unhealthy endpoint
 * is skipped while another is healthy. The round-robin cursor belongs to the route, not
 * to the table, so a table swap does not send the next requests to the first endpoint.
 */
export class Balancer {
  private readonly schedule: Endpoint[];
  /** Endpoints with a weight above 0, for leastconn and the sticky cookie. */
  readonly endpoints: readonly WeightedEndpoint[];

  constructor(
    readonly strategy: BalanceAlgorithm,
    weighted: readonly WeightedEndpoint[],
    private readonly cursor: { next: number },
  ) {
    this.endpoints = weighted.filter((w) => w.weight > 0);
    this.schedule = smoothSchedule(this.endpoints);
  }

  get size(): number {
    return this.endpoints.length;
  }

  /** The endpoint for the next request from `clientIp`, or undefined when there is none. */
  pick(clientIp: string, now: number): Endpoint | undefined {
    const schedule = this.schedule;
    const length = schedule.length;
    if (length === 0) return undefined;
    let index: number;
    switch (this.strategy) {
      case 'leastconn':
        return this.leastLoaded(now);
      case 'random':
        index = Math.floor(Math.random() * length);
        break;
      case 'source':
        index = hashOf(clientIp) % length;
        break;
      default:
        index = this.cursor.next++ % length;
        if (this.cursor.next >= length * 1024) this.cursor.next %= length;
    }
    for (let tried = 0; tried < length; tried++) {
      const endpoint = schedule[(index + tried) % length];
      if (endpoint.healthy(now)) return endpoint;
    }
    // Every endpoint was ejected lately: try the chosen one rather than fail without trying.
    return schedule[index % length];
  }

  /** Another healthy endpoint than those tried, for a retry; undefined when there is none. */
  alternative(tried: ReadonlySet<Endpoint>, now: number): Endpoint | undefined {
    let fallback: Endpoint | undefined;
    for (const { endpoint } of this.endpoints) {
      if (tried.has(endpoint)) continue;
      if (endpoint.healthy(now)) return endpoint;
      fallback ??= endpoint;
    }
    return fallback;
  }

  /** The endpoint a sticky cookie names, while it is still one of this route's and healthy. */
  byCookie(cookieId: string, now: number): Endpoint | undefined {
    for (const { endpoint } of this.endpoints) if (endpoint.cookieId === cookieId) return endpoint.healthy(now) ? endpoint : undefined;
    return undefined;
  }

  private leastLoaded(now: number): Endpoint | undefined {
    let best: WeightedEndpoint | undefined;
    for (const candidate of this.endpoints) {
      if (!candidate.endpoint.healthy(now)) continue;
      // Fewest requests in flight per unit of weight; ties go to the heavier endpoint.
      if (!best || candidate.endpoint.active * best.weight < best.endpoint.active * candidate.weight) best = candidate;
    }
    return (best ?? this.endpoints[0])?.endpoint;
  }
}

/** The smooth weighted round-robin order of one cycle, weights scaled so it stays short. */
export function smoothSchedule(weighted: readonly WeightedEndpoint[]): Endpoint[] {
  if (weighted.length === 0) return [];
  const divisor = weighted.map((w) => w.weight).reduce(gcd);
  let weights = weighted.map((w) => w.weight / divisor);
  const total = weights.reduce((sum, w) => sum + w, 0);
  if (total > MAX_SCHEDULE) weights = weights.map((w) => Math.max(1, Math.round((w * MAX_SCHEDULE) / total)));
  const sum = weights.reduce((s, w) => s + w, 0);
  const current = weights.map(() => 0);
  const schedule: Endpoint[] = [];
  for (let step = 0; step < sum; step++) {
    let best = 0;
    for (let i = 0; i < weights.length; i++) {
      current[i] += weights[i];
      if (current[i] > current[best]) best = i;
    }
    current[best] -= sum;
    schedule.push(weighted[best].endpoint);
  }
  return schedule;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/** FNV-1a of a string: a cheap, stable spread of client addresses. */
function hashOf(value: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < value.length; i++) {
    hash ^= value.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
