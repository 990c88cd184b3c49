import { Inject, Injectable, Logger } from '@nestjs/common';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Build, BuildStage, BuildStageName } from '@paas/contracts/builds';
import type { EventMap } from '@paas/contracts/events';
import type { OutboxEvent } from '@paas/platform/resource-repository';
import { BUILD_LOGS, type BuildLogStore, type OpenBuildLog } from '../adapters/build-log-files';
import { BUILD_SETTINGS, type BuildSettings } from '../build-settings';
import { BuildRepository, type BuildStore } from './build.repository';
import { CONTAINER_RUNTIME, type ContainerRuntime } from './pipeline/container-runtime';
import { BuildFailure, type BuildContext } from './pipeline/roles';
import { buildContainerName } from './pipeline/s2i-roles';
import { BuildStrategyFactory } from './pipeline/strategy-factory';

type StrategySource = Pick<BuildStrategyFactory, 'forBuild'>;

/**
 * Runs a build the BuildController has claimed through its strategy's stages: Running,
 * FetchSource → Assemble → Commit → Push, each stage timed in the status, then Complete or
 * Failed with a reason. `build.started`, `build.completed` and `build.failed` are owed by the
 * status writes that say so (their outboxes). The build container and scratch directory are
 * always removed; the completion deadline aborts whatever stage runs.
 */
@Injectable()
export class RunBuild {
  private readonly logger = new Logger(RunBuild.name);
  private readonly running = new Map<string, AbortController>();

  constructor(
    @Inject(BuildRepository) private readonly builds: BuildStore,
    @Inject(BuildStrategyFactory) private readonly strategies: StrategySource,
    @Inject(CONTAINER_RUNTIME) private readonly runtime: ContainerRuntime,
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
    const controller = this.running.get(`${namespace}/${name}`);
    controller?.abort(new BuildFailure('BuildPodDeleted', 'the build was deleted while it ran'));
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
    // Everything after the claim runs inside the try: a log or scratch directory that cannot be
    // made (ENOSPC, EACCES) must end the build as Failed, never leave it Pending for good.
    let log: OpenBuildLog | undefined;
    let workDir: string | undefined;
    try {
      log = await this.logs.open(namespace, name);
      const workRoot = path.join(this.settings.buildsDir, 'work');
      await mkdir(workRoot, { recursive: true });
      workDir = await mkdtemp(path.join(workRoot, `${namespace}.${name}-`));
      const build = await this.builds.update(namespace, name, (current) => ({ ...current, status: { ...current.status, phase: 'Running', startTimestamp: new Date(startedAt).toISOString() } }), {
        outbox: (next) => [buildEvent('build.started', next, {})],
      });
      const ctx: BuildContext = { build, workDir, log, signal: controller.signal };
      const digest = await this.runStages(ctx);
      return await this.finish(build, log, startedAt, { digest });
    } catch (error) {
      return await this.finish(claimed, log, startedAt, { failure: this.asFailure(error, key) });
    } finally {
      clearTimeout(deadline);
      this.running.delete(key);
      const warn = (what: string) => (error: Error) => this.logger.warn({ msg: `could not ${what} of ${key}: ${error.message}` });
      await this.runtime.remove(buildContainerName(claimed)).catch(warn('remove the container'));
      if (workDir) await rm(workDir, { recursive: true, force: true }).catch(warn('remove the scratch directory'));
      await log?.close().catch(warn('close the log'));
    }
  }

  private async runStages(ctx: BuildContext): Promise<string> {
    const strategy = this.strategies.forBuild(ctx.build);
    const { namespace, name } = ctx.build.metadata;
    const source = await this.stage(ctx, 'FetchSource', () => strategy.source.fetch(ctx));
    ctx.build = await this.builds.update(namespace, name, (current) => ({ ...current, spec: { ...current.spec, revision: source.revision } }));
    const { containerId } = await this.stage(ctx, 'Assemble', () => strategy.assembler.assemble(ctx, source));
    const { imageReference } = await this.stage(ctx, 'Commit', () => strategy.committer.commit(ctx, containerId, source));
    const { digest } = await this.stage(ctx, 'Push', () => strategy.pusher.push(ctx, imageReference));
    return digest;
  }

  /** Runs one stage and records it (also when it fails) with its start time and duration. */
  private async stage<T>(ctx: BuildContext, stage: BuildStageName, work: () => Promise<T>): Promise<T> {
    ctx.signal.throwIfAborted();
    const start = Date.now();
    const record = () => {
      const entry: BuildStage = { name: stage, startTime: new Date(start).toISOString(), durationMilliseconds: Date.now() - start };
      const { namespace, name } = ctx.build.metadata;
      return this.builds.updateStatus(namespace, name, (status) => ({ ...status, stages: [...status.stages, entry] }));
    };
    try {
      const result = await work();
      ctx.build = await record();
      return result;
    } catch (error) {
      await record().catch(() => undefined);
      throw error;
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
    if ('failure' in outcome) await log?.write(`error: build error: ${outcome.failure.message}\n`);
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
      return await this.builds.update(namespace, name, (current) => ({ ...current, status: { ...current.status, ...end, phase: 'Failed', reason, message } }), {
        outbox: (failed) => [buildEvent('build.failed', failed, { reason, message })],
      });
    } catch (error) {
      // The build record may have been deleted while it ran: nothing left to report to.
      this.logger.warn({ msg: `could not record the end of build ${namespace}/${name}: ${(error as Error).message}` });
      return undefined;
    }
  }
}

/** A `build.*` event a write of `build` owes, its id unique to the build and the type. */
export function buildEvent<T extends 'build.started' | 'build.completed' | 'build.failed'>(type: T, build: Build, facts: Omit<EventMap[T], 'namespace' | 'name' | 'buildConfig'>): OutboxEvent<T> {
  const { namespace, name, uid } = build.metadata;
  const buildConfig = build.metadata.labels?.buildconfig ?? '';
  return { id: `${type}:${uid}`, type, data: { namespace, name, uid, buildConfig, ...facts } as EventMap[T] };
}
