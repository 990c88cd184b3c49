import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { extract, pack, type Headers } from 'tar-stream';
import type { Build, BuildPhase } from '@paas/contracts/builds';
import { ApiError } from '@paas/platform/api-error';
import { INSTANCE_LABEL, loadConfig } from '@paas/platform/config';
import { InMemoryResourceRepository } from '@paas/platform/in-memory-repository';
import { BuildLogFiles, type BuildLogStore } from '../adapters/build-log-files';
import type { BuildSettings } from '../build-settings';
import type { RegistryCredentials } from '@paas/platform/registry-tokens';
import { ContainerGoneError, ImageBuildError, ImageNotFoundError, PushError, type CommitSpec, type ContainerRuntime, type ImageBuildSpec, type PushSpec, type RunSpec, type WaitingContainer, type WaitingSpec } from './pipeline/container-runtime';
import { DockerImageBuilder } from './pipeline/docker-roles';
import { BuildFailure, type BuildStrategy, type FetchedSource, type SourceFetcher } from './pipeline/roles';
import { RegistryPusher, S2IAssembler, S2ICommitter, S2IPostCommitHook } from './pipeline/s2i-roles';
import { RunBuild } from './run-build.usecase';
import { aNode, FakeBuildNodes } from '../testing/fake-nodes';
import { ATTEMPT_ANNOTATION, LOST_NODE_ANNOTATION } from './build-attempts';
import { BuildStrategyFactory } from './pipeline/strategy-factory';
import { WARM_START_DELAY_MS, WarmBuilders } from './pipeline/warm-builders';
import type { Git } from '../adapters/git-cli';
import type { BuilderStreams } from '../adapters/builder-streams';
import { BuildImages } from './pipeline/build-images';

const BUILDER = 'paas-builder/nodejs:latest';
const DIGEST = `sha256:${'a'.repeat(64)}`;
const COMMIT = 'c'.repeat(40);
const PREVIOUS = `sha256:${'e'.repeat(64)}`;
/** The output tag's image as the registry-service names it, and as node `local` does. */
const PREVIOUS_ON_NODE = `127.0.0.1:5000/demo/app@${PREVIOUS}`;

/** The registry-service's answer for the output tag `app:latest` of `demo`: an image pushed before. */
function outputStreams(): BuilderStreams {
  return { imageOf: async (namespace, name) => (namespace === 'demo' && name === 'app:latest' ? `reg.test:5000/demo/app@${PREVIOUS}` : undefined) };
}

function aBuild(overrides: Partial<Build['spec']> = {}): Build {
  return {
    apiVersion: 'v1',
    kind: 'Build',
    metadata: { name: 'app-1', namespace: 'demo', uid: 'uid-1', resourceVersion: '1', generation: 1, creationTimestamp: '2026-01-01T00:00:00Z', labels: { buildconfig: 'app' } },
    spec: {
      source: { type: 'Git', git: { uri: 'https://git.example/app.git', ref: 'main' } },
      strategy: { type: 'Source', sourceStrategy: { from: { kind: 'Builder', name: 'nodejs' }, env: [{ name: 'NODE_ENV', value: 'production' }] } },
      output: { to: { kind: 'ImageStreamTag', name: 'app:latest' } },
      triggers: [],
      completionDeadlineSeconds: 1800,
      triggeredBy: [{ message: 'test' }],
      ...overrides,
    },
    status: { phase: 'New', stages: [], outputDockerImageReference: 'reg.test:5000/demo/app:latest' },
  };
}

/**
 * Records each call in order; `exitCode`, `pushError` (every push), `pushErrorsFirst` (the
 * first pushes, one each), `hang` (until aborted), `deaf` (never answers: an engine gone),
 * `stopped` (refuses every call: an engine stopped), `stopsAtFailure` (stops so right after a push fails or an assemble exits non-zero), `glitch` (the run fails, the engine
 * still answers), `hookExitCode` (the post-commit hook's container) and `dockerError` (the
 * engine's words on a Dockerfile it failed), `saveExitCode` (save-artifacts' container),
 * `previousElsewhere` (the output tag's image is not on the node until pulled), `pullError`
 * (every pull), `saveHangs` (save-artifacts writes a little, then waits to be stopped; the
 * assemble does not read its input), `builderGoneOnce` (the builder is not there at the first
 * look) and `builderGoneAtCreate` (the first assemble container's create finds no image) script
 * its answers.
 */
class FakeRuntime implements ContainerRuntime {
  readonly calls: string[] = [];
  commits: CommitSpec[] = [];
  runs: RunSpec[] = [];
  imageBuilds: ImageBuildSpec[] = [];
  /** What it was given to unpack (stdin, a build context), as `name=content` per entry. */
  input: string[] = [];
  /** The lines an assemble container read before its tar (the script, copy, artifacts, the source's variables). */
  lines: string[] = [];
  /** The script a save-artifacts container was told to run, on its stdin. */
  saveScript?: string;
  constructor(
    private readonly script: { stopsAtFailure?: boolean; exitCode?: number; hookExitCode?: number; pushError?: string; pushErrorsFirst?: string[]; hang?: boolean; deaf?: boolean; stopped?: boolean; glitch?: boolean; dockerError?: string; saveExitCode?: number; previousElsewhere?: boolean; pullError?: string; saveHangs?: boolean; builderGoneOnce?: boolean; builderGoneAtCreate?: boolean } = {},
  ) {}
  private readonly pulled = new Set<string>();
  async inspectImage(reference: string) {
    this.calls.push(`inspectImage ${reference}`);
    if (this.script.previousElsewhere && reference.includes('/demo/app@') && !this.pulled.has(reference)) return undefined;
    if (this.script.builderGoneOnce && reference === BUILDER) {
      this.script.builderGoneOnce = false;
      return undefined;
    }
    return { id: 'sha256:builder', labels: {}, user: '1001' };
  }
  async run(spec: RunSpec) {
    this.calls.push(`run ${spec.name} ${spec.image}`);
    this.runs.push(spec);
    if (spec.name.endsWith('-save-artifacts')) {
      // It reads which script to run before it writes anything (SAVE_ARTIFACTS_SCRIPT).
      this.saveScript = await untilAborted(Promise.resolve(spec.input).then(async (input) => (input ? (await text(input)).trim() : '')), spec.signal);
      if (this.script.saveHangs) {
        await spec.onStdout?.(Buffer.alloc(512));
        await new Promise((_resolve, reject) => spec.signal?.addEventListener('abort', () => reject(spec.signal?.reason)));
      }
      if (!this.script.saveExitCode) for await (const chunk of tarOf({ count: '1' })) await spec.onStdout?.(chunk);
      return { containerId: 'saver-1', exitCode: this.script.saveExitCode ?? 0 };
    }
    if (spec.name.endsWith('-post-commit')) {
      await spec.onOutput(Buffer.from('hook: 3 tests passed\n'));
      return { containerId: 'hook-1', exitCode: this.script.hookExitCode ?? 0 };
    }
    if (this.script.builderGoneAtCreate) {
      this.script.builderGoneAtCreate = false;
      throw new ImageNotFoundError(`the engine does not have ${spec.image}: No such image`);
    }
    // Read as an engine would until the container is stopped (an input cut short never ends).
    if (spec.input && !this.script.saveHangs) ({ lines: this.lines, entries: this.input } = await untilAborted(Promise.resolve(spec.input).then(assembleInputOf), spec.signal));
    await spec.onOutput(Buffer.from('---> Installing application source\n'));
    if (this.script.deaf) await new Promise(() => undefined);
    if (this.script.stopped) throw Object.assign(new Error('connect ECONNREFUSED 10.250.1.2:2376'), { code: 'ECONNREFUSED' });
    if (this.script.glitch) throw new Error('unexpected end of the engine stream');
    if (this.script.hang) {
      await new Promise((_resolve, reject) => spec.signal?.addEventListener('abort', () => reject(spec.signal?.reason)));
    }
    if (this.script.exitCode) await spec.onOutput(Buffer.from('---> Build FAILED: nothing to start\n'));
    if (this.script.exitCode && this.script.stopsAtFailure) this.script.stopped = true;
    return { containerId: 'container-1', exitCode: this.script.exitCode ?? 0 };
  }
  /** The waiting containers it started that are gone (removed, or exited: `exitsBeforeClaim`), each with the way to say so. */
  private readonly leaving = new Map<string, () => void>();
  exitsBeforeClaim = false;
  async startWaiting(spec: WaitingSpec): Promise<WaitingContainer> {
    const id = `waiting-${this.leaving.size + 1}`;
    this.calls.push(`startWaiting ${id} ${spec.image} as ${spec.user} ${JSON.stringify(spec.env)}`);
    const gone = new Promise<void>((resolve) => this.leaving.set(id, resolve));
    return {
      id,
      gone,
      claim: async (claim) => {
        if (this.exitsBeforeClaim) throw new ContainerGoneError(`waiting container ${id} exited before its claim`);
        this.calls.push(`claim ${id} as ${claim.name}`);
        return this.run({ ...spec, ...claim });
      },
    };
  }
  async buildImage(spec: ImageBuildSpec) {
    this.calls.push(`buildImage ${spec.tag} ${spec.dockerfile}`);
    this.imageBuilds.push(spec);
    this.input = await entriesOf(spec.context);
    await spec.onOutput('Step 1/2 : FROM paas-builder/nodejs\n');
    if (this.script.dockerError) throw new ImageBuildError(this.script.dockerError);
    await spec.onOutput('Successfully built 0123456789ab\n');
    return 'sha256:built';
  }
  async commit(containerId: string, spec: CommitSpec) {
    this.calls.push(`commit ${containerId} ${spec.repository}:${spec.tag}`);
    this.commits.push(spec);
    return 'sha256:image';
  }
  async push(reference: string, options: PushSpec) {
    this.calls.push(`push ${reference} ${options.userAgent.split(' ')[0]} ${options.auth?.registrytoken}`);
    const failure = this.script.pushErrorsFirst?.shift() ?? this.script.pushError;
    if (failure && this.script.stopsAtFailure) this.script.stopped = true;
    if (failure) throw new PushError(failure);
    return { digest: DIGEST, layers: ['5f70bf18a086: Mounted from demo/other', '3b4c1a9e2d77: Pushed'] };
  }
  async pull(reference: string, options: { auth?: { registrytoken?: string } }) {
    this.calls.push(`pull ${reference} ${options.auth?.registrytoken}`);
    if (this.script.pullError) throw new Error(this.script.pullError);
    this.pulled.add(reference);
  }
  async remove(id: string) {
    this.calls.push(`remove ${id}`);
    this.leaving.get(id)?.();
  }
  async listBuildContainers() {
    if (this.script.stopped) throw Object.assign(new Error('connect ECONNREFUSED 10.250.1.2:2376'), { code: 'ECONNREFUSED' });
    return [];
  }
}

