import type { Leases } from './leases';
import { ShardOwnership } from './shard-ownership';

/** Leases in memory: every lease asked for is granted, and `trusted` says whether this process may trust what it holds. */
function leasesInMemory() {
  const held = new Set<string>();
  const ticks: (() => Promise<void> | void)[] = [];
  const state = { trusted: true };
  const leases = {
    identity: 'me',
    timing: { leaseMs: 10_000 },
    onTick: (listener: () => Promise<void> | void) => ticks.push(listener),
    holds: (name: string) => held.has(name) && state.trusted,
    acquire: async (name: string) => {
      held.add(name);
      return true;
    },
    release: async (name: string) => void held.delete(name),
    observed: () => [{ name: 'member:me', state: 'mine' }],
  };
  return { leases: leases as unknown as Leases, state, tick: () => Promise.all(ticks.map((tick) => tick())) };
}

describe('ShardOwnership.standing', () => {
  it('tells a shard whose lease is not trusted this moment (claimed) from one that is (owned) and from another replica’s (elsewhere)', async () => {
    const { leases, state } = leasesInMemory();
    const ownership = new ShardOwnership(leases, 4);
    expect(ownership.standing('web')).toBe('elsewhere');
    await ownership.start();
    expect(ownership.standing('web')).toBe('owned');
    // A slow renewal: the lease is still this replica's, but not to be trusted until the next one.
    state.trusted = false;
    expect(ownership.ownsNamespace('web')).toBe(false);
    expect(ownership.standing('web')).toBe('claimed');
    state.trusted = true;
    expect(ownership.standing('web')).toBe('owned');
  });
});
