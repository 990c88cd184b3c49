import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { eventually, isAlive } from '@paas/platform/testing';
import { api, AppRepository, closeRouterConnections, deleteNamespace, randomSuffix, removeBuiltImages, throughRouter } from './support';

const REPO_ROOT = path.resolve(__dirname, '../..');
const PAAS_HOME = path.resolve(process.env.PAAS_HOME || path.join(REPO_ROOT, '.paas'));

/**
 * A service down mid-flow loses nothing: with the deploy-service stopped, a new build
 * completes and its `imagestream.updated` waits in the deploy-service's durable consumer
 * while the running pod keeps serving; started again (`npm run up` starts only what is not
 * answering), the deploy-service rolls the new image out. Meanwhile a new-app that needs
 * the stopped service is refused whole.
 */
describe('a restarted service picks up where the flow stopped', () => {
  const namespace = `e2e-restart-${randomSuffix()}`;
  const host = `later-${namespace}.apps.localhost`;
  const repo = new AppRepository();
  const serves = (text: string) =>
    eventually(`the route to serve "${text}"`, async () => {
      const res = await throughRouter(host);
      return res.status === 200 && res.body === text ? res : undefined;
    });
  const newApp = (name: string) => api().post(`/api/v1/namespaces/${namespace}/apps`).send({ name, source: { git: repo.dir, ref: 'main' }, builder: 'nodejs' });

  afterAll(async () => {
    await deleteNamespace(namespace);
    removeBuiltImages(namespace, ['later-1', 'later-2']);
    repo.remove();
    closeRouterConnections();
  });

  it('rolls out a build that completed while the deploy-service was down', async () => {
    repo.commitServer('before the restart');
    expect((await newApp('later')).status).toBe(201);
    await serves('before the restart');

    // Every replica `npm run up` started (.paas/run/deploy-service-<i>.pid), so that no deploy-service is left.
    const run = path.join(PAAS_HOME, 'run');
    const pids = readdirSync(run).filter((file) => /^deploy-service-\d+\.pid$/.test(file)).map((file) => Number(readFileSync(path.join(run, file), 'utf8')));
    expect(pids.length).toBeGreaterThan(0);
    for (const pid of pids) process.kill(pid, 'SIGTERM');
    await eventually('the deploy-service to stop', async () => (pids.some(isAlive) ? undefined : true), 30_000);

    const refused = await newApp('other');
    expect(refused.status).toBe(503);
    expect((await api().get(`/api/v1/namespaces/${namespace}/imagestreams/other`)).status).toBe(404);

    repo.commitServer('after the restart');
    expect((await api().post(`/api/v1/namespaces/${namespace}/buildconfigs/later/instantiate`).send({})).status).toBe(201);
    await eventually('build later-2 to complete', async () => {
      const build = await api().get(`/api/v1/namespaces/${namespace}/builds/later-2`);
      return build.body.status?.phase === 'Complete' ? build : undefined;
    });
    expect(await throughRouter(host)).toEqual({ status: 200, body: 'before the restart' });

    execFileSync('node', [path.join(REPO_ROOT, 'scripts/up.mjs')], { stdio: 'ignore' });
    await serves('after the restart');
  });
});
