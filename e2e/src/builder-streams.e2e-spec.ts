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
 * that name: the pushed tag is removed from the host's engine first).
 */
describe('a builder from an ImageStreamTag of the platform registry', () => {
  const namespace = `builder-stream-e2e-${randomSuffix()}`;
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
    },
  });

  afterAll(async () => {
    await deleteNamespace(namespace);
    removeBuiltImages(namespace, ['app-1']);
    // The builder as each node pulled it, by digest.
    for (const engine of engineArguments()) {
      const ids = execFileSync('docker', [...engine, 'images', '-q', '--filter', `reference=*/${namespace}/builders`], { encoding: 'utf8' }).split('\n').filter(Boolean);
      if (ids.length) execFileSync('docker', [...engine, 'rmi', '-f', ...new Set(ids)], { stdio: 'ignore' });
    }
    rmSync(dockerConfig, { recursive: true, force: true });
    repo.remove();
  });

  it("builds with the image the tag points at, pulled to the build's node, and refuses a tag that is not there", async () => {
    repo.commitServer('built by a shared builder');
    expect((await api().post('/api/v1/namespaces').send({ metadata: { name: namespace } })).status).toBe(201);
    docker('login', registry, '-u', 'admin', '--password-stdin');
    docker('tag', 'paas-builder/nodejs:latest', pushed);
    docker('push', pushed);
    docker('rmi', pushed);
    const digest = await eventually('the pushed builder in its ImageStream', async () => {
      const stream = await api().get(`/api/v1/namespaces/${namespace}/imagestreams/builders`);
      return stream.body?.status?.tags?.find((tag: { tag: string }) => tag.tag === 'node')?.items?.[0]?.image as string | undefined;
    });

    const missing = await api().post(`/api/v1/namespaces/${namespace}/buildconfigs`).send(buildConfig('nothing', 'builders:gone'));
    expect(missing.status).toBe(422);
    expect(missing.body.details.causes).toEqual([expect.objectContaining({ field: 'spec.strategy.sourceStrategy.from.name', message: expect.stringContaining('"builders:gone" does not exist') })]);

    expect((await api().post(`/api/v1/namespaces/${namespace}/buildconfigs`).send(buildConfig('app', 'builders:node'))).status).toBe(201);
    const build = await eventually('the build to finish', async () => {
      const res = await api().get(`/api/v1/namespaces/${namespace}/builds/app-1`);
      return ['Complete', 'Failed', 'Error'].includes(res.body?.status?.phase) ? res.body : undefined;
    });
    expect(build.status).toMatchObject({ phase: 'Complete' });
    const log = await api().get(`/api/v1/namespaces/${namespace}/builds/app-1/log`);
    expect(log.text).toContain(`/${namespace}/builders@${digest}\n`);
  });
});
