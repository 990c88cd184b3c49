import { KeyedLock } from './keyed-lock';

/** Work that records when it starts and ends, and ends when told. */
function step(log: string[], name: string) {
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return {
    work: async () => {
      log.push(`${name} starts`);
      await done;
      log.push(`${name} ends`);
    },
    finish: () => finish(),
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('KeyedLock', () => {
  it('lets shared holders of a key work at once', async () => {
    const lock = new KeyedLock();
    const log: string[] = [];
    const [a, b] = [step(log, 'a'), step(log, 'b')];
    const both = Promise.all([lock.shared('demo', a.work), lock.shared('demo', b.work)]);
    await settle();
    expect(log).toEqual(['a starts', 'b starts']);
    a.finish();
    b.finish();
    await both;
  });

  it('gives an exclusive holder the key alone, after the shared holders before it and before those after it', async () => {
    const lock = new KeyedLock();
    const log: string[] = [];
    const [before, writer, after] = [step(log, 'before'), step(log, 'writer'), step(log, 'after')];
    const all = Promise.all([lock.shared('demo', before.work), lock.exclusive('demo', writer.work), lock.shared('demo', after.work)]);
    await settle();
    expect(log).toEqual(['before starts']);
    before.finish();
    await settle();
    expect(log).toEqual(['before starts', 'before ends', 'writer starts']);
    writer.finish();
    await settle();
    expect(log).toEqual(['before starts', 'before ends', 'writer starts', 'writer ends', 'after starts']);
    after.finish();
    await all;
  });

  it('keeps keys apart, and frees a key whose work failed', async () => {
    const lock = new KeyedLock();
    const log: string[] = [];
    const other = step(log, 'other');
    const failing = lock.exclusive('demo', async () => {
      throw new Error('engine down');
    });
    const elsewhere = lock.exclusive('other', other.work);
    await expect(failing).rejects.toThrow('engine down');
    await expect(lock.exclusive('demo', async () => 'next')).resolves.toBe('next');
    expect(log).toEqual(['other starts']);
    other.finish();
    await elsewhere;
  });
});
