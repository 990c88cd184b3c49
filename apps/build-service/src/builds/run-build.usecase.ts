import { Inject, Injectable, Logger } from '@nestjs/common';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Build, BuildStage, BuildStageName } from '@paas/contracts/builds';
import type { EventMap } from '@paas/contracts/events';
import { isNodeReady } from '@paas/contracts/nodes';
import { withinTime } from '@paas/platform/docker-engines';
import type { OutboxEvent } from '@paas/platform/resource-repository';
import { BUILD_LOGS, type BuildLogStore, type OpenBuildLog } from '../adapters/build-log-files';
import { BUILD_SETTINGS, type BuildSettings } from '../build-settings';
import { BUILD_NODES, type BuildNodes, type NodeEngine } from '../nodes/build-nodes';
import { attemptOf, MAX_ATTEMPTS, nextAttempt } from './build-attempts';
import { ENGINE_CALL_TIMEOUT_MS, removeBuildContainer } from './build-containers';
import { BuildRepository, type BuildStore } from './build.repository';
import { BuildFailure, type BuildContext, type BuildStrategy, type FetchedSource, type Preparation } from './pipeline/roles';
import { buildContainerName } from './pipeline/s2i-roles';
import { BuildStrategyFactory } from './pipeline/strategy-factory';

/** What a cancelled build says (OpenShift's words). */
export const CANCELLED_MESSAGE = 'The build was cancelled by the user.';

/** How long a node's engine has to answer when a build on it failed unexpectedly (else the node is taken as lost). */
const ENGINE_CHECK_TIMEOUT_MS = 3_000;
/** How long a failure the engine's going away could explain keeps asking the engine (a stopping one exits once its containers are stopped), and how often. */
const ENGINE_GOING_MS = 3_000;
const ENGINE_RECHECK_MS = 250;

type StrategySource = Pick<BuildStrategyFactory, 'forBuild'>;
/** Runs one stage of a build and records it. */
type StageRunner = <T>(stage: BuildStageName, work: () => Promise<T>) => Promise<T>;

/**
 * Runs a build the BuildController has claimed through its strategy's stages: Running,
 * FetchSource → Assemble and Commit (Source) or Build (Docker) → PostCommit → Push, each
 * stage timed in the status, then Complete or Failed with a reason. `build.started`, `build.completed` and `build.failed` are owed by the
 * status writes that say so (their outboxes). The build container and scratch directory are
 * always removed; the completion deadline aborts whatever stage runs.
 *
 * The container work happens on the engine of the node the claim placed the build on
 * (`status.nodeName`). A node that turns NotReady or is removed while the build runs ends the
 * run at once, without waiting on its engine: the build is run again (as its next attempt,
 * placed anew) if it has an attempt left, else it fails as NodeLost.
 */
@Injectable()
export class RunBuild {
  private readonly logger = new Logger(RunBuild.name);
  private readonly running = new Map<string, AbortController>();

  constructor(
    @Inject(BuildRepository) private readonly builds: BuildStore,
    @Inject(BuildStrategyFactory) private readonly strategies: StrategySource,
    @Inject(BUILD_NODES) private readonly nodes: Pick<BuildNodes, 'get' | 'list' | 'engine' | 'onChange'>,
    @Inject(BUILD_LOGS) private readonly logs: BuildLogStore,
    @Inject(BUILD_SETTINGS) private readonly settings: BuildSettings,
  ) {}

  /** How many builds run in this process now. */
  get active(): number {
    return this.running.size;
  }

  isRunning(namespace: string, name: string): boolean {
    return this.running.has(`${namespace}/${name}`);
  }

  /** Stops a build this process runs (its record was deleted); answers whether it ran here. */
  abort(namespace: string, name: string): boolean {
    return this.stop(namespace, name, new BuildFailure('BuildPodDeleted', 'the build was deleted while it ran'));
  }

  /** Stops a build this process runs because it was cancelled: it ends as Cancelled once its container is gone. */
  cancel(namespace: string, name: string): boolean {
    return this.stop(namespace, name, new BuildFailure('CancelledBuild', CANCELLED_MESSAGE));
  }

  private stop(namespace: string, name: string, why: BuildFailure): boolean {
    const controller = this.running.get(`${namespace}/${name}`);
    if (controller && !controller.signal.aborted) controller.abort(why);
    return Boolean(controller);
  }

