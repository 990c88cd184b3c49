import { BINARY_INPUT_BUCKET } from '@paas/contracts/builds';
import { busConnectionOptions } from '@paas/platform/bus-settings';
import { busNames } from '@paas/platform/bus-names';
import { eventually } from '@paas/platform/testing';
import { connect, type NatsConnection } from 'nats';
import { tarOf, zipOf } from '@paas/platform/test-archives';
import { gzipSync } from 'node:zlib';
import { api, closeRouterConnections, deleteNamespace, randomSuffix, removeBuiltImages, throughRouter } from './support';


/**
 * Binary builds (`oc new-app --binary`, `oc start-build --from-dir`) on the running platform:
 * files uploaded to the gateway are built and served; a refused archive fails its build with
 * the reason and leaves the app serving; bad bodies are 4xx; no upload outlives its build.
 */
describe('Binary builds', () => {
  const namespace = `e2e-bin-${randomSuffix()}`;
  const host = `site-${namespace}.apps.localhost`;
  let nats: NatsConnection;

  const upload = (body: Buffer, query: Record<string, string> = {}, path = 'apis/build.openshift.io/v1') =>
    api().post(`/${path}/namespaces/${namespace}/buildconfigs/site/instantiatebinary`).query(query).set('content-type', 'application/octet-stream').send(body);
  const buildFinished = (name: string) =>
    eventually(`build ${name} to finish`, async () => {
      const build = (await api().get(`/api/v1/namespaces/${namespace}/builds/${name}`)).body;
      return ['Complete', 'Failed', 'Error', 'Cancelled'].includes(build.status?.phase) ? build : undefined;
    });
  const routeServes = (text: string) =>
    eventually(`the route to serve "${text}"`, async () => {
      const res = await throughRouter(host);
      return res.status === 200 && res.body === text ? res : undefined;
    });

  beforeAll(async () => {
    nats = await connect(busConnectionOptions('e2e-binary-builds'));
  });

  afterAll(async () => {
    await deleteNamespace(namespace);
    removeBuiltImages(namespace, ['site-1', 'site-2', 'site-3']);
    await nats.close();
    closeRouterConnections();
  });

  it('builds a tar.gz uploaded to a binary app and serves it through the router', async () => {
    const created = await api().post(`/api/v1/namespaces/${namespace}/apps`).send({ name: 'site', source: { binary: {} }, builder: 'static' });
    expect(created.status).toBe(201);
    const bc = created.body.items.find((item: { kind: string }) => item.kind === 'BuildConfig');
    expect(bc.spec).toMatchObject({ source: { type: 'Binary' }, triggers: [] });

    const archive = gzipSync(await tarOf([{ name: './index.html', content: 'binary v1' }, { name: './.s2i/environment', content: 'GREETING=hi\n' }]));
    const res = await upload(archive, { 'revision.message': 'from my laptop' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ kind: 'Build', metadata: { name: 'site-1' }, spec: { source: { type: 'Binary' }, binary: { bytes: archive.length } } });
    const build = await buildFinished('site-1');
    expect(build.status).toMatchObject({ phase: 'Complete' });
    expect(build.spec.revision).toMatchObject({ author: 'admin', message: 'from my laptop' });
    await routeServes('binary v1');
  });

  it('fails a build whose archive holds a symlink out of the tree, naming it, and the app keeps serving', async () => {
    const res = await upload(await tarOf([{ name: 'index.html', content: 'evil' }, { name: 'passwd', type: 'symlink', linkname: '../../../etc/passwd' }]), {}, 'api/v1');
    expect(res.status).toBe(201);
    const build = await buildFinished('site-2');
    expect(build.status).toMatchObject({ phase: 'Failed', reason: 'InvalidBinaryInput', message: expect.stringContaining('the symlink "passwd" points out of the tree') });
    await routeServes('binary v1');
  });

  it('answers a body that is no archive, or none, with a 400, and starts no build', async () => {
    expect((await upload(Buffer.from('{"not": "an archive"}'))).status).toBe(400);
    const empty = await api().post(`/api/v1/namespaces/${namespace}/buildconfigs/site/instantiatebinary`);
    expect(empty.status).toBe(400);
    expect((await api().post(`/api/v1/namespaces/${namespace}/buildconfigs/site/instantiate`).send({})).status).toBe(400);
    const builds = await api().get(`/api/v1/namespaces/${namespace}/builds`);
    expect(builds.body.items.map((b: { metadata: { name: string } }) => b.metadata.name).sort()).toEqual(['site-1', 'site-2']);
  });

  it('builds a zip too, and keeps no upload once the builds have ended', async () => {
    expect((await upload(await zipOf([{ name: 'index.html', content: 'binary v3 (zip)' }]))).status).toBe(201);
    expect((await buildFinished('site-3')).status.phase).toBe('Complete');
    await routeServes('binary v3 (zip)');
    const store = await nats.jetstream().views.os(busNames().bucket(BINARY_INPUT_BUCKET));
    await eventually('the uploads to be deleted', async () => ((await store.list()).length === 0 ? true : undefined), 30_000);
  });
});