/** Hands out `token:<repository>:<actions>`, or fails when told to; namespace `private` lets no other namespace's builds pull. */
class FakeCredentials implements RegistryCredentials {
  constructor(private readonly failure?: string) {}
  async authConfig(repository: string, actions: string[], options: { crossMount?: boolean; forBuildsOf?: string } = {}) {
    if (this.failure) throw new Error(this.failure);
    if (options.forBuildsOf && repository.startsWith('private/')) throw ApiError.of('Forbidden', `the builds of namespace ${options.forBuildsOf} may not pull ${repository}`);
    return { registrytoken: `token:${repository}:${actions.join(',')}${options.crossMount ? '+mount' : ''}` };
  }
}

/** Once the build's first container runs (under load that takes more than any fixed wait). */
async function assembling(runtime: FakeRuntime): Promise<void> {
  while (!runtime.calls.some((call) => call.startsWith('run '))) await new Promise((resolve) => setTimeout(resolve, 5));
}

/** A tar of `files` (name → content). */
function tarOf(files: Record<string, string>): Readable {
  const archive = pack();
  for (const [name, content] of Object.entries(files)) archive.entry({ name }, content);
  archive.finalize();
  return archive;
}

/** `work`, or the signal's reason once it is aborted. */
function untilAborted<T>(work: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return work;
  return Promise.race([work, new Promise<never>((_resolve, reject) => (signal.aborted ? reject(signal.reason) : signal.addEventListener('abort', () => reject(signal.reason), { once: true })))]);
}

/** What an assemble container reads: its lines up to the empty one, then the tar's entries. */
async function assembleInputOf(input: Readable): Promise<{ lines: string[]; entries: string[] }> {
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(chunk as Buffer);
  const all = Buffer.concat(chunks);
  const end = all.indexOf('\n\n');
  return { lines: all.subarray(0, end).toString().split('\n'), entries: await entriesOf(Readable.from([all.subarray(end + 2)])) };
}

/** The entries of a tar as `name=content`. */
function entriesOf(input: Readable): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const entries: string[] = [];
    const reader = extract();
    reader.on('entry', async (header: Headers, stream: Readable, next: () => void) => {
      let content = '';
      for await (const chunk of stream) content += chunk;
      entries.push(`${header.name}=${content}`);
      next();
    });
    reader.on('finish', () => resolve(entries));
    reader.on('error', reject);
    input.on('error', reject);
    input.pipe(reader);
  });
}

const fakeSource: SourceFetcher = {
  async fetch(ctx): Promise<FetchedSource> {
    ctx.log.write('Cloning ...\n');
    const readFile = async (file: string) => (file === 'Dockerfile' ? 'FROM paas-builder/nodejs\n' : undefined);
    return { revision: { commit: COMMIT, author: 'Ann <ann@example.com>', message: 'first' }, archive: () => tarOf({ 'server.js': 'hello' }), scripts: [], environment: [], readFile };
  },
};