  /** Runs a claimed (Pending) build to its end; resolves with what was recorded (undefined when the record is gone). */
  async run(claimed: Build): Promise<Build | undefined> {
    const { namespace, name } = claimed.metadata;
    const key = `${namespace}/${name}`;
    const controller = new AbortController();
    this.running.set(key, controller);
    const deadlineSeconds = claimed.spec.completionDeadlineSeconds;
    const deadline = setTimeout(
      () => controller.abort(new BuildFailure('BuildTimedOut', `the build did not finish within its completion deadline of ${deadlineSeconds} s`)),
      deadlineSeconds * 1000,
    );
    const startedAt = Date.now();
    const nodeName = claimed.status.nodeName ?? '';
    const stopWatchingNode = this.watchNode(nodeName, controller);
    if (claimed.status.cancelled) controller.abort(new BuildFailure('CancelledBuild', CANCELLED_MESSAGE));
    // Everything after the claim runs inside the try: a log or scratch directory that cannot be
    // made (ENOSPC, EACCES) must end the build as Failed, never leave it Pending for good.
    let log: OpenBuildLog | undefined;
    let workDir: string | undefined;
    let outcome: { digest: string } | { failure: BuildFailure };
    // Opened inside the try (a node's TLS files may be missing), kept for judging a failure.
    let engine: NodeEngine | undefined;
    const warn = (what: string) => (error: Error) => this.logger.warn({ msg: `could not ${what} of ${key}: ${error.message}` });
    // Once: as soon as the image is made (runStages), else at the end.
    let containerRemoval: Promise<void> | undefined;
    const removeContainer = () => (containerRemoval ??= removeBuildContainer(this.nodes, claimed).catch(warn('remove the container')));
    const writes = new StatusWrites(warn('record the status'));
    try {
      log = await this.logs.open(namespace, name);
      engine = this.nodes.engine(nodeName);
      if (!engine) throw new BuildFailure('NodeLost', `node "${nodeName}" that the build was placed on is not registered`);
      controller.signal.throwIfAborted();
      await log.write(`---> Building on node ${engine.name} (${engine.engineUrl})\n`);
      // The runner lease is ours: a container of this name is an earlier attempt's, left on a node that was lost.
      if (attemptOf(claimed) > 1) await withinTime(engine.runtime.remove(buildContainerName(claimed)), ENGINE_CALL_TIMEOUT_MS);
      const workRoot = path.join(this.settings.buildsDir, 'work');
      await mkdir(workRoot, { recursive: true });
      workDir = await mkdtemp(path.join(workRoot, `${namespace}.${name}-`));
      writes.add(() =>
        this.builds.update(namespace, name, (current) => ({ ...current, status: { ...current.status, phase: 'Running', startTimestamp: new Date(startedAt).toISOString() } }), {
          outbox: (next) => [buildEvent('build.started', next, {})],
        }),
      );
      const ctx: BuildContext = { build: claimed, workDir, log, signal: controller.signal, node: engine };
      // A stage waiting on an engine that stopped answering must not hold the build: an abort ends it.
      outcome = { digest: await untilAborted(this.runStages(ctx, removeContainer, writes), controller.signal) };
    } catch (error) {
      outcome = { failure: await this.failureOf(controller.signal.aborted ? controller.signal.reason : error, key, engine) };
    }
    try {
      clearTimeout(deadline);
      stopWatchingNode();
      // Cleaned up before the outcome is recorded: a build seen Complete or Failed has left nothing behind
      // (a node that does not answer within ENGINE_CALL_TIMEOUT_MS is left to the leftover sweep).
      await removeContainer();
      if (workDir) await rm(workDir, { recursive: true, force: true }).catch(warn('remove the scratch directory'));
      // The outcome is written after what the run recorded on its way.
      await writes.settled();
      const recorded = await this.finish(claimed, log, startedAt, outcome);
      await log?.close().catch(warn('close the log'));
      return recorded;
    } finally {
      this.running.delete(key);
    }
  }

  /** Aborts the run when its node turns NotReady or goes away (now or later); returns a function that stops watching. */
  private watchNode(nodeName: string, controller: AbortController): () => void {
    const lost = (why: string) => controller.abort(new BuildFailure('NodeLost', `node ${nodeName} ${why} while the build ran on it`));
    const stop = this.nodes.onChange(({ type, object }) => {
      if (object.metadata.name !== nodeName || controller.signal.aborted) return;
      if (type === 'DELETED') lost('was removed');
      else if (!isNodeReady(object)) lost(`became NotReady (${notReadyWhy(object)})`);
    });
    const now = this.nodes.get(nodeName);
    if (now && !isNodeReady(now)) lost(`was NotReady (${notReadyWhy(now)})`);
    return stop;
  }

