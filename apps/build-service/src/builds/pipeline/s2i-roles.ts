import { context, propagation, SpanKind, trace, type Context } from '@opentelemetry/api';
import { BUILD_IMAGE_LABELS, BUILD_MANAGER, buildContainerResources, type Build, type BuildConfigSpec, type BuilderRef } from '@paas/contracts/builds';
import { INSTANCE_LABEL, loadConfig } from '@paas/platform/config';
import { statusOf } from '@paas/platform/api-error';
import type { RegistryCredentials } from '@paas/platform/registry-tokens';
import { randomUUID } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { BUILD_CONTAINER_PREFIX, ContainerGoneError, ImageNotFoundError, PushError, type ContainerRuntime, type ImageInfo, type RunSpec } from './container-runtime';
import { redactCredentials } from './redact-credentials';
import { assembleInput, incrementalInput } from './s2i-input';
import type { WarmBuilders, WarmKey } from './warm-builders';
import { BuildFailure, type Assembled, type Assembler, type BuildContext, type Committer, type FetchedSource, type PostCommitRunner, type Preparation, type Pusher } from './roles';

export const S2I_SCRIPTS_URL = 'image:///usr/libexec/s2i';
/** source-to-image's labels on a builder image: where its scripts are, and where the source goes. */
export const S2I_LABELS = { scriptsUrl: 'io.openshift.s2i.scripts-url', destination: 'io.openshift.s2i.destination', assembleUser: 'io.openshift.s2i.assemble-user' } as const;
const DEFAULT_DESTINATION = '/tmp';
/** The `paas.dev/build` label of a builder container started ahead (WarmBuilders), until a build claims it (and renames it its own). */
export const WARM_BUILD_KEY = 'warm';
/**
 * What the builder container runs, started before the source is at hand ($1: the destination):
 * it reads from stdin, a line each, the assemble script, `copy` or not, `artifacts` or not, then
 * the source's `.s2i/environment` (a `NAME=value` per line; then the BuildConfig's, for a build
 * that may run in a container started ahead, which has none of them; an empty line after the last), then
 * the tar: the source into `<destination>/src` (for an incremental build the tar holds `src/`
 * and `artifacts/`, unpacked at the destination); the source's own `.s2i/bin` scripts (when it
 * brings any) into `<destination>/scripts`, as s2i lays them out; then `assemble`, given the
 * variables by `env`. What it reads is kept in the positional parameters, which no variable of
 * the source can change, and is never interpolated: `read` takes each line whole.
 */
const ASSEMBLE_SCRIPT = [
  'set -e',
  'IFS= read -r assemble; IFS= read -r copy; IFS= read -r artifacts',
  'set -- "$1" "$assemble" "$copy" "$artifacts"',
  'while IFS= read -r variable && [ -n "$variable" ]; do set -- "$@" "$variable"; done',
  'unset assemble copy artifacts variable',
  'if [ "$4" = artifacts ]; then tar -C "$1" -xf -; else mkdir -p "$1/src" && tar -C "$1/src" -xf -; fi',
  'if [ "$3" = copy ]; then mkdir -p "$1/scripts" && cp "$1/src/.s2i/bin/"* "$1/scripts/" && chmod 755 "$1/scripts/"*; fi',
  'script=$2',
  'shift 4',
  'exec env "$@" "$script"',
].join('\n');
/** Runs an optional s2i script ($1) of the image (`usage`). Exit 86: the image has no such script. */
export const OPTIONAL_SCRIPT = '[ -x "$1" ] || exit 86\nexec "$1"';
/**
 * Runs the previous image's `save-artifacts` (its stdout a tar), whose path it reads from stdin
 * first: the container is started while the source is fetched, and the source says which script
 * it is (its own `.s2i/bin` one or the image's). Exit 86: the image has no such script.
 */
const SAVE_ARTIFACTS_SCRIPT = 'IFS= read -r script || exit 86\n[ -x "$script" ] || exit 86\nexec "$script"';
const NO_SUCH_SCRIPT = 86;
const S2I_USER = '1001';
const APP_PORT = '8080/tcp';
const FAILURE_TAIL_LINES = 10;
const tracer = trace.getTracer('build-service');

