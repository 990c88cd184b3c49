import type { Namespace } from '@paas/contracts/namespaces';
import { InMemoryResourceRepository } from '@paas/platform/in-memory-repository';
import { CLUSTER_SCOPE } from '../cluster-scope';
import type { Occurrence } from './event-occurrence';
import { toKubeEvent, type EventRecord } from './event.repository';
import { eventName, NAMESPACE_WAIT_MS, RecordEvent, REMEMBERED_OCCURRENCES } from './record-event.usecase';

const HOUR = 3_600_000;
const T0 = Date.parse('2030-01-01T10:00:00Z');
const at = (ms: number) => new Date(T0 + ms).toISOString();

let ids = 0;
/** A pod that is not ready, `ms` after T0. */
function notReady(ms: number, overrides: Partial<Occurrence> = {}): Occurrence {
  return {
    id: `pod.changed:${++ids}`,
    time: at(ms),
    involvedObject: { kind: 'Pod', name: 'web-1-a', namespace: 'demo', uid: 'pod-1' },
    reason: 'PodNotReady',
    type: 'Warning',
    message: `Readiness probe failed (${ms} ms)`,
    source: { component: 'deploy-service' },
    ...overrides,
  };
}

async function recorder(phase: Namespace['status']['phase'] | 'absent' = 'Active') {
  const events = new InMemoryResourceRepository<EventRecord>('Event');
  const namespaces = new InMemoryResourceRepository<Namespace>('Namespace');
  if (phase !== 'absent') await namespaces.create({ metadata: { name: 'demo', namespace: CLUSTER_SCOPE }, spec: {}, status: { phase } });
  const record = new RecordEvent(events, namespaces, { events: { ttlMs: HOUR, pruneIntervalMs: 300_000 } });
  const shown = async () => (await events.list({ namespace: 'demo' })).map(toKubeEvent);
  return { events, record, shown };
}