describe('RunBuild with a fake container runtime', () => {
  let dir: string;
  let logs: BuildLogFiles;
  const settings = (): BuildSettings => ({ registryHost: 'reg.test:5000', buildsDir: dir, builders: { nodejs: BUILDER }, allowLocalSources: true, strategies: ['Source', 'Docker'], gitCheckTimeoutMs: 1000, logMaxBytes: 1 << 20, containerLimits: { memoryBytes: 1 << 30, pidsLimit: 100 }, concurrency: 4, resyncMs: 300_000, nodeWaitMs: 600_000, binaryLimits: { maxEntries: 1000, maxUnpackedBytes: 1 << 20 }, warmContainers: true });

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'run-build-spec-'));
    logs = new BuildLogFiles(dir);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A claimed (Pending) build in an in-memory store that records every phase written and every event published. */
  function setup(runtime: FakeRuntime, build = aBuild(), logStore: BuildLogStore = logs, buildSettings = settings(), credentials = new FakeCredentials(), streams = outputStreams(), source = fakeSource) {
    const published: { type: string; data: unknown }[] = [];
    const phases: BuildPhase[] = [];
    const store = new InMemoryResourceRepository<Build>('Build', {
      publisher: { publish: async (event) => void published.push({ type: event.type, data: event.data }) },
      feed: {
        announce: (_kind, change) => {
          const { phase } = (change.object as Build).status;
          if (phases.at(-1) !== phase) phases.push(phase);
        },
      },
    });
    store.seed({ ...build, status: { ...build.status, phase: 'Pending', nodeName: 'local' } });
    const nodes = new FakeBuildNodes([aNode('local')], { local: runtime });
    const strategyOf = ({ spec: { strategy } }: Build): BuildStrategy => {
      const common = { source, postCommit: new S2IPostCommitHook(runtime), pusher: new RegistryPusher(runtime, credentials) };
      if (strategy.type === 'Docker') return { ...common, type: 'Docker', builder: new DockerImageBuilder(runtime, 'reg.test:5000', strategy.dockerStrategy) };
      const images = new BuildImages(buildSettings.builders, buildSettings.registryHost, streams, credentials);
      return { ...common, type: 'Source', assembler: new S2IAssembler(runtime, async () => BUILDER, (ctx) => images.previousOnNode(ctx), 'local'), committer: new S2ICommitter(runtime, 'reg.test:5000', async () => BUILDER) };
    };
    const runBuild = new RunBuild(store, { forBuild: strategyOf }, nodes, logStore, buildSettings);
    const run = async () => runBuild.run(await store.get('demo', 'app-1'));
    const current = () => store.get('demo', 'app-1');
    return { store, published, phases, runBuild, run, current, nodes };
  }

  async function logOf(): Promise<string> {
    return (await logs.read('demo', 'app-1', 0)).text;
  }

  it('runs fetch, assemble, commit and push, and completes with the digest', async () => {
    const runtime = new FakeRuntime();
    const { published, phases, run, current } = setup(runtime);

    await run();

    expect(runtime.calls).toEqual([
      `inspectImage ${BUILDER}`,
      `run paas-build-demo.app-1 ${BUILDER}`,
      'commit container-1 reg.test:5000/demo/app:latest',
      // Once committed, the container goes while the image is pushed.
      'remove paas-build-demo.app-1',
      'push reg.test:5000/demo/app:latest paas-build-service token:demo/app:push,pull+mount',
    ]);
    expect(runtime.input).toEqual(['server.js=hello']);
    expect(runtime.lines).toEqual(['/usr/libexec/s2i/assemble', 'none', 'none']);
    expect(runtime.runs[0]).toMatchObject({
      cmd: ['/bin/sh', '-c', expect.stringContaining('tar -C "$1/src" -xf -'), 'assemble', '/tmp'],
      env: ['NODE_ENV=production'],
      labels: { 'paas.dev/build': 'demo.app-1', 'paas.dev/managed-by': 'build-service' },
    });
    expect(runtime.commits[0]).toEqual({
      repository: 'reg.test:5000/demo/app',
      tag: 'latest',
      cmd: ['/usr/libexec/s2i/run'],
      env: ['NODE_ENV=production'],
      user: '1001',
      exposedPorts: ['8080/tcp'],
      labels: {
        'io.openshift.build.image': BUILDER,
        'io.openshift.build.name': 'app-1',
        'io.openshift.build.namespace': 'demo',
        'io.openshift.build.commit.id': COMMIT,
        'io.openshift.build.commit.ref': 'main',
        'io.openshift.build.commit.author': 'Ann <ann@example.com>',
        'io.openshift.build.commit.message': 'first',
        'io.openshift.build.source-location': 'https://git.example/app.git',
        'paas.dev/build': 'demo.app-1',
        'paas.dev/managed-by': 'build-service',
        [INSTANCE_LABEL]: loadConfig().instance,
      },
    });
    expect(phases).toEqual(['Pending', 'Running', 'Complete']);
    expect((await current()).spec.revision).toEqual({ commit: COMMIT, author: 'Ann <ann@example.com>', message: 'first' });
    expect((await current()).status.stages.map((s) => s.name)).toEqual(['FetchSource', 'Assemble', 'Commit', 'Push']);
    expect((await current()).status).toMatchObject({ phase: 'Complete', output: { to: { imageDigest: DIGEST } } });
    const { uid } = (await current()).metadata;
    expect(published).toEqual([
      { type: 'build.started', data: { namespace: 'demo', name: 'app-1', uid, buildConfig: 'app' } },
      {
        type: 'build.completed',
        data: {
          namespace: 'demo',
          name: 'app-1',
          uid,
          buildConfig: 'app',
          output: { imageStreamTag: 'app:latest', digest: DIGEST, dockerImageReference: `reg.test:5000/demo/app@${DIGEST}` },
        },
      },
    ]);
    expect(await logOf()).toContain('---> Building on node local (unix:///var/run/docker.sock)\n');
    expect(await logOf()).toContain('---> Installing application source');
    expect(await logOf()).toContain(`5f70bf18a086: Mounted from demo/other\n3b4c1a9e2d77: Pushed\nPush successful: ${DIGEST}\n`);
  });

  it("starts the builder container while the source is fetched, then hands it the source, its .s2i/environment under the BuildConfig's, kept in the image", async () => {
    const runtime = new FakeRuntime();
    const fetchedOnceRunning: SourceFetcher = {
      async fetch(ctx) {
        // Resolves only once the container runs: a builder started after the fetch never would.
        await assembling(runtime);
        return { ...(await fakeSource.fetch(ctx)), environment: ['NODE_ENV=development', 'GREETING=hello'] };
      },
    };
    const { run, current } = setup(runtime, aBuild(), logs, settings(), new FakeCredentials(), outputStreams(), fetchedOnceRunning);
    await run();
    expect((await current()).status.phase).toBe('Complete');
    expect(runtime.runs[0].env).toEqual(['NODE_ENV=production']);
    expect(runtime.lines).toEqual(['/usr/libexec/s2i/assemble', 'none', 'none', 'GREETING=hello']);
    expect(runtime.commits[0].env).toEqual(['GREETING=hello', 'NODE_ENV=production']);
  });

  it('looks for the builder once more when it is gone from the node at the first look, or at the container\'s create', async () => {
    for (const script of [{ builderGoneOnce: true }, { builderGoneAtCreate: true }]) {
      const runtime = new FakeRuntime(script);
      const { run, current } = setup(runtime);
      await run();
      expect((await current()).status.phase).toBe('Complete');
      expect(runtime.calls.filter((call) => call === `inspectImage ${BUILDER}`)).toHaveLength(2);
      rmSync(path.join(dir, 'demo'), { recursive: true, force: true });
    }
  });

  it('stops the builder container it started when the source cannot be fetched', async () => {
    const runtime = new FakeRuntime();
    const unreachable: SourceFetcher = {
      async fetch() {
        await assembling(runtime);
        throw new BuildFailure('FetchSourceFailed', 'failed to fetch https://git.example/app.git main: not found');
      },
    };
    const { run, current } = setup(runtime, aBuild(), logs, settings(), new FakeCredentials(), outputStreams(), unreachable);
    await run();
    expect((await current()).status).toMatchObject({ phase: 'Failed', reason: 'FetchSourceFailed' });
    expect(runtime.runs.map((spec) => `${spec.name} ${spec.signal?.aborted}`)).toEqual(['paas-build-demo.app-1 true']);
    expect(runtime.calls.filter((call) => call.startsWith('commit') || call.startsWith('push'))).toEqual([]);
  });

  it("goes from stage to stage without waiting for the status writes, and writes the outcome after all of them, in order", async () => {
    const runtime = new FakeRuntime();
    const { store, phases, run, current } = setup(runtime);
    const update = store.update.bind(store);
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (release = resolve));
    store.update = async (...args: Parameters<typeof update>) => (await held, update(...args));

    const ran = run();
    const pushed = () => runtime.calls.some((call) => call.startsWith('push '));
    for (const giveUpAt = Date.now() + 5_000; !pushed() && Date.now() < giveUpAt; ) await new Promise((resolve) => setTimeout(resolve, 1));
    // Fetched, assembled, committed and pushed while not one write (Running included) had been made.
    expect(runtime.calls.filter((call) => call.startsWith('push '))).toHaveLength(1);
    expect(phases).toEqual(['Pending']);

    release();
    await ran;
    expect(phases).toEqual(['Pending', 'Running', 'Complete']);
    expect((await current()).status.stages.map((s) => s.name)).toEqual(['FetchSource', 'Assemble', 'Commit', 'Push']);
    expect((await current()).spec.revision?.commit).toBe(COMMIT);
  });

  it('completes a build whose stage records could not be written (the outcome is the write that counts)', async () => {
    const runtime = new FakeRuntime();
    const { store, run, current } = setup(runtime);
    store.updateStatus = async () => Promise.reject(new Error('the database did not answer'));
    await run();
    expect((await current()).status).toMatchObject({ phase: 'Complete', stages: [], output: { to: { imageDigest: DIGEST } } });
  });

  it('runs the postCommit hook in the committed image before the push, as the assemble user, recorded as a stage', async () => {
    const runtime = new FakeRuntime();
    const { run, current } = setup(runtime, aBuild({ postCommit: { script: 'npm test' } }));
    await run();

    // Between the commit and the push, its container removed.
    const commit = runtime.calls.indexOf('commit container-1 reg.test:5000/demo/app:latest');
    expect(runtime.calls.slice(commit + 1)).toEqual(['remove paas-build-demo.app-1', 'run paas-build-demo.app-1-post-commit reg.test:5000/demo/app:latest', 'remove hook-1', expect.stringMatching(/^push /)]);
    expect(runtime.runs[1]).toMatchObject({ entrypoint: ['/bin/sh', '-c'], cmd: ['npm test'], user: '1001', env: ['NODE_ENV=production'], labels: { 'paas.dev/build': 'demo.app-1' } });
    expect(runtime.runs[1].input).toBeUndefined();
    expect((await current()).status.stages.map((s) => s.name)).toEqual(['FetchSource', 'Assemble', 'Commit', 'PostCommit', 'Push']);
    expect(await logOf()).toContain('---> Running the post-commit hook in reg.test:5000/demo/app:latest\nhook: 3 tests passed\n');
  });

  it('fails the build as PostCommitHookFailed, pushing nothing, when the hook exits non-zero; command and args replace the entrypoint', async () => {
    const runtime = new FakeRuntime({ hookExitCode: 2 });
    const { run, current } = setup(runtime, aBuild({ postCommit: { command: ['npm'], args: ['test'] } }));
    await run();

    expect((await current()).status).toMatchObject({ phase: 'Failed', reason: 'PostCommitHookFailed', message: expect.stringContaining('the post-commit hook exited with code 2') });
    expect(runtime.runs[1]).toMatchObject({ entrypoint: ['npm'], cmd: ['test'] });
    expect(runtime.calls.filter((call) => call.startsWith('push'))).toEqual([]);
  });

  describe('incremental', () => {
    const incremental = () => aBuild({ strategy: { type: 'Source', sourceStrategy: { from: { kind: 'Builder', name: 'nodejs' }, env: [], incremental: true } } });

    it("streams what the previous image's save-artifacts writes into the assemble started beside it, in <destination>/artifacts", async () => {
      const runtime = new FakeRuntime();
      const { run, current } = setup(runtime, incremental());
      await run();
      // Both started while the source was fetched, each waiting for it (in no set order).
      expect(runtime.calls.slice(0, 4).sort()).toEqual(
        [`inspectImage ${BUILDER}`, `run paas-build-demo.app-1 ${BUILDER}`, `inspectImage ${PREVIOUS_ON_NODE}`, `run paas-build-demo.app-1-save-artifacts ${PREVIOUS_ON_NODE}`].sort(),
      );
      expect(runtime.calls[4]).toBe('remove saver-1');
      const [saver] = runtime.runs.filter((spec) => spec.name.endsWith('-save-artifacts'));
      expect(saver).toMatchObject({ entrypoint: ['/bin/sh', '-c'], cmd: [expect.stringContaining('read -r script'), 'save-artifacts'], user: '1001', resources: { networkDisabled: true } });
      // The source named the script once it was fetched (it brings none of its own: the image's).
      expect(runtime.saveScript).toBe('/usr/libexec/s2i/save-artifacts');
      expect(runtime.runs.find((spec) => spec.name === 'paas-build-demo.app-1')?.resources?.networkDisabled).toBe(false);
      expect(runtime.input).toEqual(['artifacts/count=1', 'src/server.js=hello']);
      expect(runtime.lines[2]).toBe('artifacts');
      expect((await current()).status.phase).toBe('Complete');
    });

    it("pulls the output tag's image, by digest with a pull token, to a node that lacks it (built on another node)", async () => {
      const runtime = new FakeRuntime({ previousElsewhere: true });
      const { run, current } = setup(runtime, incremental());
      await run();
      expect(runtime.calls.filter((call) => call.includes(PREVIOUS_ON_NODE))).toEqual([
        `inspectImage ${PREVIOUS_ON_NODE}`,
        `pull ${PREVIOUS_ON_NODE} token:demo/app:pull`,
        `inspectImage ${PREVIOUS_ON_NODE}`,
        `run paas-build-demo.app-1-save-artifacts ${PREVIOUS_ON_NODE}`,
      ]);
      expect(runtime.input).toEqual(['artifacts/count=1', 'src/server.js=hello']);
      expect(await logOf()).toContain(`---> Incremental build: pulling the previous image ${PREVIOUS_ON_NODE} to node local\n`);
      expect((await current()).status.phase).toBe('Complete');
    });

    it('stops the save-artifacts started beside a fetch that fails, and removes its container', async () => {
      const runtime = new FakeRuntime();
      const unreachable: SourceFetcher = {
        async fetch() {
          while (!runtime.calls.some((call) => call.includes('-save-artifacts'))) await new Promise((resolve) => setTimeout(resolve, 5));
          throw new BuildFailure('FetchSourceFailed', 'failed to fetch https://git.example/app.git main: not found');
        },
      };
      const { run, current } = setup(runtime, incremental(), logs, settings(), new FakeCredentials(), outputStreams(), unreachable);
      await run();
      expect((await current()).status).toMatchObject({ phase: 'Failed', reason: 'FetchSourceFailed' });
      expect(runtime.runs.map((spec) => `${spec.name} ${spec.signal?.aborted}`).sort()).toEqual(['paas-build-demo.app-1 true', 'paas-build-demo.app-1-save-artifacts true']);
      // Never told which script to run; its container is gone with the build's.
      expect(runtime.saveScript).toBeUndefined();
    });

    it('stops a save-artifacts still writing once the assemble has failed', async () => {
      const runtime = new FakeRuntime({ saveHangs: true, exitCode: 2 });
      const { run, current } = setup(runtime, incremental());
      await run();
      expect((await current()).status).toMatchObject({ phase: 'Failed', reason: 'AssembleFailed' });
      expect(runtime.runs.map((spec) => `${spec.name} ${spec.signal?.aborted}`)).toEqual(['paas-build-demo.app-1 false', 'paas-build-demo.app-1-save-artifacts true']);
    });

    it('builds in full, saying why, without a previous image, one that cannot be had, or without its save-artifacts', async () => {
      const cases: [ConstructorParameters<typeof FakeRuntime>[0], string, BuilderStreams?][] = [
        [{}, 'demo/app:latest has no image yet', { imageOf: async () => undefined }],
        [{}, 'the image of demo/app:latest could not be asked for (the registry-service did not answer)', { imageOf: async () => Promise.reject(new Error('the registry-service did not answer')) }],
        [{ previousElsewhere: true, pullError: 'manifest unknown' }, `the previous image ${PREVIOUS_ON_NODE} could not be pulled to node local (manifest unknown)`],
        [{ saveExitCode: 86 }, 'the previous image has no /usr/libexec/s2i/save-artifacts'],
        [{ saveExitCode: 2 }, '/usr/libexec/s2i/save-artifacts exited with code 2'],
      ];
      for (const [script, why, streams] of cases) {
        const runtime = new FakeRuntime(script);
        const { run, current } = setup(runtime, incremental(), logs, settings(), new FakeCredentials(), streams);
        await run();
        expect(runtime.lines[2]).toBe('none');
        expect(runtime.input).toEqual(['server.js=hello']);
        expect((await current()).status.phase).toBe('Complete');
        expect(await logOf()).toContain(`---> Incremental build: ${why}, building in full`);
        rmSync(path.join(dir, 'demo'), { recursive: true, force: true });
      }
    });
  });

  describe('with the Docker strategy', () => {
    const docker = (dockerStrategy: object = {}) =>
      aBuild({ strategy: { type: 'Docker', dockerStrategy: { dockerfilePath: 'Dockerfile', buildArgs: [{ name: 'GREETING', value: 'hi' }], noCache: false, ...dockerStrategy } } });

    it("builds the source's Dockerfile on the node's engine, labelled as s2i labels, then runs the hook and pushes", async () => {
      const runtime = new FakeRuntime();
      const { run, current } = setup(runtime, { ...docker(), spec: { ...docker().spec, postCommit: { args: ['--check'] } } });
      await run();

      expect(runtime.calls).toEqual([
        'buildImage reg.test:5000/demo/app:latest Dockerfile',
        'inspectImage sha256:built',
        'remove paas-build-demo.app-1',
        'run paas-build-demo.app-1-post-commit reg.test:5000/demo/app:latest',
        'remove hook-1',
        'push reg.test:5000/demo/app:latest paas-build-service token:demo/app:push,pull+mount',
      ]);
      expect(runtime.input).toEqual(['server.js=hello']);
      expect(runtime.imageBuilds[0]).toMatchObject({
        buildArgs: { GREETING: 'hi' },
        noCache: false,
        labels: { 'io.openshift.build.commit.id': COMMIT, 'io.openshift.build.source-location': 'https://git.example/app.git', 'paas.dev/build': 'demo.app-1', 'paas.dev/managed-by': 'build-service' },
      });
      // The hook runs as the image's user, with no s2i environment.
      expect(runtime.runs[0]).toMatchObject({ cmd: ['--check'], user: '1001', env: [] });
      expect((await current()).status.stages.map((s) => s.name)).toEqual(['FetchSource', 'Build', 'PostCommit', 'Push']);
      expect((await current()).status.phase).toBe('Complete');
      expect(await logOf()).toContain('---> Building Dockerfile as reg.test:5000/demo/app:latest\nStep 1/2 : FROM paas-builder/nodejs\nSuccessfully built');
    });

    it('fails as DockerfileNotFound, building nothing, when the source has no file at dockerfilePath', async () => {
      const runtime = new FakeRuntime();
      const { run, current } = setup(runtime, docker({ dockerfilePath: 'deploy/Dockerfile' }));
      await run();
      expect(runtime.calls.filter((call) => call.startsWith('buildImage'))).toEqual([]);
      expect((await current()).status).toMatchObject({ phase: 'Failed', reason: 'DockerfileNotFound', message: expect.stringContaining('has no file "deploy/Dockerfile"') });
    });

    it("fails as DockerBuildFailed with the engine's words and the last log lines, pushing nothing", async () => {
      const runtime = new FakeRuntime({ dockerError: "The command '/bin/sh -c exit 3' returned a non-zero code: 3" });
      const { run, current } = setup(runtime, docker());
      await run();
      expect(runtime.calls.filter((call) => call.startsWith('push'))).toEqual([]);
      expect((await current()).status).toMatchObject({ phase: 'Failed', reason: 'DockerBuildFailed', message: expect.stringMatching(/returned a non-zero code: 3:\n.*Step 1\/2/s) });
      expect((await current()).status.stages.map((s) => s.name)).toEqual(['FetchSource', 'Build']);
    });
  });

  it('labels the image with the source location without its credentials', async () => {
    const runtime = new FakeRuntime();
    const { run, current } = setup(runtime, aBuild({ source: { type: 'Git', git: { uri: 'https://ann:s3cret@git.example/app.git', ref: 'main' } } }));

    await run();

    expect((await current()).status.phase).toBe('Complete');
    expect(runtime.commits[0].labels['io.openshift.build.source-location']).toBe('https://***@git.example/app.git');
  });

  it('fails with AssembleFailed and the last log lines when assemble exits non-zero', async () => {
    const runtime = new FakeRuntime({ exitCode: 1 });
    const { published, phases, run, current } = setup(runtime);

    await run();

    expect(runtime.calls).toEqual([`inspectImage ${BUILDER}`, `run paas-build-demo.app-1 ${BUILDER}`, 'remove container-1', 'remove paas-build-demo.app-1']);
    expect(phases).toEqual(['Pending', 'Running', 'Failed']);
    expect((await current()).status.reason).toBe('AssembleFailed');
    expect((await current()).status.message).toContain('---> Build FAILED: nothing to start');
    expect((await current()).status.stages.map((s) => s.name)).toEqual(['FetchSource', 'Assemble']);
    expect(published.map((e) => e.type)).toEqual(['build.started', 'build.failed']);
    expect(published[1].data).toMatchObject({ reason: 'AssembleFailed' });
    expect(await logOf()).toContain('error: build error: assemble exited with code 1');
  });

  it('fails with PushImageToRegistryFailed when the registry refuses the push', async () => {
    const runtime = new FakeRuntime({ pushError: 'denied: requested access to the resource is denied' });
    const { published, phases, run, current } = setup(runtime);

    await run();

    expect(runtime.calls.slice(-2)).toEqual(['remove paas-build-demo.app-1', 'push reg.test:5000/demo/app:latest paas-build-service token:demo/app:push,pull+mount']);
    expect(phases).toEqual(['Pending', 'Running', 'Failed']);
    expect((await current()).status).toMatchObject({ reason: 'PushImageToRegistryFailed', message: expect.stringContaining('denied: requested access') });
    expect((await current()).status.output).toBeUndefined();
    expect(published.map((e) => e.type)).toEqual(['build.started', 'build.failed']);
  });

  it('pushes again while the registry fails on its side (5xx), saying so in the log', async () => {
    const runtime = new FakeRuntime({ pushErrorsFirst: ['received unexpected HTTP status: 500 Internal Server Error'] });
    const { run, current } = setup(runtime);
    await run();
    expect(runtime.calls.filter((call) => call.startsWith('push'))).toHaveLength(2);
    expect((await current()).status.phase).toBe('Complete');
    expect(await logOf()).toContain('---> the registry failed the push (received unexpected HTTP status: 500 Internal Server Error): pushing again in 1 s');
  });

  it('fails with PushImageToRegistryFailed, pushing nothing, when no registry token can be had', async () => {
    const runtime = new FakeRuntime();
    const credentials = new FakeCredentials('no registry token for demo/app from the api-gateway: api-gateway is not available');
    const { run, current } = setup(runtime, aBuild(), logs, settings(), credentials);

    await run();

    expect(runtime.calls.filter((call) => call.startsWith('push'))).toEqual([]);
    expect((await current()).status).toMatchObject({ phase: 'Failed', reason: 'PushImageToRegistryFailed', message: expect.stringContaining('no registry token for demo/app') });
  });

  it('waits out a gateway that cannot answer for a token (an outage), and fails at once on a refusal', async () => {
    const unavailable = ApiError.of('ServiceUnavailable', 'api-gateway is not available to answer auth.registryToken');
    let calls = 0;
    const flaky: RegistryCredentials = {
      authConfig: async () => {
        if (++calls < 3) throw unavailable;
        return { registrytoken: 'jwt' };
      },
    };
    const waited = setup(new FakeRuntime(), aBuild(), logs, settings(), flaky as FakeCredentials);
    await waited.run();
    expect((await waited.current()).status.phase).toBe('Complete');
    expect(calls).toBe(3);
    expect(await logOf()).toContain('---> waiting for a registry token: api-gateway is not available');

    const refusing: RegistryCredentials = { authConfig: async () => Promise.reject(ApiError.of('Invalid', 'not a repository')) };
    const refused = setup(new FakeRuntime(), aBuild(), logs, settings(), refusing as FakeCredentials);
    await refused.run();
    expect((await refused.current()).status).toMatchObject({ phase: 'Failed', reason: 'PushImageToRegistryFailed' });
  });

  it('stops a build that passes its completion deadline', async () => {
    const runtime = new FakeRuntime({ hang: true });
    const { run, current } = setup(runtime, aBuild({ completionDeadlineSeconds: 0.05 }));

    await run();

    expect((await current()).status).toMatchObject({ phase: 'Failed', reason: 'BuildTimedOut' });
    expect(runtime.calls.at(-1)).toBe('remove paas-build-demo.app-1');
  });

  it('stops a cancelled build in its stage, removes its container and ends it Cancelled, not Failed', async () => {
    const runtime = new FakeRuntime({ hang: true });
    const { run, current, runBuild, published } = setup(runtime);
    const running = run();
    await assembling(runtime);
    expect(runBuild.cancel('demo', 'app-1')).toBe(true);
    await running;

    expect((await current()).status).toMatchObject({ phase: 'Cancelled', reason: 'CancelledBuild', message: 'The build was cancelled by the user.' });
    expect(published.map((event) => event.type)).toEqual(['build.started', 'build.failed']);
    expect(runtime.calls.at(-1)).toBe('remove paas-build-demo.app-1');
    expect(await logOf()).toContain('---> The build was cancelled by the user.');
    expect(runBuild.cancel('demo', 'app-1')).toBe(false);
  });

  it('does not start a build that was cancelled before its run began', async () => {
    const runtime = new FakeRuntime();
    const { run, current, store } = setup(runtime);
    await store.update('demo', 'app-1', (build) => ({ ...build, status: { ...build.status, cancelled: true } }));
    await run();
    expect((await current()).status).toMatchObject({ phase: 'Cancelled', reason: 'CancelledBuild' });
    expect(runtime.calls.filter((call) => call.startsWith('run'))).toEqual([]);
  });

  it('runs a build again as its next attempt when its node turns NotReady, without waiting for the engine to answer', async () => {
    const runtime = new FakeRuntime({ deaf: true });
    const { run, current, nodes, published } = setup(runtime);
    const running = run();
    // A node lost before the build started is another case.
    await assembling(runtime);
    nodes.set(aNode('local', { ready: false }));
    await running;

    const again = await current();
    expect(again.status).toMatchObject({ phase: 'New', stages: [], message: 'attempt 2: node local became NotReady (NodeNotReady: the Docker engine has not answered) while the build ran on it' });
    expect(again.status.nodeName).toBeUndefined();
    expect(again.metadata.annotations?.[ATTEMPT_ANNOTATION]).toBe('2');
    expect(published.map((event) => event.type)).toEqual(['build.started']);
    expect(await logOf()).toContain('while the build ran on it; running the build again (attempt 2 of 2)');
    expect(runtime.calls.at(-1)).toBe('remove paas-build-demo.app-1');
  });

  it('runs a build again, away from its node, when the engine stops under it before the node turns NotReady', async () => {
    const { run, current, published } = setup(new FakeRuntime({ stopped: true }));
    await run();

    const again = await current();
    expect(again.status).toMatchObject({ phase: 'New', message: 'attempt 2: the engine of node local stopped answering while the build ran on it (connect ECONNREFUSED 10.250.1.2:2376)' });
    expect(again.metadata.annotations).toMatchObject({ [ATTEMPT_ANNOTATION]: '2', [LOST_NODE_ANNOTATION]: 'local' });
    expect(published.map((event) => event.type)).toEqual(['build.started']);
  });

  it("runs a build again when a stage on the engine fails in the engine's words as it stops (a push cut short, an assemble killed), and keeps a stage's own failure while the engine answers", async () => {
    for (const script of [{ pushError: 'connect ECONNREFUSED 10.250.1.2:2376', stopsAtFailure: true }, { exitCode: 143, stopsAtFailure: true }]) {
      const { run, current } = setup(new FakeRuntime(script));
      await run();
      const again = await current();
      expect(again.status).toMatchObject({ phase: 'New', message: expect.stringMatching(/^attempt 2: the engine of node local stopped answering while the build ran on it \((failed to push|assemble exited with code 143)/) });
      expect(again.metadata.annotations).toMatchObject({ [ATTEMPT_ANNOTATION]: '2', [LOST_NODE_ANNOTATION]: 'local' });
      rmSync(path.join(dir, 'demo'), { recursive: true, force: true });
    }
    // Killed, but the engine answers all along (ENGINE_GOING_MS): the build's own failure.
    const { run, current } = setup(new FakeRuntime({ exitCode: 143 }));
    await run();
    expect((await current()).status).toMatchObject({ phase: 'Failed', reason: 'AssembleFailed' });
  }, 15_000);

  it('fails a build whose engine failed it unexpectedly but still answers, as an internal error', async () => {
    const { run, current } = setup(new FakeRuntime({ glitch: true }));
    await run();
    expect((await current()).status).toMatchObject({ phase: 'Failed', reason: 'InternalError', message: 'the build failed with an internal error: unexpected end of the engine stream' });
  }, 15_000);

  it("fails a claimed build, instead of leaving it Pending, when its node's engine cannot be opened", async () => {
    const { run, current, nodes } = setup(new FakeRuntime());
    jest.spyOn(nodes, 'engine').mockImplementation(() => {
      throw new Error("ENOENT: no such file or directory, open '/nodes/local/ca.pem'");
    });
    await run();
    expect((await current()).status).toMatchObject({ phase: 'Failed', reason: 'InternalError', message: expect.stringContaining('ca.pem') });
  });

  it('fails as NodeLost when the node of its last attempt goes away', async () => {
    const runtime = new FakeRuntime({ deaf: true });
    const build = aBuild();
    const { run, current, nodes, published } = setup(runtime, { ...build, metadata: { ...build.metadata, annotations: { [ATTEMPT_ANNOTATION]: '2' } } });
    const running = run();
    await assembling(runtime);
    nodes.remove('local');
    await running;

    expect((await current()).status).toMatchObject({ phase: 'Failed', reason: 'NodeLost', message: 'node local was removed while the build ran on it', nodeName: 'local' });
    expect(published.map((event) => event.type)).toEqual(['build.started', 'build.failed']);
    expect(await logOf()).toContain('error: build error: node local was removed while the build ran on it');
  });

  it('fails at once, as NodeLost, a build whose node is not registered', async () => {
    const runtime = new FakeRuntime();
    const { run, current, nodes } = setup(runtime, { ...aBuild(), metadata: { ...aBuild().metadata, annotations: { [ATTEMPT_ANNOTATION]: '2' } } });
    nodes.remove('local');
    await run();
    expect((await current()).status).toMatchObject({ phase: 'Failed', reason: 'NodeLost', message: 'node "local" that the build was placed on is not registered' });
    expect(runtime.calls).toEqual([]);
  });

  it('fails a claimed build, instead of leaving it Pending, when its log cannot be opened', async () => {
    const runtime = new FakeRuntime();
    const diskFull: BuildLogStore = {
      open: async () => {
        throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      },
      read: (ns, name, offset) => logs.read(ns, name, offset),
      remove: (ns, name) => logs.remove(ns, name),
    };
    const { published, phases, runBuild, run, current } = setup(runtime, aBuild(), diskFull);

    await expect(run()).resolves.toMatchObject({ status: { phase: 'Failed', reason: 'InternalError' } });

    expect(phases).toEqual(['Pending', 'Failed']);
    expect((await current()).status.message).toContain('ENOSPC: no space left on device');
    expect(published).toEqual([{ type: 'build.failed', data: expect.objectContaining({ reason: 'InternalError' }) }]);
    expect(runBuild.abort('demo', 'app-1')).toBe(false);
  });

  it('fails a claimed build when its scratch directory cannot be made', async () => {
    const runtime = new FakeRuntime();
    const notADirectory = path.join(dir, 'a-file');
    writeFileSync(notADirectory, '');
    const { phases, runBuild, run, current } = setup(runtime, aBuild(), logs, { ...settings(), buildsDir: notADirectory });

    await run();

    expect(phases).toEqual(['Pending', 'Failed']);
    expect((await current()).status).toMatchObject({ reason: 'InternalError', message: expect.stringContaining('ENOTDIR') });
    expect(await logOf()).toContain('error: build error: the build failed with an internal error');
    expect(runBuild.abort('demo', 'app-1')).toBe(false);
  });
});