/** `<ns>.<name>`: both are DNS labels, so the dot makes it unambiguous. */
export function buildKey(build: Build): string {
  return `${build.metadata.namespace}.${build.metadata.name}`;
}

export function buildContainerName(build: Build): string {
  return `${BUILD_CONTAINER_PREFIX}${buildKey(build)}`;
}

/** `<namespace>/<imagestream>`: the registry repository a build's output goes to. */
export function outputRepository(build: Build): { repository: string; tag: string } {
  const [imageStream, tag] = build.spec.output.to.name.split(':');
  return { repository: `${build.metadata.namespace}/${imageStream}`, tag };
}

export function buildContainerLabels(build: Build): Record<string, string> {
  return containerLabels(buildKey(build));
}

/** The labels of a container of the build-service's: whose build it is (`paas.dev/build`), by whom and for which instance. */
function containerLabels(build: string): Record<string, string> {
  return { [BUILD_IMAGE_LABELS.build]: build, [BUILD_IMAGE_LABELS.managedBy]: BUILD_MANAGER, [INSTANCE_LABEL]: loadConfig().instance };
}

/** The builder image a Source build (or BuildConfig) names (`sourceStrategy.from`); a Docker build has none. */
export function builderRefOf({ strategy }: Pick<BuildConfigSpec, 'strategy'>): BuilderRef | undefined {
  return strategy.type === 'Source' ? strategy.sourceStrategy.from : undefined;
}

/**
 * Resolves the builder a BuildConfig names to the image to run (on the build's node), once per
 * build; `again`: resolved anew (a stream tag's image pulled again when the node lacks it).
 */
export type BuilderImageResolver = (build: Build, options?: { again?: boolean }) => Promise<string | undefined>;
/** An incremental build's previous image on the build's node; undefined (the log says why) for a full build. */
export type PreviousImageResolver = (ctx: BuildContext) => Promise<{ reference: string; image: ImageInfo } | undefined>;

/** Where an s2i build finds its scripts and puts the source (source-to-image's contract). */
export interface S2IPaths {
  destination: string;
  assemble: string;
  run: string;
  saveArtifacts: string;
  usage: string;
  /** The source brings scripts of its own, copied to `<destination>/scripts`. */
  sourceScripts: boolean;
}

/**
 * Each script from the source's `.s2i/bin` when it has it, else from the builder's
 * `io.openshift.s2i.scripts-url` (an `image://` path; s2i's default when unlabelled); the
 * source under the builder's `io.openshift.s2i.destination` (`/tmp`).
 */
export function s2iPaths(builderLabels: Record<string, string>, sourceScripts: readonly string[]): S2IPaths {
  const destination = s2iDestination(builderLabels);
  const url = builderLabels[S2I_LABELS.scriptsUrl] || S2I_SCRIPTS_URL;
  if (!url.startsWith('image:///')) {
    throw new BuildFailure('InvalidScriptsURL', `the builder's ${S2I_LABELS.scriptsUrl} is "${url}": only an image:// path is used, or scripts in the source's .s2i/bin`);
  }
  const inImage = url.slice('image://'.length).replace(/\/+$/, '');
  const script = (name: string) => (sourceScripts.includes(name) ? `${destination}/scripts/${name}` : `${inImage}/${name}`);
  return { destination, assemble: script('assemble'), run: script('run'), saveArtifacts: script('save-artifacts'), usage: script('usage'), sourceScripts: sourceScripts.length > 0 };
}

/** Where the source goes in the builder: its `io.openshift.s2i.destination` (`/tmp` when unlabelled). */
function s2iDestination(builderLabels: Record<string, string>): string {
  return (builderLabels[S2I_LABELS.destination] || DEFAULT_DESTINATION).replace(/(.)\/+$/, '$1');
}

/** An exit code of 128 + a signal's number: the process was killed (by the engine stopping its containers, say), it did not fail. */
function killedBySignal(exitCode: number): boolean {
  return exitCode > 128;
}

/** What a builder container runs (ASSEMBLE_SCRIPT, given the destination): it reads its work on stdin. */
function assembleCommand(builder: ImageInfo): string[] {
  return ['/bin/sh', '-c', ASSEMBLE_SCRIPT, 'assemble', s2iDestination(builder.labels)];
}

