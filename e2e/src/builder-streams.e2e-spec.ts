import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '@paas/platform/config';
import { eventually } from '@paas/platform/testing';
import { adminPassword, api, AppRepository, deleteNamespace, engineArguments, randomSuffix, removeBuiltImages } from './support';

/**
 * A builder image kept in the platform's own registry, as a team shares one: pushed to an
 * ImageStream of the namespace, then named by a BuildConfig as `from: {kind: ImageStreamTag}`.
 * The build runs the image the tag points at, pulled to the build's node (no node has it by
 * that name: the pushed tag is removed from the host's engine first). Another namespace's apps
 * use it only while its namespace grants their builds pulls.
 */
describe('a builder from an ImageStreamTag of the platform registry', () => {
  const namespace = `builder-stream-e2e-${randomSuffix()}`;
  /** A namespace whose apps use the builder the first one shares. */
  const user = `${namespace}-user`;
  const registry = loadConfig().registryHost;
  const pushed = `${registry}/${namespace}/builders:node`;
  const dockerConfig = mkdtempSync(path.join(tmpdir(), 'paas-e2e-docker-'));
  const docker = (...args: string[]) => execFileSync('docker', args, { env: { ...process.env, DOCKER_CONFIG: dockerConfig }, encoding: 'utf8', input: args[0] === 'login' ? adminPassword() : undefined }).trim();
  const repo = new AppRepository();
  const buildConfig = (name: string, from: string) => ({
    metadata: { name },
    spec: {
      source: { git: { uri: repo.dir, ref: 'main' } },
      strategy: { sourceStrategy: { from: { kind: 'ImageStreamTag', name: from } } },
      output: { to: { kind: 'ImageStreamTag', name: `${name}:latest` } },
      triggers: [{ type: 'ConfigChange' }, { type: 'ImageChange' }],
    },
  });
  const finished = (name: string, where = namespace) =>
    eventually(`build ${name} to finish`, async () => {
      const res = await api().get(`/api/v1/namespaces/${where}/builds/${name}`);
      return ['Complete', 'Failed', 'Error'].includes(res.body?.status?.phase) ? res.body : undefined;
    });
  const tagImage = (tag: string, except?: string) =>
    eventually(`a new image on builders:${tag}`, async () => {
      const stream = await api().get(`/api/v1/namespaces/${namespace}/imagestreams/builders`);
      const image = stream.body?.status?.tags?.find((item: { tag: string }) => item.tag === tag)?.items?.[0]?.image as string | undefined;
      return image && image !== except ? image : undefined;
    });

  /**
   * A new builder image on the tag: the same one with a label more. Its local copy is removed
   * (`forgetPushed`) once the builds it starts are done: this engine is also the node `local`,
   * where those builds resolve and pull it, and an `rmi` of its tag there takes away the digest
   * reference a build has just pulled (a build resolves it anew once, not without end).
   */
  const pushRelease = (release: number) => {
    const container = docker('create', '--label', 'paas.dev/test=builder-stream-e2e', 'paas-builder/nodejs:latest');
    docker('commit', '--change', `LABEL paas.dev/builder-release=${release}`, container, pushed);
    docker('rm', container);
    docker('push', pushed);
  };
  const forgetPushed = () => docker('rmi', pushed);

  afterAll(async () => {
    await deleteNamespace(user);
    removeBuiltImages(user, ['hello-1', 'hello-2', 'hello-3']);
    await deleteNamespace(namespace);
    removeBuiltImages(namespace, ['app-1', 'app-2', 'app-3']);
    // A release a failed test did not get to forget (gone already otherwise).
    try {
      execFileSync('docker', ['rmi', pushed], { stdio: 'ignore' });
    } catch {
      // nothing left to remove
    }
    // The builder as each node pulled it, by digest: those references only (the first is the host's paas-builder/nodejs itself).
    for (const engine of engineArguments()) {
      const ids = execFileSync('docker', [...engine, 'images', '-q', '--filter', `reference=*/${namespace}/builders`], { encoding: 'utf8' }).split('\n').filter(Boolean);
      for (const id of new Set(ids)) {
        const digests = JSON.parse(execFileSync('docker', [...engine, 'image', 'inspect', '--format', '{{json .RepoDigests}}', id], { encoding: 'utf8' })) as string[];
        const references = digests.filter((reference) => reference.includes(`/${namespace}/builders@`));
        if (references.length) execFileSync('docker', [...engine, 'rmi', ...references], { stdio: 'ignore' });
      }
    }
    rmSync(dockerConfig, { recursive: true, force: true });
    repo.remove();
  });

  it("builds with the image the tag points at, pulled to the build's node, refuses a tag that is not there, and builds again when the tag gets a new image", async () => {
    repo.commitServer('built by a shared builder');
    expect((await api().post('/api/v1/namespaces').send({ metadata: { name: namespace } })).status).toBe(201);
    docker('login', registry, '-u', 'admin', '--password-stdin');
    docker('tag', 'paas-builder/nodejs:latest', pushed);
    docker('push', pushed);
    docker('rmi', pushed);
    const digest = await tagImage('node');

    const missing = await api().post(`/api/v1/namespaces/${namespace}/buildconfigs`).send(buildConfig('nothing', 'builders:gone'));
    expect(missing.status).toBe(422);
    expect(missing.body.details.causes).toEqual([expect.objectContaining({ field: 'spec.strategy.sourceStrategy.from.name', message: expect.stringContaining('"builders:gone" does not exist') })]);

    expect((await api().post(`/api/v1/namespaces/${namespace}/buildconfigs`).send(buildConfig('app', 'builders:node'))).status).toBe(201);
    expect((await finished('app-1')).status).toMatchObject({ phase: 'Complete' });
    const log = await api().get(`/api/v1/namespaces/${namespace}/builds/app-1/log`);
    expect(log.text).toContain(`/${namespace}/builders@${digest}\n`);

    // A new builder image on the tag rebuilds the app with it.
    pushRelease(2);
    const second = await tagImage('node', digest);
    const rebuilt = await finished('app-2');
    forgetPushed();
    expect(rebuilt.spec.triggeredBy).toEqual([{ message: `Image change: builders:node is now ${second}` }]);
    expect(rebuilt.status).toMatchObject({ phase: 'Complete' });
    expect((await api().get(`/api/v1/namespaces/${namespace}/builds/app-2/log`)).text).toContain(`/${namespace}/builders@${second}\n`);
    // One image, one build: nothing more is started.
    expect((await api().get(`/api/v1/namespaces/${namespace}/builds/app-3`)).status).toBe(404);
  });

  it("lets another namespace's apps build with it once its namespace grants their builds pulls (system:image-puller for <ns>:builder), rebuilds them on its new images, and stops them at once when the grant is taken back", async () => {
    const newApp = () => api().post(`/api/v1/namespaces/${user}/apps`).send({ name: 'hello', source: { git: repo.dir }, builder: `${namespace}/builders:node` });
    const refused = await newApp();
    expect(refused.status).toBe(422);
    expect(refused.body.message).toContain(`the builds of namespace ${user} may not pull ${namespace}/builders`);

    const grant = { metadata: { name: 'builds-of-user' }, roleRef: { name: 'system:image-puller' }, subjects: [{ kind: 'ServiceAccount', name: 'builder', namespace: user }] };
    expect((await api().post(`/api/v1/namespaces/${namespace}/rolebindings`).send(grant)).status).toBe(201);
    expect((await newApp()).status).toBe(201);
    const current = await tagImage('node');
    expect((await finished('hello-1', user)).status).toMatchObject({ phase: 'Complete' });
    expect((await api().get(`/api/v1/namespaces/${user}/builds/hello-1/log`)).text).toContain(`/${namespace}/builders@${current}\n`);

    // A new image on the shared tag rebuilds the apps of both namespaces.
    pushRelease(3);
    const third = await tagImage('node', current);
    const rebuilt = await finished('hello-2', user);
    expect(rebuilt.spec.triggeredBy).toEqual([{ message: `Image change: ${namespace}/builders:node is now ${third}` }]);
    expect(rebuilt.status).toMatchObject({ phase: 'Complete' });
    expect((await finished('app-3')).status).toMatchObject({ phase: 'Complete' });
    forgetPushed();

    // Taken back: the next build fails, though its node has the image by now.
    expect((await api().delete(`/api/v1/namespaces/${namespace}/rolebindings/builds-of-user`)).status).toBe(200);
    expect((await api().post(`/api/v1/namespaces/${user}/buildconfigs/hello/instantiate`).send({})).status).toBe(201);
    expect((await finished('hello-3', user)).status).toMatchObject({ phase: 'Failed', reason: 'BuilderImageNotFound', message: expect.stringContaining(`the builds of namespace ${user} may not pull ${namespace}/builders`) });
  });
});
