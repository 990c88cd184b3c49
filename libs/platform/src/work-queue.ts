import { Logger } from '@nestjs/common';
import { processMetrics, type MetricsRegistry } from './metrics';

/** Thrown by a reconcile that can never succeed as things stand: the key is not retried. */
export class TerminalReconcileError extends Error {}

export interface ReconcileResult {
  /** Reconcile again after this long even without a new event (polling a rollout, say). */
  requeueAfterMs?: number;
}

/** How a reconcile ended, as the `result` label says: `requeue` asked to run again later. */
export type ReconcileOutcome = 'success' | 'requeue' | 'error' | 'terminal';

/** What a work queue reports of its work (`workQueueMetrics` puts it in a registry). */
export interface WorkQueueMetrics {
  /** `read` says how many keys wait in the queue `queue`, when asked. */
  trackDepth(queue: string, read: () => number): void;
  /** `read` says how long (seconds) the longest reconcile running now has run, when asked. */
  trackLongestRunning(queue: string, read: () => number): void;
  /** A key waited `seconds` from being queued to a worker taking it. */
  waited(queue: string, seconds: number): void;
  /** A key failed and is queued again after its backoff. */
  retried(queue: string): void;
  reconciled(queue: string, outcome: ReconcileOutcome, seconds: number): void;
}

/** Work queue metrics after client-go's names: depth, time in queue, retries, and reconcile durations by result. */
export function workQueueMetrics(registry: MetricsRegistry = processMetrics): WorkQueueMetrics {
  const depth = registry.gauge('workqueue_depth', 'Keys waiting in the work queue, by queue.');
  const longest = registry.gauge('workqueue_longest_running_processor_seconds', 'How long the longest reconcile running now has run, by queue.');
  const queued = registry.histogram('workqueue_queue_duration_seconds', 'Time a key waits in the work queue before a worker takes it, by queue.');
  const retries = registry.counter('workqueue_retries_total', 'Keys queued again after a failed reconcile, by queue.');
  const reconciles = registry.histogram('reconcile_duration_seconds', 'Time one reconcile took, by controller (its queue) and result.');
  return {
    trackDepth: (queue, read) => depth.track({ name: queue }, read),
    trackLongestRunning: (queue, read) => longest.track({ name: queue }, read),
    waited: (queue, seconds) => queued.observe({ name: queue }, seconds),
    retried: (queue) => retries.inc({ name: queue }),
    reconciled: (queue, result, seconds) => reconciles.observe({ controller: queue, result }, seconds),
  };
}

export interface WorkQueueOptions {
  name: string;
  concurrency?: number;
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** Where the queue reports its work; the process registry by default. */
  metrics?: WorkQueueMetrics;
  /** A monotonic clock in milliseconds (tests). */
  now?: () => number;
  /** A reconcile running longer than this is logged (once, with its key): a hung one holds its key. */
  slowAfterMs?: number;
}

/** How long a reconcile may run before it is logged as slow, unless the options say otherwise. */
const SLOW_RECONCILE_MS = 60_000;

/**
 * A level-triggered work queue after client-go's: events only add keys; a key is
 * processed by one worker at a time, and re-added keys while processing run once more
 * afterwards; failures requeue with exponential backoff; terminal errors drop the key.
 */
