import { InMemoryFeed } from '@paas/platform/in-memory-repository';
import { ResourceWakeups } from './resource-wakeups';

const LONG_MS = 60_000;
type Change = Parameters<InMemoryFeed['announce']>[1];
/** A change of build `name` (only its name is read). */
const build = (name: string) => ({ type: 'MODIFIED', object: { metadata: { namespace: 'demo', name } } }) as Change;
/** Whether `promise` is still pending once everything already due has run. */
const pending = (promise: Promise<unknown>) => Promise.race([promise.then(() => false), new Promise((resolve) => setTimeout(() => resolve(true), 10))]);

describe('ResourceWakeups', () => {
  it("wakes a follower at its resource's change, not at another's", async () => {
    const feed = new InMemoryFeed();
    const wakeup = new ResourceWakeups(feed).follow('Build', 'demo', 'hello-1');
    const next = wakeup.next(LONG_MS);
    feed.announce('Build', build('hello-2'));
    expect(await pending(next)).toBe(true);
    feed.announce('Build', build('hello-1'));
    await next;
    wakeup.stop();
  });

  it('does not sleep through a change made while the follower was not waiting', async () => {
    const feed = new InMemoryFeed();
    const wakeup = new ResourceWakeups(feed).follow('Build', 'demo', 'hello-1');
    feed.announce('Build', build('hello-1'));
    await wakeup.next(LONG_MS);
    // Told once: the next wait waits again, and a stopped follower is told nothing.
    const done = new AbortController();
    const next = wakeup.next(LONG_MS, done.signal);
    expect(await pending(next)).toBe(true);
    wakeup.stop();
    feed.announce('Build', build('hello-1'));
    expect(await pending(next)).toBe(true);
    done.abort();
    await next;
  });

  it("ends a wait when the follower's signal aborts, and watches each kind once for all followers", async () => {
    const feed = new InMemoryFeed();
    const watch = jest.spyOn(feed, 'watch');
    const wakeups = new ResourceWakeups(feed);
    const first = wakeups.follow('Build', 'demo', 'hello-1');
    const second = wakeups.follow('Build', 'demo', 'hello-2');
    const clientGone = new AbortController();
    const next = first.next(LONG_MS, clientGone.signal);
    clientGone.abort();
    await next;
    expect(watch).toHaveBeenCalledTimes(1);
    first.stop();
    second.stop();
    wakeups.onApplicationShutdown();
  });
});