/**
 * Whom assemble runs as: the builder's `io.openshift.s2i.assemble-user`, else the image's own
 * user; never root, whatever the image says (root, uid 0, or no user at all): then s2i's
 * default user 1001. Answers the user and, when the image's choice was overruled, why.
 */
export function assembleUser(builder: ImageInfo): { user: string; overruled?: string } {
  const wanted = (builder.labels[S2I_LABELS.assembleUser] || builder.user).trim();
  const name = wanted.split(':')[0];
  if (name === '' || name === 'root' || /^0+$/.test(name)) {
    return { user: S2I_USER, overruled: `the builder image would run assemble as ${wanted ? `"${wanted}"` : 'root'}; builds never run as root: running it as ${S2I_USER}` };
  }
  return { user: wanted };
}

/** A build's builder as its node has it, and whom assemble runs as there (assembleUser). */
interface FoundBuilder {
  image: string;
  info: ImageInfo;
  user: string;
  /** Why the image's own user was overruled, when it was. */
  overruled?: string;
}

/**
 * A builder container started before the source is at hand (S2IAssembler.prepare): it waits on
 * stdin (ASSEMBLE_SCRIPT) while the source is fetched.
 */
export interface PreparedAssembly extends Preparation {
  /** The builder found on the node; rejects with BuilderImageNotFound when it is not there. */
  builder: Promise<FoundBuilder>;
  /** An incremental build's save-artifacts, started beside the builder container; undefined for a full build (the log says why). */
  saving?: Promise<SavingArtifacts | undefined>;
  /** Hands the container its input; resolves once it exited. */
  feed(input: Readable): Promise<{ containerId: string; exitCode: number }>;
}

/**
 * Runs the builder's (or the source's) `assemble` in a builder container (s2iPaths), which is
 * started while the source is fetched and then reads it on stdin (ASSEMBLE_SCRIPT): the
 * container's start (150–300 ms on an engine) is no longer on the build's path after the fetch.
 */