export class WorkQueue {
  private readonly logger: Logger;
  private readonly queue: string[] = [];
  /** Queued keys, with when each was queued. */
  private readonly queued = new Map<string, number>();
  /** Keys being reconciled, with when each started. */
  private readonly processing = new Map<string, number>();
  /** Keys whose current reconcile was logged as slow. */
  private readonly reportedSlow = new Set<string>();
  private watchdog?: NodeJS.Timeout;
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, { timer: NodeJS.Timeout; dueAt: number }>();
  /** Keys that failed, until their backoff ends: a periodic resync must not retry them early. */
  private readonly backoffTimers = new Map<string, NodeJS.Timeout>();
  private active = 0;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];
  private readonly metrics: WorkQueueMetrics;
  private readonly now: () => number;

  constructor(
    private readonly reconcile: (key: string) => Promise<ReconcileResult | void>,
    private readonly options: WorkQueueOptions,
  ) {
    this.logger = new Logger(`WorkQueue:${options.name}`);
    this.metrics = options.metrics ?? workQueueMetrics();
    this.now = options.now ?? (() => performance.now());
    this.metrics.trackDepth(options.name, () => this.queue.length);
    this.metrics.trackLongestRunning(options.name, () => {
      const now = this.now();
      return Math.max(0, ...[...this.processing.values()].map((since) => (now - since) / 1000));
    });
  }

  /** Queues `key` now, unless it is waiting out a failure's backoff (it runs when that ends). */
  add(key: string): void {
    if (this.stopped || this.backoffTimers.has(key)) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.queued.has(key)) return;
    this.queued.set(key, this.now());
    this.queue.push(key);
    this.pump();
  }

  /** Queues `key` after `delayMs`; of several pending delays for a key, the earliest wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.stopped) return;
    const dueAt = Date.now() + delayMs;
    const pending = this.timers.get(key);
    if (pending && pending.dueAt <= dueAt) return;
    clearTimeout(pending?.timer);
    const timer = setTimeout(() => {
      this.timers.delete(key);
      this.add(key);
    }, delayMs).unref();
    this.timers.set(key, { timer, dueAt });
  }

  /** Resolves when nothing is queued or running (tests, graceful shutdown). */
  whenIdle(): Promise<void> {
    if (this.active === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.watchdog);
    for (const { timer } of this.timers.values()) clearTimeout(timer);
    for (const timer of this.backoffTimers.values()) clearTimeout(timer);
    this.timers.clear();
    this.backoffTimers.clear();
  }

  private backOff(key: string, delayMs: number): void {
    clearTimeout(this.timers.get(key)?.timer);
    this.timers.delete(key);
    this.backoffTimers.set(
      key,
      setTimeout(() => {
        this.backoffTimers.delete(key);
        this.add(key);
      }, delayMs).unref(),
    );
  }

  private pump(): void {
    while (!this.stopped && this.active < (this.options.concurrency ?? 4) && this.queue.length) {
      const key = this.queue.shift() as string;
      this.metrics.waited(this.options.name, (this.now() - (this.queued.get(key) ?? this.now())) / 1000);
      this.queued.delete(key);
      this.processing.set(key, this.now());
      this.active++;
      this.watch();
      void this.run(key);
    }
  }

  /** Looks every so often for reconciles that run too long, while any runs. */
  private watch(): void {
    const slowAfter = this.options.slowAfterMs ?? SLOW_RECONCILE_MS;
    this.watchdog ??= setInterval(() => {
      const now = this.now();
      for (const [key, since] of this.processing) {
        if (now - since < slowAfter || this.reportedSlow.has(key)) continue;
        this.reportedSlow.add(key);
        this.logger.warn({ msg: `reconcile ${key} has been running for ${Math.round((now - since) / 1000)} s; the key waits for it` });
      }
      if (this.processing.size === 0) {
        clearInterval(this.watchdog);
        this.watchdog = undefined;
      }
    }, slowAfter / 2).unref();
  }

  private async run(key: string): Promise<void> {
    const started = this.now();
    const took = () => (this.now() - started) / 1000;
    try {
      const result = await this.reconcile(key);
      this.metrics.reconciled(this.options.name, result?.requeueAfterMs === undefined ? 'success' : 'requeue', took());
      this.failures.delete(key);
      if (result?.requeueAfterMs !== undefined) this.addAfter(key, result.requeueAfterMs);
    } catch (error) {
      if (error instanceof TerminalReconcileError) {
        this.metrics.reconciled(this.options.name, 'terminal', took());
        this.failures.delete(key);
        this.logger.error({ msg: `giving up on ${key}: ${error.message}` });
      } else {
        this.metrics.reconciled(this.options.name, 'error', took());
        this.metrics.retried(this.options.name);
        const failures = (this.failures.get(key) ?? 0) + 1;
        this.failures.set(key, failures);
        const delay = Math.min(this.options.maxBackoffMs ?? 30_000, (this.options.baseBackoffMs ?? 200) * 2 ** (failures - 1));
        this.logger.warn({ msg: `reconcile ${key} failed (attempt ${failures}), retrying in ${delay} ms: ${(error as Error).message}` });
        this.backOff(key, delay);
      }
    } finally {
      this.processing.delete(key);
      this.reportedSlow.delete(key);
      this.active--;
      if (this.dirty.delete(key)) this.add(key);
      this.pump();
      if (this.active === 0 && this.queue.length === 0) this.idleWaiters.splice(0).forEach((resolve) => resolve());
    }
  }
}
