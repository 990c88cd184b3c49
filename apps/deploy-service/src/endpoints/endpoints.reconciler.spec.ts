import type { Service } from '@paas/contracts/deployments';
import { TERMINATING_ANNOTATION } from '../pods/pod-state';
import { deployFixture, replicationController, runningPod, stopFixture, testSettings, type DeployFixture } from '../testing/fakes';
import { EndpointsReconciler } from './endpoints.reconciler';

const service: Service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'web', namespace: 'demo', uid: 'uid-svc', resourceVersion: '1', generation: 1, creationTimestamp: '' },
  spec: { selector: { deploymentconfig: 'web' }, ports: [{ name: 'http', port: 8080, targetPort: 8080 }] },
  status: {},
};

const fixtures: DeployFixture[] = [];
afterEach(() => fixtures.splice(0).forEach(stopFixture));

async function setup() {
  const fixture = await deployFixture([]);
  fixtures.push(fixture);
  const { services, pods, endpoints, informers, published } = fixture;
  const now = { value: 5_000 };
  services.seed(service);
  const reconciler = new EndpointsReconciler(endpoints, informers, testSettings(now));
  return { services, pods, endpoints, published, reconciler, now };
}

describe('EndpointsReconciler', () => {
  const rc = replicationController(1, 3);

  it('lists ready pods as addresses and the others as notReadyAddresses, and publishes the ready ones', async () => {
    const { pods, endpoints, published, reconciler } = await setup();
    pods.seed(runningPod(rc, 'web-1-a', 'c1', 40001, true));
    pods.seed(runningPod(rc, 'web-1-b', 'c2', 40002, false));
    const draining = runningPod(rc, 'web-1-c', 'c3', 40003, true);
    pods.seed({ ...draining, metadata: { ...draining.metadata, annotations: { [TERMINATING_ANNOTATION]: '2030-01-01T00:00:00Z' } } });

    await reconciler.reconcile('demo/web');

    const record = await endpoints.get('demo', 'web');
    expect(record.spec.addresses).toEqual([{ ip: '127.0.0.1', port: 40001, targetRef: { kind: 'Pod', name: 'web-1-a', uid: 'uid-web-1-a' } }]);
    expect(record.spec.notReadyAddresses.map((a) => a.targetRef.name)).toEqual(['web-1-b', 'web-1-c']);
    expect(published).toEqual([
      { type: 'endpoints.changed', data: { namespace: 'demo', name: 'web', generation: 5_000, addresses: [{ ip: '127.0.0.1', port: 40001, pod: 'web-1-a' }] }, id: 'endpoints:demo/web:5000' },
    ]);
    expect(record.status).toEqual({ generation: 5_000 });
  });

  it('publishes nothing when nothing changed, and a higher generation when something did', async () => {
    const { pods, published, reconciler } = await setup();
    pods.seed(runningPod(rc, 'web-1-a', 'c1', 40001, true));
    await reconciler.reconcile('demo/web');
    await reconciler.reconcile('demo/web');
    expect(published).toHaveLength(1);

    pods.seed(runningPod(rc, 'web-1-b', 'c2', 40002, true));
    await reconciler.reconcile('demo/web');
    expect(published.map((e) => (e.data as { generation: number }).generation)).toEqual([5_000, 5_001]);
  });

  it('deletes the Endpoints of a deleted Service after publishing them empty with a newer generation', async () => {
    const { pods, services, endpoints, published, reconciler } = await setup();
    pods.seed(runningPod(rc, 'web-1-a', 'c1', 40001, true));
    await reconciler.reconcile('demo/web');
    await services.delete('demo', 'web');
    await reconciler.reconcile('demo/web');
    expect(published.at(-1)?.data).toEqual({ namespace: 'demo', name: 'web', generation: 5_001, addresses: [] });
    expect(await endpoints.find('demo', 'web')).toBeUndefined();
  });
});