export class S2IAssembler implements Assembler {
  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly builderImage: BuilderImageResolver,
    private readonly previousImage: PreviousImageResolver,
    /** The node whose engine this is, for messages. */
    private readonly nodeName: string,
    /** Builder containers started ahead for the next build of a builder on this node; none: each build starts its own. */
    private readonly warm?: Pick<WarmBuilders, 'take' | 'replenish'>,
  ) {}

  /**
   * Finds the builder on the node and starts its container, which waits for the source (or takes
   * one that waits already); an incremental build's save-artifacts starts too, and waits for the
   * source to say which script it runs. Cancelling stops both.
   */
  prepare(ctx: BuildContext): PreparedAssembly {
    const assembly = this.startContainer(ctx, this.findBuilder(ctx));
    if (!incremental(ctx.build)) return assembly;
    const cancelled = new AbortController();
    const saving = this.startSavingArtifacts(ctx, cancelled.signal);
    saving.catch(() => undefined);
    return {
      ...assembly,
      saving,
      cancel: async (reason) => {
        cancelled.abort(reason);
        await Promise.all([assembly.cancel(reason), saving.then((started) => started?.finish(), () => undefined)]);
      },
    };
  }

  async assemble(ctx: BuildContext, source: FetchedSource, prepared: PreparedAssembly = this.prepare(ctx)) {
    try {
      const builder = await prepared.builder;
      const paths = s2iPaths(builder.info.labels, source.scripts);
      if (builder.overruled) await ctx.log.write(`---> ${builder.overruled}\n`);
      if (paths.sourceScripts) await ctx.log.write(`---> Using the source's .s2i/bin scripts (${source.scripts.join(', ')})\n`);
      const saving = await prepared.saving;
      // One that could not even be started while the source was fetched: no container to stop, built in full at once.
      if (saving?.failed.aborted) await ctx.log.write(`---> Incremental build: ${(saving.failed.reason as Error).message}, building in full\n`);
      if (!saving || saving.failed.aborted) return await this.feed(ctx, prepared, source, { builder, paths });
      await saving.run(source);
      // A save-artifacts that failed (or fails) stops the assemble reading its tar.
      const stopAssemble = () => void prepared.cancel(saving.failed.reason);
      if (saving.failed.aborted) stopAssemble();
      else saving.failed.addEventListener('abort', stopAssemble, { once: true });
      try {
        return await this.feed(ctx, prepared, source, { builder, paths, artifacts: saving.tar });
      } catch (error) {
        if (ctx.signal.aborted || !saving.failed.aborted) throw error;
        await ctx.log.write(`---> Incremental build: ${(saving.failed.reason as Error).message}, building in full\n`);
        const again = this.startContainer(ctx, prepared.builder);
        try {
          return await this.feed(ctx, again, source, { builder, paths });
        } finally {
          await again.cancel(new Error('the assemble is over'));
        }
      } finally {
        await saving.finish();
      }
    } finally {
      // A container never fed (the build failed before) is stopped and removed; one that ran is left as it is.
      await prepared.cancel(new Error('the assemble is over'));
    }
  }

  /**
   * The builder on the node. An image the resolver found (or pulled) may be gone by the time it
   * is looked at (the node's image GC, someone's `rmi`): it is resolved once more (`again`),
   * which pulls a stream tag's image again.
   */
  private async findBuilder(ctx: BuildContext, again = false): Promise<FoundBuilder> {
    const image = await this.builderImage(ctx.build, { again });
    const info = image && (await this.runtime.inspectImage(image));
    if (image && info) return { image, info, ...assembleUser(info) };
    if (image && !again) return this.findBuilder(ctx, true);
    throw new BuildFailure('BuilderImageNotFound', `builder "${builderRefOf(ctx.build.spec)?.name}" is not available on node ${this.nodeName}`);
  }

  /** The builder container, started once `builder` is found, waiting for what `feed` hands it; `cancel` stops it. */
  private startContainer(ctx: BuildContext, builder: Promise<FoundBuilder>): PreparedAssembly {
    const stopping = new AbortController();
    const signal = AbortSignal.any([ctx.signal, stopping.signal]);
    let handOver: (input: Readable) => void = () => undefined;
    let refuse: (reason: unknown) => void = () => undefined;
    const input = new Promise<Readable>((resolve, reject) => ([handOver, refuse] = [resolve, reject]));
    input.catch(() => undefined);
    signal.addEventListener('abort', () => refuse(signal.reason), { once: true });
    const run = async (found: FoundBuilder) => {
      const spec: RunSpec = {
        name: buildContainerName(ctx.build),
        image: found.image,
        cmd: assembleCommand(found.info),
        // The source's .s2i/environment comes on stdin, less what the BuildConfig sets (sourceEnvironment).
        env: buildEnv(ctx.build),
        user: found.user,
        labels: buildContainerLabels(ctx.build),
        resources: buildContainerResources(ctx.build.spec),
        input,
        onOutput: (chunk) => ctx.log.write(chunk),
        signal,
      };
      const key = this.warmKey(ctx.build, found);
      const waiting = key && (await this.warm?.take(key));
      try {
        // A container started ahead has no environment of the BuildConfig: it comes on stdin (feed).
        if (waiting) return await waiting.claim(spec);
      } catch (error) {
        if (!(error instanceof ContainerGoneError)) throw error;
      }
      return this.runtime.run(spec);
    };
    // An image gone between its inspection and the container's create is found (pulled) again, once.
    const ran = builder.then((found) => run(found).catch(async (error: unknown) => (error instanceof ImageNotFoundError ? run(await this.findBuilder(ctx, true)) : Promise.reject(error))));
    let ended = false;
    ran.then(
      () => (ended = true),
      () => (ended = true),
    );
    // Once this one has run, one waits for the next build of the builder (started now: not beside this build's own start and assemble).
    void ran.then(
      () => this.startNextWaiting(ctx.build, builder),
      () => this.startNextWaiting(ctx.build, builder),
    );
    return {
      builder,
      feed: (data) => {
        handOver(data);
        return ran;
      },
      cancel: async (reason) => {
        if (!ended) stopping.abort(reason);
        await ran.catch(() => undefined);
      },
    };
  }

  /**
   * Whether a build may run in a builder container started ahead: one of a catalog builder (the
   * platform's own images; a user's builder image stays theirs to remove), whose BuildConfig
   * variables can go on stdin a line each (none holds a line break).
   */
  private warmEligible(build: Build): boolean {
    return this.warm !== undefined && builderRefOf(build.spec)?.kind === 'Builder' && buildEnv(build).every((variable) => !/[\r\n]/.test(variable));
  }

  private warmKey(build: Build, found: FoundBuilder): WarmKey | undefined {
    if (!this.warmEligible(build)) return undefined;
    const networkDisabled = buildContainerResources(build.spec)?.networkDisabled === true;
    return { node: this.nodeName, image: found.image, imageId: found.info.id, user: found.user, destination: s2iDestination(found.info.labels), networkDisabled };
  }

  /** Starts a builder container that waits for the next build like this one, when this build may use one. */
  private async startNextWaiting(build: Build, builder: Promise<FoundBuilder>): Promise<void> {
    const found = await builder.catch(() => undefined);
    const key = found && this.warmKey(build, found);
    if (!found || !key) return;
    this.warm?.replenish(this.runtime, key, {
      name: `${BUILD_CONTAINER_PREFIX}${WARM_BUILD_KEY}-${randomUUID().slice(0, 8)}`,
      image: found.image,
      cmd: assembleCommand(found.info),
      env: [],
      user: found.user,
      labels: containerLabels(WARM_BUILD_KEY),
      // The claiming build's memory and CPU are set then; its network cannot be.
      resources: key.networkDisabled ? { networkDisabled: true } : undefined,
    });
  }

  /** Hands the container ASSEMBLE_SCRIPT's lines and the tar; a non-zero exit is AssembleFailed. */
  private async feed(ctx: BuildContext, container: PreparedAssembly, source: FetchedSource, { builder, paths, artifacts }: { builder: FoundBuilder; paths: S2IPaths; artifacts?: Readable }) {
    await ctx.log.write(`---> Running ${paths.assemble} in ${builder.image}\n`);
    // The BuildConfig's variables after the source's (env: the last wins), for a container started ahead without them.
    const viaStdin = this.warmEligible(ctx.build) ? buildEnv(ctx.build) : [];
    const lines = [paths.assemble, paths.sourceScripts ? 'copy' : 'none', artifacts ? 'artifacts' : 'none', ...sourceEnvironment(ctx.build, source), ...viaStdin, ''];
    const { containerId, exitCode } = await container.feed(assembleInput(lines, artifacts ? incrementalInput(artifacts, source.archive()) : source.archive()));
    if (exitCode !== 0) {
      await this.runtime.remove(containerId);
      throw new BuildFailure('AssembleFailed', `assemble exited with code ${exitCode}:\n${ctx.log.tail(FAILURE_TAIL_LINES)}`, killedBySignal(exitCode));
    }
    return { containerId, run: [paths.run], user: builder.user };
  }

  /**
   * Incremental: the output tag's previous image (pulled to this node when it lacks it) starts
   * a container for its `save-artifacts` (as a user of its own, never root) while the source is
   * fetched (`prepare`); once `run` names the script, its stdout, a tar of what it keeps, streams
   * straight into the assemble. The tar ends only once save-artifacts exited 0; otherwise
   * `failed` is aborted, with why, and the tar cut: the assemble reading it is stopped and made
   * again in full. Undefined (a full build, said in the log) without a previous image, and
   * when `cancelled` (the fetch failed) before the previous image was found.
   */
  private async startSavingArtifacts(ctx: BuildContext, cancelled: AbortSignal): Promise<SavingArtifacts | undefined> {
    const previous = await this.previousImage(ctx);
    if (!previous || cancelled.aborted) return undefined;
    const { reference, image } = previous;
    let saveArtifacts = '';
    let handOver: (script: string) => void = () => undefined;
    const script = new Promise<string>((resolve) => (handOver = resolve));
    const tar = new PassThrough();
    const failing = new AbortController();
    // Stopped once the assemble is done with it: one that ended early leaves it blocked on a full pipe.
    const stopping = new AbortController();
    const saved = this.runtime.run({
      name: `${buildContainerName(ctx.build)}-save-artifacts`,
      image: reference,
      entrypoint: ['/bin/sh', '-c'],
      cmd: [SAVE_ARTIFACTS_SCRIPT, 'save-artifacts'],
      env: [],
      user: assembleUser(image).user,
      labels: buildContainerLabels(ctx.build),
      // It only reads files: no network to reach (nor to set up, ~30 ms of its start).
      resources: { ...buildContainerResources(ctx.build.spec), networkDisabled: true },
      onOutput: (chunk) => ctx.log.write(chunk),
      onStdout: (chunk) => writeWaitingForRoom(tar, chunk),
      input: script.then((path) => Readable.from([`${path}\n`])),
      signal: AbortSignal.any([ctx.signal, stopping.signal]),
    });
    // Once the assemble is done with it, its end says nothing more; before, a failure stops that assemble.
    // The tar is cut without an error either way: the assemble hears why from `failed`, not from a stream nobody may listen to yet.
    const fail = (why: string) => {
      if (!stopping.signal.aborted) failing.abort(new Error(why));
      tar.destroy();
    };
    const ended = saved.then(
      async ({ containerId, exitCode }) => {
        if (exitCode === 0) tar.end();
        else fail(exitCode === NO_SUCH_SCRIPT ? `the previous image has no ${saveArtifacts}` : `${saveArtifacts} exited with code ${exitCode}`);
        await this.runtime.remove(containerId);
      },
      (error: Error) => fail(`${saveArtifacts || 'save-artifacts'} could not be run: ${error.message}`),
    );
    return {
      tar,
      failed: failing.signal,
      run: async (source) => {
        saveArtifacts = s2iPaths(image.labels, source.scripts).saveArtifacts;
        await ctx.log.write(`---> Incremental build: saving artifacts with ${saveArtifacts} of the previous image\n`);
        handOver(saveArtifacts);
      },
      finish: async () => {
        stopping.abort(new Error('the assemble is done with the saved artifacts'));
        await ended;
      },
    };
  }
}

