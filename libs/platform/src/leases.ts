import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { Schema, type Model } from 'mongoose';

/**
 * One term of a lease, or a holder's heartbeat. A lease is held by the holder of its newest
 * term; taking it over means inserting the next term, and `_id` = `<name>#<term>` makes that
 * insert the only atomic step (FerretDB 1.24 applies no conditional update atomically, see
 * resource-repository.ts). Only the holder writes its own terms (release) and its heartbeat
 * (`_id` = `holder:<identity>`, `heartbeat: true`), so those writes never race.
 */
export interface LeaseTerm {
  _id: string;
  name: string;
  term: number;
  holder: string;
  /** Counted up by every renewal of a heartbeat: others see the holder, and every term it holds, alive while it moves. */
  renewals: number;
  released?: boolean;
  heartbeat?: boolean;
}

export const LEASES_COLLECTION = 'leases';

export function leaseTermSchema(): Schema<LeaseTerm> {
  const schema = new Schema<LeaseTerm>(
    {
      _id: { type: String, required: true },
      name: { type: String, required: true },
      term: { type: Number, required: true },
      holder: { type: String, required: true },
      renewals: { type: Number, required: true },
      released: { type: Boolean, default: undefined },
      heartbeat: { type: Boolean, default: undefined },
    },
    { collection: LEASES_COLLECTION, versionKey: false },
  );
  schema.index({ name: 1, term: -1 });
  return schema;
}

export interface LeaseTiming {
  /** How often every lease held is renewed and every other one looked at. */
  renewMs: number;
  /** A lease whose holder has not renewed it for this long (as the observer's own clock counts) may be taken over. */
  leaseMs: number;
}

export const DEFAULT_LEASE_TIMING: LeaseTiming = { renewMs: 2_000, leaseMs: 8_000 };