describe('BuildStrategyFactory on a node', () => {
  const node = (runtime: FakeRuntime) => ({ name: 'node-1', engineUrl: 'tcp://10.250.1.2:2376', registryHost: '10.250.1.1:5000', runtime });
  const streams = { imageOf: async (namespace: string, name: string) => (name === 'builders:node' ? `127.0.0.1:5000/${namespace}/builders@sha256:${'b'.repeat(64)}` : undefined) };
  const factory = new BuildStrategyFactory(
    {} as Git,
    { registryHost: '127.0.0.1:5000', builders: { nodejs: BUILDER } } as unknown as BuildSettings,
    new FakeCredentials(),
    { credentials: async () => undefined },
    streams,
    { put: async () => ({ object: 'none', bytes: 0, sha256: '' }), download: async () => undefined, delete: async () => undefined },
    new WarmBuilders(),
  );
  const ctx = (runtime: FakeRuntime) => ({ build: aBuild(), workDir: '/nowhere', log: { write: async () => undefined, tail: () => '' }, signal: new AbortController().signal, node: node(runtime) });
  const source: FetchedSource = { revision: { commit: COMMIT, author: 'Ann <ann@example.com>', message: 'first' }, archive: () => Readable.from([]), scripts: [], environment: [], readFile: async () => undefined };

  it("commits, names and pushes the image on the node's engine, for the registry as that node reaches it", async () => {
    const runtime = new FakeRuntime();
    const strategy = factory.forBuild(aBuild(), node(runtime));
    if (strategy.type !== 'Source') throw new Error('a Source build makes a Source strategy');
    const { imageReference } = await strategy.committer.commit(ctx(runtime), { containerId: 'container-1', run: ['/usr/libexec/s2i/run'], user: '1001' }, source);
    expect(imageReference).toBe('10.250.1.1:5000/demo/app:latest');
    await strategy.pusher.push(ctx(runtime), imageReference);
    expect(runtime.calls).toEqual(['commit container-1 10.250.1.1:5000/demo/app:latest', 'push 10.250.1.1:5000/demo/app:latest paas-build-service token:demo/app:push,pull+mount']);
  });

  it("pulls a builder stream tag's image again when it is gone from the node between the resolver's look and the assembler's", async () => {
    const fromStream = aBuild({ strategy: { type: 'Source', sourceStrategy: { from: { kind: 'ImageStreamTag', name: 'builders:node' }, env: [] } } });
    const onNode = `10.250.1.1:5000/demo/builders@sha256:${'b'.repeat(64)}`;
    const runtime = new FakeRuntime();
    // There at the first look, removed (someone's rmi) right after it, there again once pulled.
    let present = true;
    let looks = 0;
    runtime.inspectImage = async () => {
      const answer = present ? { id: 'sha256:builder', labels: {}, user: '1001' } : undefined;
      if (++looks === 1) present = false;
      return answer;
    };
    runtime.pull = async (reference: string) => {
      runtime.calls.push(`pull ${reference}`);
      present = true;
    };
    const strategy = factory.forBuild(fromStream, node(runtime));
    if (strategy.type !== 'Source') throw new Error('a Source build makes a Source strategy');
    await strategy.assembler.assemble({ ...ctx(runtime), build: fromStream }, source);
    expect(runtime.calls).toEqual([`pull ${onNode}`, `run paas-build-demo.app-1 ${onNode}`]);
  });

  it("runs a builder stream tag's image, by digest as the node reaches the registry, pulled there with a pull token when the node lacks it", async () => {
    const fromStream = (name: string) => aBuild({ strategy: { type: 'Source', sourceStrategy: { from: { kind: 'ImageStreamTag', name }, env: [] } } });
    const onNode = `10.250.1.1:5000/demo/builders@sha256:${'b'.repeat(64)}`;
    const runtime = new FakeRuntime();
    const present = new Set<string>();
    runtime.inspectImage = async (reference: string) => (present.has(reference) ? { id: 'sha256:builder', labels: {}, user: '1001' } : undefined);
    runtime.pull = async (reference: string, options: { auth?: { registrytoken?: string } }) => {
      runtime.calls.push(`pull ${reference} ${options.auth?.registrytoken}`);
      present.add(reference);
    };
    const strategy = factory.forBuild(fromStream('builders:node'), node(runtime));
    if (strategy.type !== 'Source') throw new Error('a Source build makes a Source strategy');
    const assembled = await strategy.assembler.assemble({ ...ctx(runtime), build: fromStream('builders:node') }, source);
    expect(runtime.calls).toEqual([`pull ${onNode} token:demo/builders:pull`, `run paas-build-demo.app-1 ${onNode}`]);
    expect(assembled.containerId).toBe('container-1');

    const missing = factory.forBuild(fromStream('builders:gone'), node(runtime));
    if (missing.type !== 'Source') throw new Error('a Source build makes a Source strategy');
    await expect(missing.assembler.assemble({ ...ctx(runtime), build: fromStream('builders:gone') }, source)).rejects.toMatchObject({ reason: 'BuilderImageNotFound', message: 'builder "builders:gone" is not available on node node-1' });
  });

  it("runs another namespace's builder stream tag when that namespace lets this one's builds pull it, and fails without a grant even when the node has the image", async () => {
    const fromStream = (namespace: string) => aBuild({ strategy: { type: 'Source', sourceStrategy: { from: { kind: 'ImageStreamTag', namespace, name: 'builders:node' }, env: [] } } });
    const runtime = new FakeRuntime();
    const shared = factory.forBuild(fromStream('shared'), node(runtime));
    if (shared.type !== 'Source') throw new Error('a Source build makes a Source strategy');
    await shared.assembler.assemble({ ...ctx(runtime), build: fromStream('shared') }, source);
    expect(runtime.calls).toContain(`run paas-build-demo.app-1 10.250.1.1:5000/shared/builders@sha256:${'b'.repeat(64)}`);

    const refused = factory.forBuild(fromStream('private'), node(runtime));
    if (refused.type !== 'Source') throw new Error('a Source build makes a Source strategy');
    await expect(refused.assembler.assemble({ ...ctx(runtime), build: fromStream('private') }, source)).rejects.toMatchObject({
      reason: 'BuilderImageNotFound',
      message: 'builder private/builders:node: the builds of namespace demo may not pull private/builders',
    });
  });

  it('names the node that lacks the builder image', async () => {
    const runtime = new FakeRuntime();
    runtime.inspectImage = async () => undefined as never;
    const strategy = factory.forBuild(aBuild(), node(runtime));
    if (strategy.type !== 'Source') throw new Error('a Source build makes a Source strategy');
    await expect(strategy.assembler.assemble(ctx(runtime), source)).rejects.toMatchObject({ reason: 'BuilderImageNotFound', message: 'builder "nodejs" is not available on node node-1' });
  });
});