/** A save-artifacts under way (S2IAssembler.startSavingArtifacts). */
interface SavingArtifacts {
  /** Names the script to run, the source's (its `.s2i/bin`) or the previous image's, and says so in the log. */
  run(source: FetchedSource): Promise<void>;
  /** Its stdout, ended once it exited 0. */
  tar: Readable;
  /** Aborted, with why, when it did not exit 0: the assemble reading `tar` must stop. */
  failed: AbortSignal;
  /** Stops it if it still runs, and waits until its container is gone. */
  finish(): Promise<void>;
}

/** Writes `chunk`, resolving once `stream` has room for more (or is gone: nobody reads what is left). */
function writeWaitingForRoom(stream: PassThrough, chunk: Buffer): Promise<void> {
  if (stream.destroyed || stream.write(chunk)) return Promise.resolve();
  return new Promise((resolve) => {
    stream.once('drain', resolve);
    stream.once('close', resolve);
  });
}

/** Whether a Source build is incremental (`sourceStrategy.incremental`). */
function incremental(build: Build): boolean {
  const { strategy } = build.spec;
  return strategy.type === 'Source' && strategy.sourceStrategy.incremental === true;
}

/** The source's `.s2i/environment` less what the BuildConfig sets too: the BuildConfig's wins, as in s2i. */
export function sourceEnvironment(build: Build, source: FetchedSource): string[] {
  const set = new Set(buildEnv(build).map((variable) => variable.split('=')[0]));
  return source.environment.filter((variable) => !set.has(variable.split('=')[0]));
}

