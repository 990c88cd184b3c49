import { BASE_PORTS, portOffset } from '@paas/platform/ports';

/**
 * The running deploy-service (replica 0, `npm run up`) serves its work queues' and
 * reconciles' metrics on its admin port: every controller's queue has its depth, and the
 * reconciles the platform ran at start (a resync of its shards) have their durations.
 */
it('serves work queue and reconcile metrics at /metrics on the admin port', async () => {
  const response = await fetch(`http://127.0.0.1:${BASE_PORTS.deploy + portOffset()}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/plain; version=0.0.4');
  const text = await response.text();
  for (const queue of ['deploymentconfigs', 'replicationcontrollers', 'endpoints']) expect(text).toMatch(new RegExp(`^workqueue_depth\\{name="${queue}"\\} \\d+$`, 'm'));
  for (const family of ['workqueue_queue_duration_seconds', 'workqueue_retries_total', 'reconcile_duration_seconds']) expect(text).toContain(`# TYPE ${family} `);
});