  /** `removeContainer` is called once the build's container is no longer needed: its work is in the image. */
  private async runStages(ctx: BuildContext, removeContainer: () => void, writes: StatusWrites): Promise<string> {
    const strategy = this.strategies.forBuild(ctx.build, ctx.node);
    const { namespace, name } = ctx.build.metadata;
    const stage: StageRunner = (stageName, work) => this.stage(ctx, writes, stageName, work);
    // A Source build's builder container starts while the source is fetched, and waits for it.
    const prepared = strategy.type === 'Source' ? strategy.assembler.prepare(ctx) : undefined;
    const source = await stage('FetchSource', () => strategy.source.fetch(ctx)).catch(async (error: unknown) => {
      await prepared?.cancel(error);
      throw error;
    });
    // The commit another attempt of this build must build.
    writes.add(() => this.builds.update(namespace, name, (current) => ({ ...current, spec: { ...current.spec, revision: source.revision } })));
    const { imageReference, user } = await this.makeImage(ctx, strategy, source, stage, prepared);
    // Removed while the image is checked and pushed, not after: the engine does both at once.
    removeContainer();
    if (ctx.build.spec.postCommit) await stage('PostCommit', () => strategy.postCommit.run(ctx, imageReference, user));
    const { digest } = await stage('Push', () => strategy.pusher.push(ctx, imageReference));
    return digest;
  }

  /** Assemble then Commit (Source), or Build (Docker): the image to push, and whom it runs as. */
  private async makeImage(ctx: BuildContext, strategy: BuildStrategy, source: FetchedSource, stage: StageRunner, prepared?: Preparation): Promise<{ imageReference: string; user: string }> {
    if (strategy.type === 'Docker') return stage('Build', () => strategy.builder.build(ctx, source));
    const assembled = await stage('Assemble', () => strategy.assembler.assemble(ctx, source, prepared));
    const { imageReference } = await stage('Commit', () => strategy.committer.commit(ctx, assembled, source));
    return { imageReference, user: assembled.user };
  }

  /** Runs one stage and records it (also when it fails) with its start time and duration, the next stage going on meanwhile. */
  private async stage<T>(ctx: BuildContext, writes: StatusWrites, stage: BuildStageName, work: () => Promise<T>): Promise<T> {
    ctx.signal.throwIfAborted();
    const start = Date.now();
    try {
      return await work();
    } finally {
      const entry: BuildStage = { name: stage, startTime: new Date(start).toISOString(), durationMilliseconds: Date.now() - start };
      const { namespace, name } = ctx.build.metadata;
      writes.add(() => this.builds.updateStatus(namespace, name, (status) => ({ ...status, stages: [...status.stages, entry] })));
    }
  }

  /**
   * What a run's error is recorded as. An unexpected one, or a stage's failure that the engine's
   * going away explains (`engineMayHaveCaused`: an assemble killed as the engine stopped its
   * containers, a commit or push cut short), is the node's loss, as when the node turns NotReady
   * (which takes up to the node grace), when the engine stops answering within ENGINE_GOING_MS.
   * An engine stopped under a build refuses new connections at once, but it answers on those it
   * has open until it exits, its containers stopped: the chaos suite's "stop node-1's engine"
   * saw builds fail so as AssembleFailed (code 143) and as an internal error ("transport is
   * closing") when the engine was asked once only.
   */
  private async failureOf(error: unknown, key: string, engine: NodeEngine | undefined): Promise<BuildFailure> {
    if (!engine || (error instanceof BuildFailure && !error.engineMayHaveCaused)) return this.asFailure(error, key);
    // The engine stopping still answers on the connections it has open until it exits: asked again for a while.
    if (await this.keepsAnswering(engine, ENGINE_GOING_MS)) return this.asFailure(error, key);
    const said = String((error as Error)?.message ?? error).split('\n')[0];
    return new BuildFailure('NodeLost', `the engine of node ${engine.name} stopped answering while the build ran on it (${said})`);
  }

  /** Whether the engine answers now, and at each check within `forMs` (every ENGINE_RECHECK_MS). */
  private async keepsAnswering(engine: NodeEngine, forMs: number): Promise<boolean> {
    const until = Date.now() + forMs;
    for (;;) {
      const answers = await withinTime(engine.runtime.listBuildContainers({}), ENGINE_CHECK_TIMEOUT_MS).then(
        () => true,
        () => false,
      );
      if (!answers) return false;
      if (Date.now() >= until) return true;
      await new Promise((resolve) => setTimeout(resolve, ENGINE_RECHECK_MS));
    }
  }