/** The BuildConfig's environment (`sourceStrategy.env`) as `NAME=value`; a Docker build's is its Dockerfile's. */
function buildEnv(build: Build): string[] {
  const { strategy } = build.spec;
  return strategy.type === 'Source' ? strategy.sourceStrategy.env.map((e) => `${e.name}=${e.value}`) : [];
}

/** The `io.openshift.build.*` labels s2i puts on what it builds: where the source came from, which commit, by whom. */
export function provenanceLabels(build: Build, source: FetchedSource): Record<string, string> {
  const { git } = build.spec.source;
  const labels: Record<string, string> = {
    'io.openshift.build.name': build.metadata.name,
    'io.openshift.build.namespace': build.metadata.namespace,
    'io.openshift.build.commit.id': source.revision.commit,
    // A Binary build's files came with it: no ref, no location.
    ...(git ? { 'io.openshift.build.commit.ref': git.ref, 'io.openshift.build.source-location': redactCredentials(git.uri) } : {}),
  };
  if (source.revision.author) labels['io.openshift.build.commit.author'] = source.revision.author;
  if (source.revision.message) labels['io.openshift.build.commit.message'] = source.revision.message;
  if (build.spec.source.contextDir) labels['io.openshift.build.source-context-dir'] = build.spec.source.contextDir;
  return labels;
}

