import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { busConnectionOptions } from '@paas/platform/bus-settings';
import { dockerFor } from '@paas/platform/docker-engines';
import { RegistryTokenClient } from '@paas/platform/registry-tokens';
import { dropIsolatedBus, eventually, isolateBus, relayToPlatform } from '@paas/platform/testing';
import { connect, type NatsConnection } from 'nats';
import { NATS_CONNECTION } from '@paas/platform/tokens';
import Docker from 'dockerode';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TERMINAL_BUILD_PHASES, type Build } from '@paas/contracts/builds';
import type { EventEnvelope } from '@paas/contracts/events';
import { loadConfig } from '@paas/platform/config';
import { EventBus } from '@paas/platform/events';
import { RpcClient } from '@paas/platform/rpc';
import { BUILDER_CATALOG } from '../src/build-settings';
import { ATTEMPT_ANNOTATION } from '../src/builds/build-attempts';
import { AppModule } from '../src/app.module';
import { runningNodes, ServedNodes, type RunningNode } from './support/served-nodes';

// The running platform's registry (a copy's follows its PAAS_PORT_OFFSET).
const REGISTRY_HOST = loadConfig().registryHost;

/**
 * The containers of build `key` (`<ns>.<name>`: its assemble's, its save-artifacts' and its
 * post-commit hook's) on an engine, by name: a builder container started ahead and claimed by
 * the build keeps the label it was made with (`paas.dev/build=warm`).
 */
const buildContainers = (engine: Docker, key: string) => engine.listContainers({ all: true, filters: { name: [`^/paas-build-${key.replace(/\./g, '\\.')}(-save-artifacts|-post-commit)?$`] } });
process.env.REGISTRY_HOST = REGISTRY_HOST;
// A build with no node to run on fails after this long (the default is minutes).
process.env.BUILD_NODE_WAIT_MS = '4000';

/** A git repository with one commit of `files` (paths; those in a `bin` directory executable); answers its path and the commit id. */
function gitRepo(files: Record<string, string>): { dir: string; commit: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'paas-build-int-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content, { mode: name.includes('/bin/') ? 0o755 : 0o644 });
  }
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', ...args], { cwd: dir }).toString().trim();
  git('init', '--quiet', '--initial-branch=main');
  git('add', '.');
  git('commit', '--quiet', '-m', 'first commit');
  return { dir, commit: git('rev-parse', 'HEAD') };
}

function buildConfig(name: string, uri: string, overrides: { ref?: string; builder?: string; env?: { name: string; value: string }[] } = {}) {
  return {
    metadata: { name, labels: { 'paas.dev/test': 'build-service' } },
    spec: {
      source: { git: { uri, ref: overrides.ref ?? 'main' } },
      strategy: { sourceStrategy: { from: { kind: 'Builder', name: overrides.builder ?? 'nodejs' }, env: overrides.env ?? [] } },
      output: { to: { kind: 'ImageStreamTag', name: `${name}:latest` } },
    },
  };
}

/** Shell lines an assemble script prints whom it runs as with: uid, effective capabilities, no_new_privs (from /proc, no tools needed). */
const WHO_AM_I = `while read -r key value; do case $key in Uid:|CapEff:|NoNewPrivs:) printf '%s %s ' "$key" "$(echo $value)";; esac; done < /proc/self/status; echo\n`;

/**
 * A repository with a dependency, and the env that points npm at a registry that refuses at
 * once (port 9, discard): npm still retries for several seconds before it gives up, so its
 * build is caught assembling, then fails.
 */
function unreachableDependencyRepo(name: string): { dir: string; commit: string } {
  return gitRepo({
    'package.json': JSON.stringify({ name, version: '1.0.0', dependencies: { 'left-pad': '1.3.0' } }),
    'server.js': "require('http').createServer((req, res) => res.end('x')).listen(process.env.PORT);\n",
  });
}
const UNREACHABLE_NPM_REGISTRY = [{ name: 'NPM_CONFIG_REGISTRY', value: 'http://127.0.0.1:9/' }];

