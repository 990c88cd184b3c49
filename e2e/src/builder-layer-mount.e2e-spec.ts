import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '@paas/platform/config';
import { eventually } from '@paas/platform/testing';
import { adminPassword, api, AppRepository, deleteNamespace, randomSuffix, removeBuiltImages, run } from './support';

const REGISTRY = loadConfig().registryHost;
const LABEL = 'paas.dev/test=layer-mount';

/**
 * The Docker engine asks to mount a layer it pushes from the repositories it remembers pushing
 * it to (`?mount=&from=`), newest first, three at most, and uploads it when none answers. Those
 * repositories may all be gone: here three apps pushed the builder's layer and their namespaces
 * were deleted. A fourth app's push must still mount it (the registry finds it in a repository
 * the build's token may pull), not upload the builder's whole layer again.
 */
describe("the builder's layer after the repositories it was pushed to are deleted", () => {
  const gone = [1, 2, 3].map(() => `e2e-gone-${randomSuffix()}`);
  const namespace = `e2e-mount-${randomSuffix()}`;
  const repo = new AppRepository();

  const newApp = async (where: string) => {
    expect((await api().post(`/api/v1/namespaces/${where}/apps`).send({ name: 'app', source: { git: repo.dir, ref: 'main' }, builder: 'nodejs' })).status).toBe(201);
    const build = await eventually(`the build in ${where} to finish`, async () => {
      const res = await api().get(`/api/v1/namespaces/${where}/builds/app-1`);
      return ['Complete', 'Failed', 'Error', 'Cancelled'].includes(res.body.status?.phase) ? res.body : undefined;
    });
    expect(build.status.phase).toBe('Complete');
  };

  afterAll(async () => {
    for (const where of [...gone, namespace]) {
      await deleteNamespace(where);
      removeBuiltImages(where, ['app-1']);
    }
    repo.remove();
  });

  it("is mounted into a new app's repository, named after a deleted one, not uploaded again", async () => {
    repo.commitServer('hello from a mounted layer');
    for (const where of gone) await newApp(where);
    for (const where of gone) await deleteNamespace(where);

    await newApp(namespace);
    const log = (await api().get(`/api/v1/namespaces/${namespace}/builds/app-1/log`)).text;
    expect(log).toMatch(/: Mounted from e2e-gone-[a-z0-9]+\/app\n/);
  });
});

/**
 * The same for a user's own `docker push`: the engine names the three repositories it last
 * pushed the layer to, all deleted, and the registry mounts it from a repository the user may
 * pull (its push token names every repository of the namespaces it is bound in), never from
 * one it may not: an outsider's push uploads it.
 */
describe("a user's docker push of a layer whose last repositories are deleted", () => {
  const suffix = randomSuffix();
  const [base, target, other] = ['base', 'push', 'other'].map((name) => `e2e-${name}-${suffix}`);
  const gone = [1, 2, 3].map((i) => `e2e-gone${i}-${suffix}`);
  const [pusher, outsider] = ['pusher', 'outsider'].map((name) => ({ name: `${name}-${suffix}`, password: `pw-${name}-${suffix}-long-enough` }));
  const work = mkdtempSync(path.join(tmpdir(), 'paas-layer-mount-'));
  const image = (namespace: string) => `${REGISTRY}/${namespace}/layer:v1`;
  const dockerAs = (user: string, args: string[], input?: string) => run('docker', ['--config', path.join(work, user), ...args], input);
  const bind = (namespace: string, user: string, role: string) =>
    api().post(`/api/v1/namespaces/${namespace}/rolebindings`).send({ metadata: { name: `${user}-${role}` }, roleRef: { name: role }, subjects: [{ kind: 'User', name: user }] });

  beforeAll(async () => {
    for (const namespace of [base, target, other, ...gone]) expect((await api().post('/api/v1/namespaces').send({ metadata: { name: namespace } })).status).toBe(201);
    for (const user of [pusher, outsider]) expect((await api().post('/api/v1/users').send({ metadata: { name: user.name }, password: user.password })).status).toBe(201);
    expect((await bind(base, pusher.name, 'view')).status).toBe(201);
    expect((await bind(target, pusher.name, 'edit')).status).toBe(201);
    expect((await bind(other, outsider.name, 'edit')).status).toBe(201);
    // A layer of its own (2 MB no other test has): an upload of it cannot pass for a mount.
    const root = path.join(work, 'rootfs');
    mkdirSync(root);
    writeFileSync(path.join(root, 'payload'), randomBytes(2 << 20));
    await run('sh', ['-c', `tar -C "${root}" -c . | docker import --change 'LABEL ${LABEL}' - "${image(base)}"`]);
    for (const namespace of [target, other, ...gone]) await run('docker', ['tag', image(base), image(namespace)]);
    await dockerAs('admin', ['login', REGISTRY, '-u', 'admin', '--password-stdin'], adminPassword());
    for (const namespace of [base, ...gone]) await dockerAs('admin', ['push', image(namespace)]);
    for (const namespace of gone) await deleteNamespace(namespace);
  }, 120_000);

  afterAll(async () => {
    await run('sh', ['-c', `docker images -q --filter label=${LABEL} | sort -u | xargs -r docker rmi -f`]).catch(() => undefined);
    for (const user of [pusher, outsider]) await api().delete(`/api/v1/users/${user.name}`);
    for (const namespace of [base, target, other]) await deleteNamespace(namespace);
    rmSync(work, { recursive: true, force: true });
  });

  it('mounts it from a namespace the user may pull, not uploaded again', async () => {
    await dockerAs(pusher.name, ['login', REGISTRY, '-u', pusher.name, '--password-stdin'], pusher.password);
    expect(await dockerAs(pusher.name, ['push', image(target)])).toMatch(/: Mounted from e2e-gone\d-[a-z0-9]+\/layer\n/);
  }, 60_000);

  it('uploads it for a user who may pull no repository that holds it', async () => {
    await dockerAs(outsider.name, ['login', REGISTRY, '-u', outsider.name, '--password-stdin'], outsider.password);
    const pushed = await dockerAs(outsider.name, ['push', image(other)]);
    expect(pushed).toMatch(/: Pushed\n/);
    expect(pushed).not.toMatch(/Mounted from/);
  }, 60_000);
});