describe('RecordEvent', () => {
  it('records an occurrence as a Kubernetes Event named after its object', async () => {
    const { record, shown } = await recorder();
    const first = notReady(0);
    await expect(record.execute(first, T0 + 10)).resolves.toBe('recorded');
    expect(await shown()).toEqual([
      {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: expect.stringMatching(/^web-1-a\.[0-9a-f]{16}$/), namespace: 'demo', uid: expect.any(String), resourceVersion: '1', creationTimestamp: expect.any(String) },
        involvedObject: { kind: 'Pod', name: 'web-1-a', namespace: 'demo', uid: 'pod-1' },
        reason: 'PodNotReady',
        message: 'Readiness probe failed (0 ms)',
        type: 'Warning',
        count: 1,
        firstTimestamp: at(0),
        lastTimestamp: at(0),
        source: { component: 'deploy-service' },
      },
    ]);
    expect((await shown())[0].metadata.name).toBe(eventName(first));
  });

  it('counts the same object, reason and type on one Event, with the latest message, and keeps other reasons apart', async () => {
    const { record, shown } = await recorder();
    await record.execute(notReady(0), T0);
    await record.execute(notReady(60_000), T0 + 60_000);
    await record.execute(notReady(120_000, { reason: 'PodReady', type: 'Normal', message: 'Pod is ready' }), T0 + 120_000);
    await record.execute(notReady(180_000), T0 + 180_000);
    expect((await shown()).map(({ reason, count, firstTimestamp, lastTimestamp, message }) => ({ reason, count, firstTimestamp, lastTimestamp, message }))).toEqual([
      { reason: 'PodNotReady', count: 3, firstTimestamp: at(0), lastTimestamp: at(180_000), message: 'Readiness probe failed (180000 ms)' },
      { reason: 'PodReady', count: 1, firstTimestamp: at(120_000), lastTimestamp: at(120_000), message: 'Pod is ready' },
    ]);
  });

  it('counts an occurrence once however often it is delivered, at once or later, to one replica or two', async () => {
    const { record, shown } = await recorder();
    const once = notReady(0);
    const twice = notReady(1000);
    await Promise.all([record.execute(once, T0), record.execute(once, T0)]);
    await record.execute(twice, T0 + 1000);
    await expect(record.execute(once, T0 + 5000)).resolves.toBe('counted-already');
    await Promise.all([record.execute(twice, T0 + 6000), record.execute(twice, T0 + 6000)]);
    expect((await shown()).map((event) => event.count)).toEqual([2]);
  });

  it('loses no occurrence when replicas record them at once', async () => {
    const { record, shown } = await recorder();
    await Promise.all(Array.from({ length: 8 }, (_, i) => record.execute(notReady(i * 1000), T0 + 10_000)));
    expect((await shown()).map(({ count, firstTimestamp, lastTimestamp }) => ({ count, firstTimestamp, lastTimestamp }))).toEqual([{ count: 8, firstTimestamp: at(0), lastTimestamp: at(7000) }]);
  });

  it('widens the timestamps for an occurrence that arrives late, keeping the latest message', async () => {
    const { record, shown } = await recorder();
    await record.execute(notReady(60_000), T0 + 60_000);
    await record.execute(notReady(0), T0 + 61_000);
    expect((await shown()).map(({ count, firstTimestamp, lastTimestamp, message }) => ({ count, firstTimestamp, lastTimestamp, message }))).toEqual([
      { count: 2, firstTimestamp: at(0), lastTimestamp: at(60_000), message: 'Readiness probe failed (60000 ms)' },
    ]);
  });

  it('tells a re-created object of the same name apart by its uid', async () => {
    const { record, shown } = await recorder();
    await record.execute(notReady(0), T0);
    await record.execute(notReady(1000, { involvedObject: { kind: 'Pod', name: 'web-1-a', namespace: 'demo', uid: 'pod-2' } }), T0 + 1000);
    expect((await shown()).map((event) => [event.involvedObject.uid, event.count])).toEqual([
      ['pod-1', 1],
      ['pod-2', 1],
    ]);
  });

  it('does not record an occurrence older than the TTL, and starts the count again after the TTL passed', async () => {
    const { record, shown } = await recorder();
    await expect(record.execute(notReady(0), T0 + HOUR + 1)).resolves.toBe('expired');
    expect(await shown()).toEqual([]);
    await record.execute(notReady(0), T0);
    await record.execute(notReady(1000), T0 + 1000);
    await record.execute(notReady(HOUR + 2000), T0 + HOUR + 2000);
    expect((await shown()).map(({ count, firstTimestamp }) => ({ count, firstTimestamp }))).toEqual([{ count: 1, firstTimestamp: at(HOUR + 2000) }]);
  });

  it('remembers the latest occurrence ids only', async () => {
    const { record, events } = await recorder();
    for (let i = 0; i < REMEMBERED_OCCURRENCES + 5; i++) await record.execute(notReady(i), T0 + i);
    const [stored] = await events.list();
    expect(stored.status.count).toBe(REMEMBERED_OCCURRENCES + 5);
    expect(stored.status.occurrenceIds).toHaveLength(REMEMBERED_OCCURRENCES);
  });

  it('records nothing in a namespace being deleted', async () => {
    const { record, shown } = await recorder('Terminating');
    await expect(record.execute(notReady(0), T0)).resolves.toBe('namespace-terminating');
    expect(await shown()).toEqual([]);
  });

  it('has an occurrence in a namespace not recorded yet tried again for a while, then drops it', async () => {
    const { record, events } = await recorder('absent');
    await expect(record.execute(notReady(0), T0 + 1000)).rejects.toThrow('namespace "demo" is not recorded (yet)');
    await expect(record.execute(notReady(0), T0 + NAMESPACE_WAIT_MS + 1)).resolves.toBe('no-namespace');
    expect(await events.list()).toEqual([]);
  });
});