/** `<host>/<pid>/<random>`: unique per process start. */
export function processIdentity(): string {
  return `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;
}

/** What one replica has seen of a lease (its newest term) or of a heartbeat, and when it last saw that change. */
interface Observation {
  term: LeaseTerm;
  changedAt: number;
}

export type LeaseState = 'mine' | 'held' | 'free';

/** A heartbeat nobody has seen move for this many lease times is removed (its holder is long gone). */
const HEARTBEAT_RETENTION_LEASES = 10;
const DUPLICATE_KEY = 11000;

const now = () => performance.now();

/**
 * Leases with expiry and renewal in the service's own database, after Kubernetes' leader
 * election and Consul's sessions: a holder renews all its leases at once every `renewMs` by
 * counting up its heartbeat (one write by `_id`, whatever it holds: an update of many
 * documents costs FerretDB ten times as much); a lease is expired when an observer has seen
 * neither its term nor its holder's heartbeat change for `leaseMs` on its own monotonic clock
 * (so clocks of different hosts need not agree), and then anyone may take it over with the
 * next term.
 * A holder trusts a lease only until `leaseMs - margin` after the start of its last renewal,
 * and a renewal that starts after that does not bring it back: the lease must be taken again,
 * with a new term. So two holders never both trust one lease while the database answers
 * writes within the margin.
 */
export class Leases {
  private readonly logger = new Logger(Leases.name);
  private readonly seen = new Map<string, Observation>();
  /** Every holder's heartbeat, by identity. */
  private readonly heartbeats = new Map<string, Observation>();
  /** Names held, with the monotonic time until which they may be trusted. */
  private readonly held = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private readonly margin: number;
  private readonly tickListeners = new Set<() => Promise<void> | void>();

  constructor(
    private readonly model: Model<LeaseTerm>,
    readonly identity: string,
    readonly timing: LeaseTiming = DEFAULT_LEASE_TIMING,
  ) {
    this.margin = timing.leaseMs / 4;
  }

  private get heartbeatId(): string {
    return `holder:${this.identity}`;
  }

  /** Starts renewing and observing, once right away. */
  async start(): Promise<void> {
    await this.tick();
    this.timer = setInterval(() => void this.tick(), this.timing.renewMs);
    this.timer.unref();
  }

  /** Stops renewing; what was held is released (others may take it at once) unless the database is gone. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.ticking;
    const names = [...this.held.keys()];
    this.held.clear();
    await this.model.updateMany({ holder: this.identity }, { $set: { released: true } }).exec().catch(() => undefined);
    await this.model.deleteOne({ _id: this.heartbeatId }).exec().catch(() => undefined);
    if (names.length) this.logger.log({ msg: `released ${names.length} lease(s)` });
  }

  /** Called after every tick (renewal and observation), e.g. to rebalance shards. */
  onTick(listener: () => Promise<void> | void): void {
    this.tickListeners.add(listener);
  }

  /** Whether this process holds `name` and may trust it now. */
  holds(name: string): boolean {
    return (this.held.get(name) ?? 0) > now();
  }

  /** What the last observation says of `name`: `mine`, `held` by a live holder, or `free` (never taken, released or expired). */
  stateOf(name: string): LeaseState {
    if (this.holds(name)) return 'mine';
    const observation = this.seen.get(name);
    if (!observation || observation.term.released) return 'free';
    if (observation.term.holder === this.identity) return 'free';
    const heartbeat = this.heartbeats.get(observation.term.holder)?.changedAt ?? 0;
    return now() - Math.max(observation.changedAt, heartbeat) >= this.timing.leaseMs ? 'free' : 'held';
  }

  /** The names observed with a prefix (`shard:`), and the holder of each as last seen. */
  observed(prefix: string): { name: string; holder: string; state: LeaseState }[] {
    return [...this.seen.values()]
      .filter((observation) => observation.term.name.startsWith(prefix))
      .map(({ term }) => ({ name: term.name, holder: term.holder, state: this.stateOf(term.name) }));
  }

  /**
   * Takes `name` if it is free (as last observed), by inserting its next term; true when this
   * process holds it afterwards. Of several replicas trying at once, one wins.
   */
  async acquire(name: string): Promise<boolean> {
    if (this.holds(name)) return true;
    if (this.stateOf(name) !== 'free') return false;
    const term = (this.seen.get(name)?.term.term ?? 0) + 1;
    const startedAt = now();
    const entry: LeaseTerm = { _id: `${name}#${term}`, name, term, holder: this.identity, renewals: 0 };
    try {
      await this.model.create(entry);
    } catch (error) {
      if ((error as { code?: number }).code === DUPLICATE_KEY) return false;
      throw error;
    }
    this.held.set(name, startedAt + this.timing.leaseMs - this.margin);
    this.seen.set(name, { term: entry, changedAt: startedAt });
    // A first term has none before it to remove (a build's runner lease, taken once per build).
    if (term > 1) await this.model.deleteMany({ name, term: { $lt: term } }).exec();
    return true;
  }

  /** Gives `name` up: others may take it at once. With `forget`, its terms are removed too (a lease that is done with, such as a finished build's). */
  async release(name: string, options: { forget?: boolean } = {}): Promise<void> {
    const wasHeld = this.held.delete(name);
    const observation = this.seen.get(name);
    if (options.forget) {
      await this.model.deleteMany({ name }).exec();
      this.seen.delete(name);
    } else if (wasHeld && observation) {
      await this.model.updateOne({ _id: observation.term._id, holder: this.identity }, { $set: { released: true } }).exec();
    }
  }

  /** Renews what is held, then observes every lease; concurrent calls share one tick. */
  tick(): Promise<void> {
    this.ticking ??= this.tickOnce().finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private async tickOnce(): Promise<void> {
    try {
      await this.renew();
      await this.observe();
    } catch (error) {
      this.logger.warn({ msg: `leases not renewed: ${(error as Error).message}` });
    }
    for (const listener of this.tickListeners) {
      try {
        await listener();
      } catch (error) {
        this.logger.warn({ msg: `a lease tick listener failed: ${(error as Error).message}` });
      }
    }
  }

  private async renew(): Promise<void> {
    const startedAt = now();
    // A lease no longer trusted is not brought back by a late renewal: it must be taken again.
    for (const [name, until] of this.held) if (until <= startedAt) this.lose(name, 'its renewal came too late');
    if (!this.held.size) return;
    await this.beat();
    if (now() - startedAt > this.margin / 2) {
      this.logger.warn({ msg: `a lease renewal took ${Math.round(now() - startedAt)} ms: not trusted` });
      return;
    }
    for (const name of this.held.keys()) this.held.set(name, startedAt + this.timing.leaseMs - this.margin);
  }

  /** Counts the heartbeat up, writing it first when it is missing (this holder's first lease, or an observer removed it). */
  private async beat(): Promise<void> {
    const { matchedCount } = await this.model.updateOne({ _id: this.heartbeatId }, { $inc: { renewals: 1 } }).exec();
    if (matchedCount) return;
    const heartbeat: LeaseTerm = { _id: this.heartbeatId, name: this.heartbeatId, term: 0, holder: this.identity, renewals: 0, heartbeat: true };
    await this.model.create(heartbeat).catch((error: { code?: number }) => {
      if (error.code !== DUPLICATE_KEY) throw error;
    });
  }

  private async observe(): Promise<void> {
    const stored = await this.model.find({}).lean<LeaseTerm[]>().exec();
    const at = now();
    this.observeHeartbeats(stored.filter((entry) => entry.heartbeat), at);
    const newest = new Map<string, LeaseTerm>();
    for (const term of stored) if (!term.heartbeat && (newest.get(term.name)?.term ?? 0) < term.term) newest.set(term.name, term);
    for (const [name, term] of newest) {
      const before = this.seen.get(name)?.term;
      const changed = !before || before.term !== term.term || before.renewals !== term.renewals || before.released !== term.released;
      if (changed) this.seen.set(name, { term, changedAt: at });
      // Someone else holds a newer term of a lease this process thought it held.
      if (this.held.has(name) && (term.holder !== this.identity || term.released)) this.lose(name, `taken over by ${term.holder}`);
    }
    for (const name of [...this.seen.keys()]) if (!newest.has(name)) this.seen.delete(name);
    for (const name of [...this.held.keys()]) if (!newest.has(name)) this.lose(name, 'its record is gone');
  }

  /** Notes which heartbeats moved; one unmoved for `HEARTBEAT_RETENTION_LEASES` lease times is removed (its terms then expire on their own). */
  private observeHeartbeats(heartbeats: LeaseTerm[], at: number): void {
    const present = new Set<string>();
    for (const heartbeat of heartbeats) {
      present.add(heartbeat.holder);
      const before = this.heartbeats.get(heartbeat.holder);
      if (!before || before.term.renewals !== heartbeat.renewals) this.heartbeats.set(heartbeat.holder, { term: heartbeat, changedAt: at });
      else if (heartbeat.holder !== this.identity && at - before.changedAt >= HEARTBEAT_RETENTION_LEASES * this.timing.leaseMs) {
        void this.model.deleteOne({ _id: heartbeat._id, renewals: heartbeat.renewals }).exec().catch(() => undefined);
      }
    }
    for (const holder of [...this.heartbeats.keys()]) if (!present.has(holder)) this.heartbeats.delete(holder);
  }

  private lose(name: string, why: string): void {
    this.held.delete(name);
    this.logger.warn({ msg: `lost lease ${name}: ${why}` });
  }
}