/**
 * The BuildConfig's postCommit hook in a container of the new image, on the build's node, as
 * the user assemble ran as, with the build's environment and no stdin: `script` through
 * `/bin/sh -c`, or `command` as the entrypoint, with `args`. Its output goes to the build log;
 * a non-zero exit is PostCommitHookFailed. Its container is removed either way.
 */
export class S2IPostCommitHook implements PostCommitRunner {
  constructor(private readonly runtime: ContainerRuntime) {}

  async run(ctx: BuildContext, imageReference: string, user: string): Promise<void> {
    const hook = ctx.build.spec.postCommit;
    if (!hook) return;
    await ctx.log.write(`---> Running the post-commit hook in ${imageReference}\n`);
    const { containerId, exitCode } = await this.runtime.run({
      name: `${buildContainerName(ctx.build)}-post-commit`,
      image: imageReference,
      ...(hook.script ? { entrypoint: ['/bin/sh', '-c'], cmd: [hook.script] } : { entrypoint: hook.command, cmd: hook.args ?? [] }),
      env: buildEnv(ctx.build),
      user,
      labels: buildContainerLabels(ctx.build),
      resources: buildContainerResources(ctx.build.spec),
      onOutput: (chunk) => ctx.log.write(chunk),
      signal: ctx.signal,
    });
    await this.runtime.remove(containerId);
    if (exitCode !== 0) throw new BuildFailure('PostCommitHookFailed', `the post-commit hook exited with code ${exitCode}:\n${ctx.log.tail(FAILURE_TAIL_LINES)}`, killedBySignal(exitCode));
  }
}

/** Commits the assembled container with the builder's `run` as its command and the s2i labels. */
export class S2ICommitter implements Committer {
  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly registryHost: string,
    private readonly builderImage: BuilderImageResolver,
  ) {}

  async commit(ctx: BuildContext, { containerId, run, user }: Assembled, source: FetchedSource) {
    const { build } = ctx;
    const output = outputRepository(build);
    const [repository, tag] = [`${this.registryHost}/${output.repository}`, output.tag];
    await ctx.log.write(`---> Committing ${repository}:${tag}\n`);
    await this.runtime
      .commit(containerId, {
        repository,
        tag,
        cmd: run,
        // The source's and the BuildConfig's, as s2i keeps them (a container started ahead has neither in its own).
        env: [...sourceEnvironment(build, source), ...buildEnv(build)],
        user,
        exposedPorts: [APP_PORT],
        labels: {
          'io.openshift.build.image': (await this.builderImage(build)) ?? '',
          // The builder's own io.openshift.s2i.* labels come with the container's.
          ...provenanceLabels(build, source),
          // The engine copies the container's labels too; named here so that the image says it is a platform build whatever the engine does.
          ...buildContainerLabels(build),
        },
      })
      .catch((error: Error) => {
        throw new BuildFailure('CommitFailed', `failed to commit the build container: ${error.message}`, true);
      });
    return { imageReference: `${repository}:${tag}` };
  }
}

/**
 * Pushes through the engine with a registry token (push and pull on the output repository,
 * asked of the api-gateway as `system:build-service`); the trace context rides in the
 * User-Agent the engine forwards.
 */
