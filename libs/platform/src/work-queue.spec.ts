import { Logger } from '@nestjs/common';
import { MetricsRegistry } from './metrics';
import { TerminalReconcileError, WorkQueue, workQueueMetrics, type ReconcileOutcome, type WorkQueueMetrics } from './work-queue';

/** A reconcile whose outcome per call is scripted: 'fail', 'terminal' or 'ok'. */
function scripted(outcomes: ('fail' | 'terminal' | 'ok')[]) {
  const calls: string[] = [];
  const reconcile = async (key: string) => {
    calls.push(key);
    const outcome = outcomes.shift() ?? 'ok';
    if (outcome === 'fail') throw new Error('transient');
    if (outcome === 'terminal') throw new TerminalReconcileError('never');
  };
  return { calls, reconcile };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('WorkQueue', () => {
  beforeEach(() => jest.useFakeTimers({ doNotFake: ['setImmediate'] }));
  afterEach(() => jest.useRealTimers());

  it('does not let repeated adds (a periodic resync) cut a failed key’s backoff short', async () => {
    const { calls, reconcile } = scripted(['fail', 'ok']);
    const queue = new WorkQueue(reconcile, { name: 'test', baseBackoffMs: 1_000 });
    queue.add('ns/a');
    await settle();
    expect(calls).toEqual(['ns/a']);

    for (let i = 0; i < 5; i++) queue.add('ns/a');
    jest.advanceTimersByTime(900);
    await settle();
    expect(calls).toEqual(['ns/a']);

    jest.advanceTimersByTime(100);
    await settle();
    expect(calls).toEqual(['ns/a', 'ns/a']);
    queue.stop();
  });

  it('runs a key once more when it is added while being reconciled', async () => {
    let release!: () => void;
    const calls: number[] = [];
    const queue = new WorkQueue(
      async () => {
        calls.push(calls.length);
        if (calls.length === 1) await new Promise<void>((resolve) => (release = resolve));
      },
      { name: 'test' },
    );
    queue.add('ns/a');
    await settle();
    queue.add('ns/a');
    queue.add('ns/a');
    release();
    await settle();
    await queue.whenIdle();
    expect(calls).toEqual([0, 1]);
  });

  it('runs a key at the earliest of its pending delays', async () => {
    const { calls, reconcile } = scripted([]);
    const queue = new WorkQueue(reconcile, { name: 'test' });
    queue.addAfter('ns/a', 5_000);
    queue.addAfter('ns/a', 10);
    jest.advanceTimersByTime(10);
    await settle();
    expect(calls).toEqual(['ns/a']);
    queue.stop();
  });

  it('drops a key whose reconcile fails terminally', async () => {
    const { calls, reconcile } = scripted(['terminal']);
    const queue = new WorkQueue(reconcile, { name: 'test', baseBackoffMs: 10 });
    queue.add('ns/a');
    await settle();
    jest.advanceTimersByTime(60_000);
    await settle();
    expect(calls).toEqual(['ns/a']);
  });

  describe('metrics', () => {
    /** Records what the queue reports, on a clock the test moves. */
    function recording() {
      const clock = { ms: 0 };
      const depths: Record<string, () => number> = {};
      const longest: Record<string, () => number> = {};
      const events: string[] = [];
      const metrics: WorkQueueMetrics = {
        trackDepth: (queue, read) => (depths[queue] = read),
        trackLongestRunning: (queue, read) => (longest[queue] = read),
        waited: (queue, seconds) => events.push(`${queue} waited ${seconds}`),
        retried: (queue) => events.push(`${queue} retried`),
        reconciled: (queue, outcome: ReconcileOutcome, seconds) => events.push(`${queue} ${outcome} in ${seconds}`),
      };
      return { clock, depths, longest, events, metrics, now: () => clock.ms };
    }

    it('reports how long the longest reconcile has run, and logs one that runs too long, once, with its key', async () => {
      const { clock, longest, metrics, now } = recording();
      const warnings = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
      let release!: () => void;
      const queue = new WorkQueue(() => new Promise<void>((resolve) => (release = resolve)), { name: 'dcs', metrics, now, slowAfterMs: 60_000 });
      queue.add('ns/stuck');
      expect(longest.dcs()).toBe(0);
      clock.ms += 61_000;
      jest.advanceTimersByTime(30_000);
      expect(longest.dcs()).toBe(61);
      jest.advanceTimersByTime(60_000);
      expect(warnings.mock.calls.map(([entry]) => (entry as { msg: string }).msg)).toEqual(['reconcile ns/stuck has been running for 61 s; the key waits for it']);
      release();
      await queue.whenIdle();
      expect(longest.dcs()).toBe(0);
      warnings.mockRestore();
      queue.stop();
    });

    it('reports depth, time in queue, retries and each reconcile with its result', async () => {
      const { clock, depths, events, metrics, now } = recording();
      let release!: () => void;
      const outcomes = ['slow', 'fail', 'requeue', 'terminal'];
      const queue = new WorkQueue(
        async () => {
          const outcome = outcomes.shift();
          if (outcome === 'slow') await new Promise<void>((resolve) => (release = resolve));
          clock.ms += 5;
          if (outcome === 'fail') throw new Error('transient');
          if (outcome === 'terminal') throw new TerminalReconcileError('never');
          return outcome === 'requeue' ? { requeueAfterMs: 60_000 } : {};
        },
        { name: 'dcs', concurrency: 1, baseBackoffMs: 1_000, metrics, now },
      );
      queue.add('ns/a');
      queue.add('ns/b');
      queue.add('ns/c');
      expect(depths.dcs()).toBe(2);
      clock.ms += 20;
      release();
      await queue.whenIdle();
      expect(depths.dcs()).toBe(0);
      expect(events).toEqual([
        'dcs waited 0',
        'dcs success in 0.025',
        'dcs waited 0.025',
        'dcs error in 0.005',
        'dcs retried',
        'dcs waited 0.03',
        'dcs requeue in 0.005',
      ]);
      jest.advanceTimersByTime(1_000);
      await settle();
      await queue.whenIdle();
      expect(events.slice(7)).toEqual(['dcs waited 0', 'dcs terminal in 0.005']);
      queue.stop();
    });

    it('puts them in a registry under client-go’s names', async () => {
      const registry = new MetricsRegistry();
      const queue = new WorkQueue(async () => undefined, { name: 'builds', metrics: workQueueMetrics(registry) });
      queue.add('ns/a');
      await queue.whenIdle();
      const text = registry.render();
      expect(text).toContain('workqueue_depth{name="builds"} 0');
      expect(text).toContain('workqueue_longest_running_processor_seconds{name="builds"} 0');
      expect(text).toContain('workqueue_queue_duration_seconds_count{name="builds"} 1');
      expect(text).toContain('reconcile_duration_seconds_count{controller="builds",result="success"} 1');
      expect(text).toContain('# TYPE workqueue_retries_total counter');
    });
  });
});