/** Once the timers and promises under way (a pool's start, a waiting container's claim) have run. */
async function settled(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setTimeout(resolve, 1));
}

/** A pool that starts the next container at once (not WARM_START_DELAY_MS after). */
function warmNow(): WarmBuilders {
  const warm = new WarmBuilders();
  warm.startDelayMs = 0;
  return warm;
}

describe('S2IAssembler with builder containers started ahead', () => {
  const source: FetchedSource = { revision: { commit: COMMIT, author: 'Ann <ann@example.com>', message: 'first' }, archive: () => tarOf({ 'server.js': 'hello' }), scripts: [], environment: ['GREETING=hello'], readFile: async () => undefined };
  const buildNamed = (name: string, overrides: Partial<Build['spec']> = {}): Build => {
    const build = aBuild(overrides);
    return { ...build, metadata: { ...build.metadata, name } };
  };
  const ctx = (runtime: FakeRuntime, build: Build) => ({ build, workDir: '/nowhere', log: { write: async () => undefined, tail: () => '' }, signal: new AbortController().signal, node: { name: 'local', engineUrl: 'unix:///var/run/docker.sock', registryHost: '127.0.0.1:5000', runtime } });

  /** Runs the build's assemble as RunBuild does (the container prepared first), then lets the assembler start the next waiting one. */
  async function assemble(assembler: S2IAssembler, runtime: FakeRuntime, build: Build) {
    const context = ctx(runtime, build);
    await assembler.assemble(context, source, assembler.prepare(context));
    await settled();
  }

  it("hands the next build of a catalog builder on the node the container started after the last one's, with the BuildConfig's variables on stdin", async () => {
    const runtime = new FakeRuntime();
    const assembler = new S2IAssembler(runtime, async () => BUILDER, async () => undefined, 'local', warmNow());

    await assemble(assembler, runtime, buildNamed('app-1'));
    await assemble(assembler, runtime, buildNamed('app-2'));

    expect(runtime.calls.filter((call) => /^(run|startWaiting|claim) /.test(call))).toEqual([
      `run paas-build-demo.app-1 ${BUILDER}`,
      `startWaiting waiting-1 ${BUILDER} as 1001 []`,
      'claim waiting-1 as paas-build-demo.app-2',
      `run paas-build-demo.app-2 ${BUILDER}`,
      `startWaiting waiting-2 ${BUILDER} as 1001 []`,
    ]);
    // The source's variables, then the BuildConfig's (the last wins in `env`), as the cold container's own environment would have had them.
    expect(runtime.lines).toEqual(['/usr/libexec/s2i/assemble', 'none', 'none', 'GREETING=hello', 'NODE_ENV=production']);
  });

  it("gives a user's builder image, or a BuildConfig variable holding a line break, a container of its own, and starts none ahead for it", async () => {
    const streamBuilder = { strategy: { type: 'Source' as const, sourceStrategy: { from: { kind: 'ImageStreamTag' as const, name: 'builders:node' }, env: [] } } };
    const multiLine = { strategy: { type: 'Source' as const, sourceStrategy: { from: { kind: 'Builder' as const, name: 'nodejs' }, env: [{ name: 'KEY', value: 'line 1\nline 2' }] } } };
    for (const overrides of [streamBuilder, multiLine]) {
      const runtime = new FakeRuntime();
      const assembler = new S2IAssembler(runtime, async () => BUILDER, async () => undefined, 'local', warmNow());
      await assemble(assembler, runtime, buildNamed('app-1', overrides));
      await assemble(assembler, runtime, buildNamed('app-2', overrides));
      expect(runtime.calls.filter((call) => /^(run|startWaiting|claim) /.test(call))).toEqual([`run paas-build-demo.app-1 ${BUILDER}`, `run paas-build-demo.app-2 ${BUILDER}`]);
      expect(runtime.lines).toEqual(['/usr/libexec/s2i/assemble', 'none', 'none', 'GREETING=hello']);
    }
  });

  it('starts a container of its own when the waiting one is gone before the build (removed) or at its claim (exited)', async () => {
    const removed = new FakeRuntime();
    const assembler = new S2IAssembler(removed, async () => BUILDER, async () => undefined, 'local', warmNow());
    await assemble(assembler, removed, buildNamed('app-1'));
    await removed.remove('waiting-1');
    await assemble(assembler, removed, buildNamed('app-2'));
    expect(removed.calls.filter((call) => /^(run|claim) /.test(call))).toEqual([`run paas-build-demo.app-1 ${BUILDER}`, `run paas-build-demo.app-2 ${BUILDER}`]);

    const exited = new FakeRuntime();
    const another = new S2IAssembler(exited, async () => BUILDER, async () => undefined, 'local', warmNow());
    await assemble(another, exited, buildNamed('app-1'));
    exited.exitsBeforeClaim = true;
    await assemble(another, exited, buildNamed('app-2'));
    expect(exited.calls.filter((call) => /^(run|claim) /.test(call))).toEqual([`run paas-build-demo.app-1 ${BUILDER}`, `run paas-build-demo.app-2 ${BUILDER}`]);
  });
});