describe('build-service against real NATS, FerretDB, Docker engines and a registry', () => {
  const namespace = `bt-${randomUUID().slice(0, 8)}`;
  const docker = new Docker();
  const engines = runningNodes();
  const local = engines.find((node) => node.name === 'local') as RunningNode;
  const node1 = engines.find((node) => node.name === 'node-1');
  let testBus: NatsConnection;
  let nodes: ServedNodes;
  const repos: string[] = [];
  let app: INestApplicationContext;
  let rpc: RpcClient;
  const completed: EventEnvelope<'build.completed'>[] = [];

  async function finished(name: string): Promise<Build> {
    const deadline = Date.now() + 150_000;
    for (;;) {
      const build = await rpc.request('builds.get', { namespace, name });
      if (TERMINAL_BUILD_PHASES.includes(build.status.phase) || Date.now() > deadline) return build;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  async function fullLog(name: string): Promise<string> {
    let log = '';
    for (let offset = 0; ; ) {
      const chunk = await rpc.request('builds.log', { namespace, name, offset });
      if (!chunk.log) return log;
      log += chunk.log;
      offset = chunk.nextOffset;
    }
  }

  beforeAll(async () => {
    isolateBus('build');
    // The deploy-service's nodes.* and Node changes, played by the test: the host's engine first, node-1 cordoned.
    testBus = await connect(busConnectionOptions('integration-test'));
    nodes = new ServedNodes(testBus);
    nodes.set(local);
    if (node1) nodes.set(node1, { unschedulable: true });
    app = await NestFactory.createApplicationContext(AppModule, { logger: false });
    await app.init();
    rpc = app.get(RpcClient);
    // Registry tokens come from the running platform's api-gateway, and what a stream tag points at from its registry-service, as they would in production.
    relayToPlatform(app.get(NATS_CONNECTION), 'auth.registryToken');
    relayToPlatform(app.get(NATS_CONNECTION), 'imagestreamtags.get');
    await app.get(EventBus).subscribe('build.completed', async (event) => void (event.data.namespace === namespace && completed.push(event)), { everyReplica: true });
  });

  afterAll(async () => {
    for (const name of ['app', 'broken', 'own', 'refusing', 'slow', 'ahead', 'rooted', 'hooked', 'unhooked', 'nodeps', 'remote', 'lost', 'docker', 'dockerfail', 'nodockerfile', 'incremental', 'limited', 'site']) await rpc?.request('buildconfigs.delete', { namespace, name }).catch(() => undefined);
    for (const engine of [docker, ...(node1 ? [dockerFor({ url: node1.engineUrl, tlsDir: node1.tlsDir })] : [])]) {
      const containers = await engine.listContainers({ all: true, filters: { name: [`^/paas-build-${namespace}\\.`] } });
      for (const container of containers) await engine.getContainer(container.Id).remove({ force: true }).catch(() => undefined);
      const images = await engine.listImages({ filters: { label: ['paas.dev/build'] } });
      for (const image of images.filter((i) => i.Labels?.['paas.dev/build']?.startsWith(`${namespace}.`))) {
        await engine.getImage(image.Id).remove({ force: true }).catch(() => undefined);
      }
    }
    nodes?.stop();
    await testBus?.drain();
    for (const dir of repos) rmSync(dir, { recursive: true, force: true });
    if (app) await dropIsolatedBus(app.get(NATS_CONNECTION));
    await app?.close();
  });

  it('builds a git repository into an image with the s2i labels and pushes it', async () => {
    const repo = gitRepo({
      'package.json': JSON.stringify({ name: 'hello', version: '1.0.0', scripts: { start: 'node server.js' } }),
      'server.js': "require('http').createServer((req, res) => res.end('hello')).listen(process.env.PORT || 8080);\n",
    });
    repos.push(repo.dir);

    const bc = await rpc.request('buildconfigs.create', { namespace, body: buildConfig('app', repo.dir) });
    expect(bc.status.lastVersion).toBe(1);

    const build = await finished('app-1');
    expect(build.status).toMatchObject({ phase: 'Complete', outputDockerImageReference: `${REGISTRY_HOST}/${namespace}/app:latest` });
    expect(build.status.stages.map((s) => s.name)).toEqual(['FetchSource', 'Assemble', 'Commit', 'Push']);
    expect(build.status.stages.every((s) => s.durationMilliseconds >= 0 && !Number.isNaN(Date.parse(s.startTime)))).toBe(true);
    expect(build.status.output?.to.imageDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(build.spec.revision).toMatchObject({ commit: repo.commit, message: 'first commit' });

    expect(build.status.nodeName).toBe('local');
    const log = await fullLog('app-1');
    expect(log).toContain(`---> Building on node local (${local.engineUrl})`);
    expect(log).toContain('---> Installing application source');
    expect(log).toContain('---> Build complete');
    expect(log).toContain(`Push successful: ${build.status.output?.to.imageDigest}`);

    const image = await docker.getImage(`${REGISTRY_HOST}/${namespace}/app:latest`).inspect();
    expect(image.Config.Cmd).toEqual(['/usr/libexec/s2i/run']);
    expect(image.Config.User).toBe('1001');
    expect(Object.keys(image.Config.ExposedPorts ?? {})).toContain('8080/tcp');
    expect(image.Config.Labels).toMatchObject({
      'io.openshift.build.image': 'paas-builder/nodejs:latest',
      'io.openshift.build.commit.id': repo.commit,
      'io.openshift.build.source-location': repo.dir,
      'io.openshift.s2i.scripts-url': 'image:///usr/libexec/s2i',
      'paas.dev/build': `${namespace}.app-1`,
    });
    expect(await buildContainers(docker, `${namespace}.app-1`)).toEqual([]);

    const deadline = Date.now() + 10_000;
    while (!completed.length && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(completed[0]?.data).toEqual({
      namespace,
      name: 'app-1',
      uid: build.metadata.uid,
      buildConfig: 'app',
      output: { imageStreamTag: 'app:latest', digest: build.status.output?.to.imageDigest, dockerImageReference: `${REGISTRY_HOST}/${namespace}/app@${build.status.output?.to.imageDigest}` },
    });
  });

  it('numbers builds started by instantiate and lists them by build config', async () => {
    const second = await rpc.request('buildconfigs.instantiate', { namespace, name: 'app', message: 'again' });
    expect(second.metadata.name).toBe('app-2');
    expect(second.spec.triggeredBy).toEqual([{ message: 'again' }]);
    expect((await finished('app-2')).status.phase).toBe('Complete');
    const listed = await rpc.request('builds.list', { namespace, labelSelector: 'buildconfig=app' });
    expect(listed.items.map((b) => b.metadata.name)).toEqual(['app-1', 'app-2']);

    const bc = await rpc.request('buildconfigs.get', { namespace, name: 'app' });
    expect(bc.status.lastVersion).toBe(2);
    const body = { metadata: { ...bc.metadata, labels: { ...bc.metadata.labels, tier: 'web' } }, spec: bc.spec };
    const updated = await rpc.request('buildconfigs.update', { namespace, name: 'app', body });
    expect(updated.metadata.labels).toMatchObject({ tier: 'web' });
    await expect(rpc.request('buildconfigs.update', { namespace, name: 'app', body })).rejects.toMatchObject({ status: { code: 409, reason: 'Conflict' } });
    await expect(rpc.request('builds.log', { namespace, name: 'app-1', offset: -1 })).rejects.toMatchObject({ status: { code: 422, details: { causes: [{ field: 'offset' }] } } });
  });

  it('fails a build whose assemble fails, with the reason and the log', async () => {
    const repo = gitRepo({ 'README.md': 'nothing to run here\n' });
    repos.push(repo.dir);
    await rpc.request('buildconfigs.create', { namespace, body: buildConfig('broken', repo.dir) });

    const build = await finished('broken-1');
    expect(build.status).toMatchObject({ phase: 'Failed', reason: 'AssembleFailed' });
    expect(build.status.message).toContain('assemble exited with code');
    expect(build.status.stages.map((s) => s.name)).toEqual(['FetchSource', 'Assemble']);
    const log = await fullLog('broken-1');
    expect(log).toContain('---> Build FAILED');
    expect(await buildContainers(docker, `${namespace}.broken-1`)).toEqual([]);
  });

  it("follows the s2i contract: the source's own .s2i/bin scripts, .s2i/environment, .s2iignore and contextDir; its own failing assemble fails the build", async () => {
    const own = gitRepo({
      'README.md': 'the app is in web/\n',
      'web/.s2i/bin/assemble': `#!/bin/sh\nset -e\necho "own assemble, greeting $GREETING (assemble=$assemble)"\n${WHO_AM_I}cp -R /tmp/src/. ./\n`,
      'web/.s2i/bin/run': '#!/bin/sh\necho "own run: $GREETING; files: $(ls -A | tr \'\\n\' \' \')"\n',
      // A variable named as the builder container's own shell variables changes nothing of its work.
      'web/.s2i/environment': '# set for assemble and kept in the image\nGREETING=hello from the source\nassemble=/bin/false\n',
      'web/.s2iignore': '*.log\nsecrets\n',
      'web/index.html': 'hi\n',
      'web/debug.log': 'left out\n',
      'web/secrets/key': 'left out\n',
    });
    const failing = gitRepo({ '.s2i/bin/assemble': '#!/bin/sh\necho "refusing on purpose"\nexit 7\n', 'package.json': '{"name":"x","version":"1.0.0"}' });
    repos.push(own.dir, failing.dir);
    const ownConfig = buildConfig('own', own.dir);
    await rpc.request('buildconfigs.create', { namespace, body: { ...ownConfig, spec: { ...ownConfig.spec, source: { ...ownConfig.spec.source, contextDir: 'web' } } } });
    await rpc.request('buildconfigs.create', { namespace, body: buildConfig('refusing', failing.dir) });

    const built = await finished('own-1');
    expect(built.status.phase).toBe('Complete');
    const log = await fullLog('own-1');
    expect(log).toContain("---> Using the source's .s2i/bin scripts (assemble, run)");
    expect(log).toContain('own assemble, greeting hello from the source (assemble=/bin/false)');
    // Not root, no capabilities, no way to gain privileges.
    expect(log).toMatch(/Uid: 1001\s.*CapEff: 0{16} .*NoNewPrivs: 1 /);
    const reference = `${REGISTRY_HOST}/${namespace}/own:latest`;
    const image = await docker.getImage(reference).inspect();
    expect(image.Config.Cmd).toEqual(['/tmp/scripts/run']);
    expect(image.Config.Labels).toMatchObject({ 'io.openshift.build.source-context-dir': 'web', 'io.openshift.build.commit.ref': 'main', 'io.openshift.build.name': 'own-1' });
    const output = execFileSync('docker', ['run', '--rm', reference], { encoding: 'utf8' });
    expect(output).toBe('own run: hello from the source; files: .s2i .s2iignore index.html \n');

    const refused = await finished('refusing-1');
    expect(refused.status).toMatchObject({ phase: 'Failed', reason: 'AssembleFailed', message: expect.stringContaining('assemble exited with code 7') });
    expect(await fullLog('refusing-1')).toContain('refusing on purpose');
  });

  it('cancels a build in its assemble: the container is stopped and removed, the build ends Cancelled, and a second cancel is a 400', async () => {
    const slow = gitRepo({ '.s2i/bin/assemble': '#!/bin/sh\necho "assembling slowly"\nexec sleep 300\n', 'package.json': '{"name":"x","version":"1.0.0"}' });
    repos.push(slow.dir);
    await rpc.request('buildconfigs.create', { namespace, body: buildConfig('slow', slow.dir) });
    const containerOf = () => buildContainers(docker, `${namespace}.slow-1`);
    await eventually('the assemble container of slow-1 to run', async () => ((await fullLog('slow-1')).includes('assembling slowly') && (await containerOf()).length === 1 ? true : undefined), 60_000, 200);

    const cancelled = await rpc.request('builds.cancel', { namespace, name: 'slow-1' });
    expect(cancelled.status).toMatchObject({ phase: 'Running', cancelled: true });
    const build = await eventually('slow-1 to end', async () => {
      const current = await rpc.request('builds.get', { namespace, name: 'slow-1' });
      return TERMINAL_BUILD_PHASES.includes(current.status.phase) ? current : undefined;
    }, 30_000, 200);
    expect(build.status).toMatchObject({ phase: 'Cancelled', reason: 'CancelledBuild', message: 'The build was cancelled by the user.' });
    expect(await containerOf()).toEqual([]);
    expect(await fullLog('slow-1')).toContain('---> The build was cancelled by the user.');
    await expect(rpc.request('builds.cancel', { namespace, name: 'slow-1' })).rejects.toMatchObject({ status: { code: 400 } });
    await expect(rpc.request('builds.cancel', { namespace, name: 'ghost-1' })).rejects.toMatchObject({ status: { code: 404 } });
  });

  it("runs the next build of a catalog builder on the node in the builder container started after the last one there, with the BuildConfig's variables", async () => {
    // This process's own (the instance label): the builds above left one waiting for the next nodejs build on local.
    const waiting = () => docker.listContainers({ all: true, filters: { name: ['^/paas-build-warm-'], label: [`paas.dev/instance=${loadConfig().instance}`] } });
    const [ahead] = await eventually('a builder container to wait for the next build', async () => ((await waiting()).length ? waiting() : undefined), 30_000, 200);
    const repo = gitRepo({ '.s2i/bin/assemble': '#!/bin/sh\necho "GREETING is $GREETING"\nexec sleep 300\n', 'package.json': '{"name":"x","version":"1.0.0"}' });
    repos.push(repo.dir);
    await rpc.request('buildconfigs.create', { namespace, body: buildConfig('ahead', repo.dir, { env: [{ name: 'GREETING', value: 'hello from the BuildConfig' }] }) });

    const running = await eventually('ahead-1 to assemble', async () => {
      const [container] = await buildContainers(docker, `${namespace}.ahead-1`);
      return container && (await fullLog('ahead-1')).includes('GREETING is hello from the BuildConfig') ? container : undefined;
    }, 60_000, 200);
    // The same container, renamed the build's.
    expect(running.Id).toBe(ahead.Id);
    await rpc.request('builds.cancel', { namespace, name: 'ahead-1' });
    expect((await finished('ahead-1')).status.phase).toBe('Cancelled');
    // Its assemble over, another waits for the build after.
    await eventually('another builder container to wait', async () => ((await waiting()).some((container) => container.Id !== ahead.Id) ? true : undefined), 30_000, 200);
  });

  it('runs the assemble of a builder image that says root as 1001, saying so, and commits the image to run as 1001', async () => {
    const rootBuilder = `paas-test/root-builder-${namespace}:latest`;
    const container = execFileSync('docker', ['create', BUILDER_CATALOG.nodejs], { encoding: 'utf8' }).trim();
    try {
      execFileSync('docker', ['commit', '--change', 'USER root', '--change', `LABEL paas.dev/build=${namespace}.root-builder`, container, rootBuilder]);
    } finally {
      execFileSync('docker', ['rm', container]);
    }
    const repo = gitRepo({ '.s2i/bin/assemble': `#!/bin/sh\n${WHO_AM_I}cp -R /tmp/src/. ./\n`, 'server.js': 'console.log("x")\n' });
    repos.push(repo.dir);
    const config = buildConfig('rooted', repo.dir);
    await rpc.request('buildconfigs.create', { namespace, body: { ...config, spec: { ...config.spec, strategy: { sourceStrategy: { from: { kind: 'DockerImage', name: rootBuilder }, env: [] } } } } });

    const build = await finished('rooted-1');
    expect(build.status.phase).toBe('Complete');
    const log = await fullLog('rooted-1');
    expect(log).toContain('the builder image would run assemble as "root"; builds never run as root: running it as 1001');
    expect(log).toMatch(/Uid: 1001\s.*CapEff: 0{16} .*NoNewPrivs: 1 /);
    expect((await docker.getImage(`${REGISTRY_HOST}/${namespace}/rooted:latest`).inspect()).Config.User).toBe('1001');
  });

  it("runs the postCommit hook in the new image before the push: a passing one is a stage of a Complete build, a failing one fails it unpushed", async () => {
    const repo = gitRepo({ 'server.js': 'console.log("hi")\n', 'package.json': '{"name":"hooked","version":"1.0.0"}', 'test.sh': 'echo "hook sees $(ls | tr \'\\n\' \' \')as $(id -u)"\n' });
    repos.push(repo.dir);
    const hooked = (name: string, postCommit: object) => {
      const config = buildConfig(name, repo.dir);
      return { ...config, spec: { ...config.spec, postCommit } };
    };
    await rpc.request('buildconfigs.create', { namespace, body: hooked('hooked', { script: 'sh test.sh' }) });
    await rpc.request('buildconfigs.create', { namespace, body: hooked('unhooked', { command: ['sh', '-c'], args: ['echo "failing on purpose"; exit 3'] }) });

    const passed = await finished('hooked-1');
    expect(passed.status.phase).toBe('Complete');
    expect(passed.status.stages.map((stage) => stage.name)).toEqual(['FetchSource', 'Assemble', 'Commit', 'PostCommit', 'Push']);
    expect(await fullLog('hooked-1')).toMatch(/---> Running the post-commit hook in \S+\/hooked:latest\nhook sees .*server\.js .*as 1001\n/);

    const failed = await finished('unhooked-1');
    expect(failed.status).toMatchObject({ phase: 'Failed', reason: 'PostCommitHookFailed', message: expect.stringContaining('exited with code 3') });
    expect(await fullLog('unhooked-1')).toContain('failing on purpose');
    expect(failed.status.stages.map((stage) => stage.name)).toEqual(['FetchSource', 'Assemble', 'Commit', 'PostCommit']);
    expect(await buildContainers(docker, `${namespace}.unhooked-1`)).toEqual([]);
  });

  it("builds incrementally: the previous image's save-artifacts output reaches the next assemble in /tmp/artifacts, pulled when the node lacks it, and its container is removed", async () => {
    const repo = gitRepo({
      '.s2i/bin/assemble': [
        '#!/bin/sh',
        'set -e',
        'cp -R /tmp/src/. ./',
        'if [ -f /tmp/artifacts/count ]; then n=$(( $(cat /tmp/artifacts/count) + 1 )); else n=1; fi',
        'echo "build number $n"',
        'echo "$n" > count',
        '',
      ].join('\n'),
      '.s2i/bin/save-artifacts': '#!/bin/sh\ncd /opt/app-root/src && tar -cf - count\n',
      '.s2i/bin/run': '#!/bin/sh\ncat count\n',
    });
    repos.push(repo.dir);
    const config = buildConfig('incremental', repo.dir);
    await rpc.request('buildconfigs.create', {
      namespace,
      body: { ...config, spec: { ...config.spec, strategy: { sourceStrategy: { ...config.spec.strategy.sourceStrategy, incremental: true } } } },
    });
    expect((await finished('incremental-1')).status).toMatchObject({ phase: 'Complete' });
    expect(await fullLog('incremental-1')).toMatch(/Incremental build: \S+\/incremental:latest has no image yet, building in full[^]*build number 1\n/);

    await rpc.request('buildconfigs.instantiate', { namespace, name: 'incremental' });
    expect((await finished('incremental-2')).status).toMatchObject({ phase: 'Complete' });
    expect(await fullLog('incremental-2')).toMatch(/Incremental build: saving artifacts with \/tmp\/scripts\/save-artifacts of the previous image[^]*build number 2\n/);
    const reference = `${REGISTRY_HOST}/${namespace}/incremental:latest`;
    expect(execFileSync('docker', ['run', '--rm', '--label', 'paas.dev/test=build-service', reference]).toString()).toBe('2\n');
    expect(await buildContainers(docker, `${namespace}.incremental-2`)).toEqual([]);

    // As if the next build ran on another node: the engine no longer has the previous image, which comes from the registry.
    await docker.getImage((await docker.getImage(reference).inspect()).Id).remove({ force: true });
    await rpc.request('buildconfigs.instantiate', { namespace, name: 'incremental' });
    expect((await finished('incremental-3')).status).toMatchObject({ phase: 'Complete' });
    expect(await fullLog('incremental-3')).toMatch(/Incremental build: pulling the previous image \S+\/incremental@sha256:\w+ to node local\n[^]*build number 3\n/);
    expect(execFileSync('docker', ['run', '--rm', '--label', 'paas.dev/test=build-service', reference]).toString()).toBe('3\n');

    // A save-artifacts that writes half a tar and fails, met by an assemble already reading it: that assemble is stopped and made again in full.
    writeFileSync(path.join(repo.dir, '.s2i/bin/save-artifacts'), '#!/bin/sh\nhead -c 1536 /dev/zero\nexit 3\n', { mode: 0o755 });
    execFileSync('git', ['-c', 'user.name=Test', '-c', 'user.email=test@example.com', 'commit', '--quiet', '-am', 'a failing save-artifacts'], { cwd: repo.dir });
    await rpc.request('buildconfigs.instantiate', { namespace, name: 'incremental' });
    expect((await finished('incremental-4')).status).toMatchObject({ phase: 'Complete' });
    await rpc.request('buildconfigs.instantiate', { namespace, name: 'incremental' });
    expect((await finished('incremental-5')).status).toMatchObject({ phase: 'Complete' });
    expect(await fullLog('incremental-5')).toMatch(/Incremental build: \/tmp\/scripts\/save-artifacts exited with code 3, building in full\n[^]*build number 1\n/);
    expect(await buildContainers(docker, `${namespace}.incremental-5`)).toEqual([]);
  });

  it("runs assemble with the BuildConfig's memory and CPU limits, and without a network when it says so", async () => {
    const repo = gitRepo({
      '.s2i/bin/assemble': [
        '#!/bin/sh',
        'echo "memory limit $(cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes)"',
        'echo "cpu $(cat /sys/fs/cgroup/cpu.max 2>/dev/null || echo "$(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us) $(cat /sys/fs/cgroup/cpu/cpu.cfs_period_us)")"',
        'echo "interfaces: $(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " " | tr "\\n" " ")"',
        '',
      ].join('\n'),
      '.s2i/bin/run': '#!/bin/sh\n',
    });
    repos.push(repo.dir);
    const config = buildConfig('limited', repo.dir);
    await rpc.request('buildconfigs.create', { namespace, body: { ...config, spec: { ...config.spec, resources: { limits: { memory: '256Mi', cpu: '500m' } }, network: 'Disabled' } } });
    expect((await finished('limited-1')).status).toMatchObject({ phase: 'Complete' });
    const log = await fullLog('limited-1');
    expect(log).toContain(`memory limit ${256 * 1024 ** 2}\n`);
    expect(log).toMatch(/cpu 50000 100000\n/);
    expect(log).toContain('interfaces: lo \n');
    await expect(rpc.request('buildconfigs.create', { namespace, body: { ...config, metadata: { name: 'tiny' }, spec: { ...config.spec, resources: { limits: { memory: '1Mi' } } } } })).rejects.toMatchObject({
      status: { code: 422, details: { causes: [{ field: 'spec.resources.limits.memory' }] } },
    });
  });

  /** Runs the pushed image of `stream` as a pod would and answers what `urlPath` says. */
  async function servedBy(stream: string, urlPath: string): Promise<string> {
    const reference = `${REGISTRY_HOST}/${namespace}/${stream}:latest`;
    const container = await docker.createContainer({ Image: reference, Labels: { 'paas.dev/test': 'build-service' }, HostConfig: { Init: true, PortBindings: { '8080/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }] } } });
    try {
      await container.start();
      const port = (await container.inspect()).NetworkSettings.Ports['8080/tcp']?.[0]?.HostPort;
      return await eventually(`${stream} to answer`, async () => {
        const res = await fetch(`http://127.0.0.1:${port}${urlPath}`).catch(() => undefined);
        return res?.ok ? res.text() : undefined;
      }, 10_000, 100);
    } finally {
      await container.remove({ force: true });
    }
  }

  it('builds a static site with the static builder, served by its run from the directory that holds index.html', async () => {
    const repo = gitRepo({ 'README.md': 'the site is in public/\n', 'public/index.html': '<h1>static site</h1>\n', 'public/style.css': 'h1 { color: teal }\n' });
    repos.push(repo.dir);
    await rpc.request('buildconfigs.create', { namespace, body: buildConfig('site', repo.dir, { builder: 'static' }) });
    expect((await finished('site-1')).status).toMatchObject({ phase: 'Complete' });
    expect(await fullLog('site-1')).toContain('---> Serving /opt/app-root/src/public');
    expect(await servedBy('site', '/style.css')).toBe('h1 { color: teal }\n');
  });

  it('builds a Python app with the python builder (a Debian root, not busybox), its .s2i/environment kept for run', async () => {
    const repo = gitRepo({
      '.s2i/environment': 'GREETING=hello from python\n',
      'app.py': 'import os\nfrom http.server import BaseHTTPRequestHandler, HTTPServer\n\nclass Hello(BaseHTTPRequestHandler):\n    def do_GET(self):\n        self.send_response(200)\n        self.end_headers()\n        self.wfile.write(os.environ["GREETING"].encode())\n\nHTTPServer(("", int(os.environ["PORT"])), Hello).serve_forever()\n',
    });
    repos.push(repo.dir);
    await rpc.request('buildconfigs.create', { namespace, body: buildConfig('py', repo.dir, { builder: 'python' }) });
    expect((await finished('py-1')).status).toMatchObject({ phase: 'Complete' });
    expect(await fullLog('py-1')).toContain('---> Run command: python app.py');
    expect(await servedBy('py', '/')).toBe('hello from python');
  });

  it("builds a repository's Dockerfile (Docker strategy) with its build args, labelled as s2i builds are; a failing step or a missing Dockerfile fails the build with its reason", async () => {
    const repo = gitRepo({
      'README.md': 'the app is in web/\n',
      'web/Dockerfile': [
        'FROM paas-builder/nodejs:latest',
        'ARG GREETING=unset',
        'COPY --chown=1001:0 . /opt/app-root/src/',
        'RUN echo "$GREETING" > greeting.txt && echo "greeting written as $(id -u)"',
        'CMD ["node", "server.js"]',
        '',
      ].join('\n'),
      'web/package.json': JSON.stringify({ name: 'docker-app', version: '1.0.0' }),
      'web/server.js': "require('http').createServer((req, res) => res.end('from a Dockerfile')).listen(process.env.PORT || 8080);\n",
      'failing/Dockerfile': 'FROM paas-builder/nodejs:latest\nRUN echo "about to fail" && exit 3\n',
    });
    repos.push(repo.dir);
    await expect(rpc.request('buildconfigs.detect', { git: repo.dir, ref: 'main', contextDir: 'web' })).resolves.toEqual({ type: 'Docker', because: 'Dockerfile' });
    await expect(rpc.request('buildconfigs.detect', { git: repo.dir, ref: 'main', contextDir: 'web', strategy: 'Source' })).resolves.toMatchObject({ type: 'Source', builder: 'nodejs' });
    const dockerConfig = (name: string, contextDir: string, dockerStrategy: object = {}) => {
      const config = buildConfig(name, repo.dir);
      return { ...config, spec: { ...config.spec, source: { ...config.spec.source, contextDir }, strategy: { type: 'Docker', dockerStrategy } } };
    };
    await rpc.request('buildconfigs.create', { namespace, body: dockerConfig('docker', 'web', { buildArgs: [{ name: 'GREETING', value: 'hi from a build arg' }] }) });
    await rpc.request('buildconfigs.create', { namespace, body: dockerConfig('dockerfail', 'failing') });
    await rpc.request('buildconfigs.create', { namespace, body: dockerConfig('nodockerfile', 'web', { dockerfilePath: 'build/Dockerfile' }) });

    const built = await finished('docker-1');
    expect(built.status).toMatchObject({ phase: 'Complete' });
    expect(built.status.stages.map((s) => s.name)).toEqual(['FetchSource', 'Build', 'Push']);
    expect(await fullLog('docker-1')).toMatch(/Step 4\/5 : RUN echo[^]*greeting written as 1001[^]*Push successful/);
    const reference = `${REGISTRY_HOST}/${namespace}/docker:latest`;
    const image = await docker.getImage(reference).inspect();
    expect(image.Config.Cmd).toEqual(['node', 'server.js']);
    expect(image.Config.User).toBe('1001');
    expect(image.Config.Labels).toMatchObject({ 'io.openshift.build.commit.id': repo.commit, 'io.openshift.build.source-context-dir': 'web', 'paas.dev/build': `${namespace}.docker-1`, 'paas.dev/managed-by': 'build-service' });
    const greeting = execFileSync('docker', ['run', '--rm', '--label', 'paas.dev/test=build-service', '--entrypoint', 'cat', reference, 'greeting.txt']).toString();
    expect(greeting).toBe('hi from a build arg\n');
    expect(await buildContainers(docker, `${namespace}.docker-1`)).toEqual([]);

    const failed = await finished('dockerfail-1');
    expect(failed.status).toMatchObject({ phase: 'Failed', reason: 'DockerBuildFailed', message: expect.stringContaining('returned a non-zero code: 3') });
    expect(await fullLog('dockerfail-1')).toContain('about to fail');
    expect(await docker.getImage(`${REGISTRY_HOST}/${namespace}/dockerfail:latest`).inspect().catch((error: { statusCode: number }) => error.statusCode)).toBe(404);
    expect((await finished('nodockerfile-1')).status).toMatchObject({ phase: 'Failed', reason: 'DockerfileNotFound', message: expect.stringContaining('"build/Dockerfile" of the context directory "web"') });
  });

  it('waits for a slow assemble to end: a dependency install that cannot reach its registry fails the build', async () => {
    const repo = unreachableDependencyRepo('deps');
    repos.push(repo.dir);
    await rpc.request('buildconfigs.create', { namespace, body: buildConfig('nodeps', repo.dir, { env: UNREACHABLE_NPM_REGISTRY }) });

    const build = await finished('nodeps-1');
    expect(build.status).toMatchObject({ phase: 'Failed', reason: 'AssembleFailed' });
    expect(build.status.message).toContain('npm install failed');
    expect(await fullLog('nodeps-1')).toContain('---> Installing dependencies');
  });

  it('refuses an unknown builder and a missing ref with 422s naming the field, storing nothing', async () => {
    const repo = gitRepo({ 'server.js': '' });
    repos.push(repo.dir);
    await expect(rpc.request('buildconfigs.create', { namespace, body: buildConfig('nobuilder', repo.dir, { builder: 'cobol' }) })).rejects.toMatchObject({
      status: { code: 422, details: { causes: [{ field: 'spec.strategy.sourceStrategy.from.name', message: 'unknown builder "cobol"; available: nodejs, python, static' }] } },
    });
    await expect(rpc.request('buildconfigs.create', { namespace, body: buildConfig('noref', repo.dir, { ref: 'does-not-exist' }) })).rejects.toMatchObject({
      status: { code: 422, details: { causes: [{ field: 'spec.source.git.ref' }] } },
    });
    await expect(rpc.request('buildconfigs.create', { namespace, body: buildConfig('norepo', '/nonexistent/repo') })).rejects.toMatchObject({
      status: { code: 422, details: { causes: [{ field: 'spec.source.git.uri' }] } },
    });
    const dry = await rpc.request('buildconfigs.create', { namespace, body: buildConfig('dry', repo.dir), dryRun: true });
    expect(dry.metadata.name).toBe('dry');
    for (const name of ['nobuilder', 'noref', 'norepo', 'dry']) {
      await expect(rpc.request('buildconfigs.get', { namespace, name })).rejects.toMatchObject({ status: { code: 404 } });
    }
  });

  describe('on node-1, the second engine `npm run up -- --nodes 2` runs', () => {
    const node1Engine = () => dockerFor({ url: (node1 as RunningNode).engineUrl, tlsDir: (node1 as RunningNode).tlsDir });
    const containersOf = async (engine: Docker, build: string) => buildContainers(engine, `${namespace}.${build}`);
    beforeAll(() => {
      if (!node1) throw new Error('these tests need node-1 (npm run up -- --nodes 2), listed in .paas/run/nodes.json');
      // The host's engine cordoned: the build can only go to node-1.
      nodes.set(local, { unschedulable: true });
      nodes.set(node1);
    });

    it("runs a build on node-1's engine and pushes its image to the registry, under a reference every node can pull", async () => {
      const repo = gitRepo({
        'package.json': JSON.stringify({ name: 'remote', version: '1.0.0', scripts: { start: 'node server.js' } }),
        'server.js': "require('http').createServer((req, res) => res.end('remote')).listen(process.env.PORT || 8080);\n",
      });
      repos.push(repo.dir);
      await rpc.request('buildconfigs.create', { namespace, body: buildConfig('remote', repo.dir) });

      const build = await finished('remote-1');
      expect(build.status).toMatchObject({ phase: 'Complete', nodeName: 'node-1', outputDockerImageReference: `${REGISTRY_HOST}/${namespace}/remote:latest` });
      const digest = build.status.output?.to.imageDigest as string;
      const log = await fullLog('remote-1');
      expect(log).toContain(`---> Building on node node-1 (${node1?.engineUrl})`);
      expect(log).toContain(`---> Pushing ${node1?.registryHost}/${namespace}/remote:latest`);
      expect(log).toContain(`Push successful: ${digest}`);

      // Built, committed and pushed on node-1; nothing of it on the host's engine, no container left.
      const remote = node1Engine();
      const image = await remote.getImage(`${node1?.registryHost}/${namespace}/remote:latest`).inspect();
      expect(image.Config.Labels).toMatchObject({ 'paas.dev/build': `${namespace}.remote-1`, 'io.openshift.build.commit.id': repo.commit });
      expect(image.RepoDigests).toContain(`${node1?.registryHost}/${namespace}/remote@${digest}`);
      await expect(docker.getImage(`${node1?.registryHost}/${namespace}/remote:latest`).inspect()).rejects.toMatchObject({ statusCode: 404 });
      expect(await containersOf(remote, 'remote-1')).toEqual([]);
      expect(await containersOf(docker, 'remote-1')).toEqual([]);

      // The reference recorded (the platform registry's own address) pulls on the host's engine, from the registry itself.
      const deadline = Date.now() + 10_000;
      while (!completed.some((event) => event.data.name === 'remote-1') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
      const reference = completed.find((event) => event.data.name === 'remote-1')?.data.output.dockerImageReference;
      expect(reference).toBe(`${REGISTRY_HOST}/${namespace}/remote@${digest}`);
      const { registrytoken } = await new RegistryTokenClient(rpc, 'system:deploy-service').authConfig(`${namespace}/remote`, ['pull']);
      const pulled = await new Promise<string>((resolve, reject) =>
        docker.modem.dial(
          { path: '/images/create?', method: 'POST', options: { fromImage: reference }, headers: { 'X-Registry-Auth': Buffer.from(JSON.stringify({ registrytoken })).toString('base64').replace(/\+/g, '-').replace(/\//g, '_') }, isStream: true, statusCodes: { 200: true, 404: 'not found', 500: 'server error' } },
          (error, stream) => (error ? reject(error) : docker.modem.followProgress(stream as NodeJS.ReadableStream, (failure: Error | null, output: { error?: string; status?: string }[]) => (failure ? reject(failure) : resolve(output.map((entry) => entry.error ?? entry.status ?? '').join('\n'))))),
        ),
      );
      expect(pulled).toContain(`Digest: ${digest}`);
      const pulledImage = await docker.getImage(reference as string).inspect();
      expect(pulledImage.Config.Labels).toMatchObject({ 'paas.dev/build': `${namespace}.remote-1` });
      await docker.getImage(pulledImage.Id).remove({ force: true });
    });

    it('runs a build again when its node turns NotReady under it, waits for a node, and fails after the bounded wait, saying why', async () => {
      const repo = unreachableDependencyRepo('lost');
      repos.push(repo.dir);
      // The build is caught while it assembles.
      await rpc.request('buildconfigs.create', { namespace, body: buildConfig('lost', repo.dir, { env: UNREACHABLE_NPM_REGISTRY }) });
      await eventually('the build to assemble on node-1', async () => ((await fullLog('lost-1')).includes('---> Installing dependencies') ? true : undefined), 60_000);
      expect((await rpc.request('builds.get', { namespace, name: 'lost-1' })).status).toMatchObject({ phase: 'Running', nodeName: 'node-1' });
      expect(await containersOf(node1Engine(), 'lost-1')).toHaveLength(1);

      nodes.set(node1 as RunningNode, { ready: false });
      const again = await eventually('attempt 2 to wait for a node', async () => {
        const build = await rpc.request('builds.get', { namespace, name: 'lost-1' });
        return build.metadata.annotations?.[ATTEMPT_ANNOTATION] === '2' && build.status.message?.startsWith('waiting for a node') ? build : undefined;
      }, 10_000, 100);
      expect(again.status).toMatchObject({ phase: 'New', message: 'waiting for a node to run on: every Ready node is cordoned or draining' });
      expect(again.status.nodeName).toBeUndefined();

      const failed = await finished('lost-1');
      expect(failed.status).toMatchObject({ phase: 'Failed', reason: 'NoNodeAvailable', message: 'no node could run the build within 4 s: every Ready node is cordoned or draining' });
      const log = await fullLog('lost-1');
      expect(log).toContain('node node-1 became NotReady (NodeNotReady: the Docker engine has not answered for over 5 s (test)) while the build ran on it; running the build again (attempt 2 of 2)');
      expect(log).toContain('error: build error: no node could run the build within 4 s');
      // The engine itself still answered: the run's own clean-up removed the container.
      expect(await containersOf(node1Engine(), 'lost-1')).toEqual([]);
    });
  });
});