  private asFailure(error: unknown, key: string): BuildFailure {
    if (error instanceof BuildFailure) return error;
    this.logger.error({ msg: `build ${key} failed unexpectedly`, error: (error as Error)?.stack ?? String(error) });
    return new BuildFailure('InternalError', `the build failed with an internal error: ${(error as Error)?.message ?? String(error)}`);
  }

  /** Records the outcome, with the event it owes; `log` is missing when the build failed before its log could be opened. */
  private async finish(build: Build, log: OpenBuildLog | undefined, startedAt: number, outcome: { digest: string } | { failure: BuildFailure }): Promise<Build | undefined> {
    const { namespace, name } = build.metadata;
    const end = { completionTimestamp: new Date().toISOString(), durationMilliseconds: Date.now() - startedAt };
    try {
      if ('digest' in outcome) {
        const [imageStream] = build.spec.output.to.name.split(':');
        return await this.builds.update(namespace, name, (current) => ({ ...current, status: { ...current.status, ...end, phase: 'Complete', output: { to: { imageDigest: outcome.digest } } } }), {
          outbox: (done) => [
            buildEvent('build.completed', done, {
              output: {
                imageStreamTag: done.spec.output.to.name,
                digest: outcome.digest,
                dockerImageReference: `${this.settings.registryHost}/${namespace}/${imageStream}@${outcome.digest}`,
              },
            }),
          ],
        });
      }
      const { reason, message } = outcome.failure;
      if (reason === 'NodeLost' && attemptOf(build) < MAX_ATTEMPTS) {
        const attempt = attemptOf(build) + 1;
        await log?.write(`---> ${message}; running the build again (attempt ${attempt} of ${MAX_ATTEMPTS})\n`).catch(() => undefined);
        this.logger.warn({ msg: `build ${namespace}/${name}: ${message}; attempt ${attempt}` });
        return await this.builds.update(namespace, name, (current) => nextAttempt(current, build.metadata.uid, message, build.status.nodeName));
      }
      await log?.write(reason === 'CancelledBuild' ? `---> ${message}\n` : `error: build error: ${message}\n`).catch(() => undefined);
      const phase = reason === 'CancelledBuild' ? 'Cancelled' : 'Failed';
      return await this.builds.update(namespace, name, (current) => ({ ...current, status: { ...current.status, ...end, phase, reason, message } }), {
        outbox: (failed) => [buildEvent('build.failed', failed, { reason, message })],
      });
    } catch (error) {
      // The build record may have been deleted while it ran: nothing left to report to.
      this.logger.warn({ msg: `could not record the end of build ${namespace}/${name}: ${(error as Error).message}` });
      return undefined;
    }
  }
}

/**
 * A run's status writes on its way (Running, each stage as it ends, the commit fetched), made
 * one after another while the build goes on: none of them holds up the next stage. One that
 * fails is told and skipped (the outcome's write is the one that counts); `settled` resolves
 * once all are done, before the outcome is written.
 */
class StatusWrites {
  private chain = Promise.resolve();

  constructor(private readonly onFailure: (error: Error) => void) {}

  add(write: () => Promise<unknown>): void {
    this.chain = this.chain.then(() => write().then(() => undefined, this.onFailure));
  }

  settled(): Promise<void> {
    return this.chain;
  }
}

/** What a Node's Ready condition says, for a message. */
function notReadyWhy(node: { status: { conditions: { type: string; reason?: string; message?: string }[] } }): string {
  const ready = node.status.conditions.find((condition) => condition.type === 'Ready');
  return ready ? [ready.reason, ready.message].filter(Boolean).join(': ') : 'no Ready condition';
}

/** `work`, or the signal's reason as soon as it is aborted. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  let onAbort: () => void = () => undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  work.catch(() => undefined);
  return Promise.race([work, aborted]).finally(() => signal.removeEventListener('abort', onAbort));
}

/** A `build.*` event a write of `build` owes, its id unique to the build and the type. */
export function buildEvent<T extends 'build.started' | 'build.completed' | 'build.failed'>(type: T, build: Build, facts: Omit<EventMap[T], 'namespace' | 'name' | 'buildConfig'>): OutboxEvent<T> {
  const { namespace, name, uid } = build.metadata;
  const buildConfig = build.metadata.labels?.buildconfig ?? '';
  return { id: `${type}:${uid}`, type, data: { namespace, name, uid, buildConfig, ...facts } as EventMap[T] };
}
