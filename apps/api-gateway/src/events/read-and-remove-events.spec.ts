import type { KubeEventReason } from '@paas/contracts/kube-events';
import { InMemoryResourceRepository } from '@paas/platform/in-memory-repository';
import type { EventRecord } from './event.repository';
import { ReadEvents } from './read-events.usecase';
import { RemoveEvents } from './remove-events.usecase';

const HOUR = 3_600_000;
const T0 = Date.parse('2030-01-01T10:00:00Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();

/** An Event as stored, its last occurrence `lastMs` after T0. */
function anEvent(namespace: string, object: string, reason: KubeEventReason, lastMs: number) {
  return {
    metadata: { name: `${object}.${reason.toLowerCase()}`, namespace },
    spec: { involvedObject: { kind: 'Pod', name: object, namespace }, reason, type: reason === 'PodReady' ? ('Normal' as const) : ('Warning' as const), source: { component: 'deploy-service' } },
    status: { message: reason, count: 1, firstTimestamp: at(0), lastTimestamp: at(lastMs), occurrenceIds: ['x'] },
  };
}

async function stored() {
  const events = new InMemoryResourceRepository<EventRecord>('Event');
  await events.create(anEvent('demo', 'web-1-a', 'PodNotReady', 30_000));
  await events.create(anEvent('demo', 'web-1-a', 'PodReady', 10_000));
  await events.create(anEvent('demo', 'web-1-b', 'PodReady', 20_000));
  await events.create(anEvent('other', 'web-1-a', 'PodReady', 0));
  const settings = { events: { ttlMs: HOUR, pruneIntervalMs: 300_000 } };
  return { events, read: new ReadEvents(events), remove: new RemoveEvents(events, settings) };
}

const names = (events: { metadata: { namespace: string; name: string } }[]) => events.map((e) => `${e.metadata.namespace}/${e.metadata.name}`);

describe('ReadEvents', () => {
  it('lists a namespace oldest last occurrence first, narrowed by a field selector', async () => {
    const { read } = await stored();
    expect(names(await read.list('demo'))).toEqual(['demo/web-1-a.podready', 'demo/web-1-b.podready', 'demo/web-1-a.podnotready']);
    expect(names(await read.list('demo', 'involvedObject.name=web-1-a'))).toEqual(['demo/web-1-a.podready', 'demo/web-1-a.podnotready']);
    expect(names(await read.list('demo', 'involvedObject.name=web-1-a,type!=Normal'))).toEqual(['demo/web-1-a.podnotready']);
  });

  it('refuses a field selector it cannot apply with 400, naming what is wrong', async () => {
    const { read } = await stored();
    await expect(read.list('demo', 'involvedObject.colour=red')).rejects.toMatchObject({ status: { code: 400, message: expect.stringContaining('field label not supported: involvedObject.colour') } });
    await expect(read.list('demo', 'involvedObject.name')).rejects.toMatchObject({ status: { code: 400, message: expect.stringContaining('invalid fieldSelector') } });
    await expect(read.list('demo', ['a=b', 'c=d'])).rejects.toMatchObject({ status: { code: 400 } });
  });

  it('answers one Event in its Kubernetes shape, 404 for a missing one and 422 for a namespace that is no DNS label', async () => {
    const { read } = await stored();
    expect(await read.get('demo', 'web-1-b.podready')).toMatchObject({ kind: 'Event', involvedObject: { name: 'web-1-b' }, count: 1, lastTimestamp: at(20_000) });
    await expect(read.get('demo', 'nothing.here')).rejects.toMatchObject({ status: { code: 404 } });
    await expect(read.list('Not_A_Label')).rejects.toMatchObject({ status: { code: 422 } });
  });
});

describe('RemoveEvents', () => {
  it('removes the Events whose last occurrence is older than the TTL, in every namespace', async () => {
    const { remove, events } = await stored();
    await expect(remove.expired(T0 + HOUR + 15_000)).resolves.toBe(2);
    expect(names(await events.list())).toEqual(['demo/web-1-a.podnotready', 'demo/web-1-b.podready']);
    await expect(remove.expired(T0 + HOUR + 15_000)).resolves.toBe(0);
  });

  it("removes a namespace's Events and only those", async () => {
    const { remove, events } = await stored();
    await expect(remove.inNamespace('demo')).resolves.toBe(3);
    expect(names(await events.list())).toEqual(['other/web-1-a.podready']);
  });
});
