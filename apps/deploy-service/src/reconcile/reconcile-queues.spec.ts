import type { Standing } from '@paas/platform/shard-ownership';
import { eventually } from '@paas/platform/testing';
import type { DeployInformers } from '../informers';
import { deployFixture, stopFixture, type DeployFixture } from '../testing/fakes';
import { ReconcileQueues } from './reconcile-queues';

const fixtures: DeployFixture[] = [];
afterEach(() => fixtures.splice(0).forEach(stopFixture));

describe('ReconcileQueues and shard ownership', () => {
  async function queuesStanding(initial: Standing) {
    const fixture = await deployFixture();
    fixtures.push(fixture);
    const ownership = { standing: jest.fn((_namespace: string): Standing => initial), listen: () => undefined };
    const queues = new ReconcileQueues(fixture.informers as DeployInformers, ownership);
    const reconciled: string[] = [];
    queues.register({ kind: 'deploymentconfigs', reconcile: async (key) => (reconciled.push(key), {}) });
    return { queues, ownership, reconciled };
  }

  it('keeps a key whose shard lease is not trusted this moment, and works it once the lease is trusted again', async () => {
    const { queues, ownership, reconciled } = await queuesStanding('claimed');
    queues.deploymentConfig('demo', 'web');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(reconciled).toEqual([]);
    ownership.standing.mockReturnValue('owned');
    await eventually('the key to be worked', async () => (reconciled.length ? reconciled : undefined), 5_000, 50);
    expect(reconciled).toEqual(['demo/web']);
    queues.onApplicationShutdown();
  });

  it("drops a key of another replica's shard", async () => {
    const { queues, reconciled } = await queuesStanding('elsewhere');
    queues.deploymentConfig('demo', 'web');
    await queues.whenIdle();
    expect(reconciled).toEqual([]);
    queues.onApplicationShutdown();
  });
});
