import { eventually } from '@paas/platform/testing';
import { api, AppRepository, deleteNamespace, randomSuffix, removeBuiltImages } from './support';

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
