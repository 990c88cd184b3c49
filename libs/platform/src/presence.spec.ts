import type { NatsConnection } from 'nats';
import { PresenceWatcher } from './presence';

const nats = { subscribe: () => ({ unsubscribe: () => undefined }) } as unknown as NatsConnection;

describe('PresenceWatcher', () => {
  const now = { value: 0 };
  const watcher = () => {
    now.value = 1_000_000;
    const w = new PresenceWatcher(nats, 'router', () => now.value, 1_000);
    w.start();
    return w;
  };

  it('knows nothing until it has listened for two intervals: a replica may not have spoken yet', () => {
    const w = watcher();
    w.heard({ replica: 'r1' });
    now.value += 1_999;
    expect(w.live()).toBeUndefined();
    now.value += 1;
    expect(w.live()).toEqual(['r1']);
  });

  it('counts the replicas heard within three intervals, and forgets one that fell silent', () => {
    const w = watcher();
    w.heard({ replica: 'r1' });
    w.heard({ replica: 'r2' });
    now.value += 2_000;
    w.heard({ replica: 'r2' });
    expect(w.live()).toEqual(['r1', 'r2']);
    now.value += 1_001;
    expect(w.live()).toEqual(['r2']);
  });

  it('ignores what is not a presence message', () => {
    const w = watcher();
    w.heard({ replica: 42 } as never);
    w.heard(null as never);
    now.value += 2_000;
    expect(w.live()).toEqual([]);
  });
});
