import { TerminalReconcileError, WorkQueue } from './work-queue';

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
});