export class RegistryPusher implements Pusher {
  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly credentials: RegistryCredentials,
  ) {}

  async push(ctx: BuildContext, imageReference: string) {
    await ctx.log.write(`---> Pushing ${imageReference}\n`);
    return tracer.startActiveSpan(`docker push ${imageReference}`, { kind: SpanKind.CLIENT }, async (span) => {
      try {
        const auth = await this.tokenRidingOutOutages(ctx);
        const { digest, layers } = await this.pushRidingOutOutages(ctx, imageReference, auth);
        await ctx.log.write(layers.map((line) => `${line}\n`).join('') + `Push successful: ${digest}\n`);
        return { digest };
      } catch (error) {
        if (ctx.signal.aborted) throw ctx.signal.reason;
        if (error instanceof PushError) throw new BuildFailure('PushImageToRegistryFailed', `failed to push ${imageReference}: ${error.message}`, true);
        throw error;
      } finally {
        span.end();
      }
    });
  }

  /**
   * The push, made again with backoff while the registry answers 5xx or cannot be reached (its
   * database restarting, say: a blip of the platform should delay a build, not fail it), within
   * PUSH_RETRY_MS; the layers pushed already are not sent again. Any other failure fails at once.
   */
  private pushRidingOutOutages(ctx: BuildContext, imageReference: string, auth: Awaited<ReturnType<RegistryPusher['tokenRidingOutOutages']>>) {
    return ridingOutOutages(
      ctx,
      { firstWaitMs: PUSH_RETRY_FIRST_WAIT_MS, withinMs: PUSH_RETRY_MS },
      () => this.runtime.push(imageReference, { userAgent: userAgentWithTrace(), auth, signal: ctx.signal }),
      async (error, waitMs) => {
        if (!(error instanceof PushError) || !TRANSIENT_PUSH_FAILURE.test(error.message)) return false;
        await ctx.log.write(`---> the registry failed the push (${error.message}): pushing again in ${waitMs / 1000} s\n`);
        return true;
      },
    );
  }

  /**
   * The push token, asked again with backoff while the gateway is unreachable (an outage of
   * NATS or of every gateway replica should delay a build, not fail it); a refusal fails at once.
   */
  private async tokenRidingOutOutages(ctx: BuildContext) {
    const repository = outputRepository(ctx.build).repository;
    let told = false;
    return ridingOutOutages(
      ctx,
      { firstWaitMs: TOKEN_RETRY_FIRST_WAIT_MS, withinMs: TOKEN_RETRY_MS },
      () => this.credentials.authConfig(repository, ['push', 'pull'], { crossMount: true }),
      async (error) => {
        if (!UNAVAILABLE.includes(statusOf(error).code)) return false;
        if (!told) await ctx.log.write(`---> waiting for a registry token: ${(error as Error).message}\n`);
        told = true;
        return true;
      },
    ).catch((error: Error) => {
      throw ctx.signal.aborted ? error : new PushError(error.message);
    });
  }
}

/**
 * `attempt` until it succeeds, waiting after each failure that `retry` accepts (it may say so in
 * the build log) from `firstWaitMs`, doubling up to RETRY_MAX_WAIT_MS, within `withinMs`; a
 * failure it refuses, one past the deadline, or the build's end, is thrown.
 */
async function ridingOutOutages<T>(
  ctx: BuildContext,
  { firstWaitMs, withinMs }: { firstWaitMs: number; withinMs: number },
  attempt: () => Promise<T>,
  retry: (error: unknown, waitMs: number) => Promise<boolean>,
): Promise<T> {
  const giveUpAt = Date.now() + withinMs;
  let waitMs = firstWaitMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (ctx.signal.aborted || Date.now() + waitMs > giveUpAt || !(await retry(error, waitMs))) throw error;
      await sleep(waitMs, undefined, { signal: ctx.signal });
      waitMs = Math.min(waitMs * 2, RETRY_MAX_WAIT_MS);
    }
  }
}

/** A registry token asked again while the api-gateway cannot answer (503, 504: NATS or every gateway restarting), within TOKEN_RETRY_MS. */
const TOKEN_RETRY_MS = 120_000;
const TOKEN_RETRY_FIRST_WAIT_MS = 500;
/** The longest wait between two tries of either. */
const RETRY_MAX_WAIT_MS = 10_000;
/** A push the registry failed on its side (a 5xx), or that could not reach it, is made again within PUSH_RETRY_MS. */
const PUSH_RETRY_MS = 120_000;
const PUSH_RETRY_FIRST_WAIT_MS = 1_000;
/** How the engine words such a failure. */
const TRANSIENT_PUSH_FAILURE = /HTTP status: 5\d\d|connection refused|connection reset|EOF/i;
/** Service Unavailable and Gateway Timeout: the answer of an RPC nobody could take. */
const UNAVAILABLE = [503, 504];

/**
 * `paas-build-service traceparent/00-<trace>-<span>-<flags>`: dockerd sends the registry
 * `UpstreamClient(<this>)` in its User-Agent, and the registry reads the trace context there.
 */
export function userAgentWithTrace(ctx: Context = context.active()): string {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier.traceparent ? `paas-build-service traceparent/${carrier.traceparent}` : 'paas-build-service';
}