describe('WarmBuilders', () => {
  const key = (imageId: string) => ({ node: 'local', image: BUILDER, imageId, user: '1001', destination: '/tmp', networkDisabled: false });
  const spec = { name: 'paas-build-warm-1', image: BUILDER, cmd: ['/bin/sh'], env: [], user: '1001', labels: {} };

  it('keeps one container per builder and node: a new image of the builder replaces the waiting one, a shutdown removes what waits', async () => {
    const runtime = new FakeRuntime();
    const warm = warmNow();
    warm.replenish(runtime, key('sha256:old'), spec);
    warm.replenish(runtime, key('sha256:old'), spec);
    await settled();
    warm.replenish(runtime, key('sha256:new'), spec);
    await settled();
    expect(runtime.calls).toEqual([`startWaiting waiting-1 ${BUILDER} as 1001 []`, 'remove waiting-1', `startWaiting waiting-2 ${BUILDER} as 1001 []`]);
    expect(await warm.take(key('sha256:old'))).toBeUndefined();

    await warm.onApplicationShutdown();
    expect(runtime.calls.at(-1)).toBe('remove waiting-2');
    expect(await warm.take(key('sha256:new'))).toBeUndefined();
  });

  it('starts the next container WARM_START_DELAY_MS after it is asked for, and none when a build comes first (that build asks again once assembled)', async () => {
    jest.useFakeTimers();
    try {
      const runtime = new FakeRuntime();
      const warm = new WarmBuilders();
      warm.replenish(runtime, key('sha256:new'), spec);
      expect(await warm.take(key('sha256:new'))).toBeUndefined();
      await jest.advanceTimersByTimeAsync(WARM_START_DELAY_MS);
      expect(runtime.calls).toEqual([]);

      warm.replenish(runtime, key('sha256:new'), spec);
      await jest.advanceTimersByTimeAsync(WARM_START_DELAY_MS - 1);
      expect(runtime.calls).toEqual([]);
      await jest.advanceTimersByTimeAsync(1);
      expect(runtime.calls).toEqual([`startWaiting waiting-1 ${BUILDER} as 1001 []`]);
      expect((await warm.take(key('sha256:new')))?.id).toBe('waiting-1');
    } finally {
      jest.useRealTimers();
    }
  });
});
