import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { DeploymentConfig, HookType, LifecycleHook, ReplicationController } from '@paas/contracts/deployments';
import { NODE_SCOPE } from '@paas/contracts/nodes';
import { RUNTIME_LABELS, type RuntimeContainer } from '../adapters/container-runtime';
import { DEPLOY_SETTINGS, type DeploySettings } from '../deploy-settings';
import { DeployInformers } from '../informers';
import { CLUSTER, type Cluster } from '../nodes/cluster';
import { placePod } from '../nodes/scheduler';
import { ContainerConfigError, ContainerEnvironment } from '../pods/container-env';
import type { HookOutcome } from './rollout-plan';

/**
 * Labels of a hook's container. Not the RC's own (`paas.dev/rc`): the RC reconciler removes a
 * container of its RC that no pod owns.
 */
export const HOOK_LABELS = { revision: 'paas.dev/hook-of', type: 'paas.dev/hook' } as const;

/** The revision's annotation that keeps how its hook of `type` ended (`{phase, message}` as JSON). */
export function hookAnnotation(type: HookType): string {
  return `paas.dev/hook.${type}`;
}

/** How the revision's hooks ended, those that have, from its annotations. */
export function hookOutcomes(rc: ReplicationController): Partial<Record<HookType, HookOutcome>> {
  const outcomes: Partial<Record<HookType, HookOutcome>> = {};
  for (const type of ['pre', 'mid', 'post'] as const) {
    const recorded = rc.metadata.annotations?.[hookAnnotation(type)];
    if (!recorded) continue;
    try {
      outcomes[type] = JSON.parse(recorded) as HookOutcome;
    } catch {
      outcomes[type] = { phase: 'Failed', message: `its recorded outcome does not parse: ${recorded.slice(0, 100)}` };
    }
  }
  return outcomes;
}

/** How much of a hook's output goes into the rollout log. */
const OUTPUT_LINES = 50;

/** Where a hook stands after a look: still running (or just started), or ended, with what to log. */
export interface HookStep {
  /** Absent while it runs; `Retry` ran it again. */
  outcome?: HookOutcome;
  log: string[];
}

/**
 * Runs a revision's lifecycle hooks (`execNewPod`), one look per reconcile: starts the hook's
 * container when none runs, and when it has stopped reads its exit code and output, removes it
 * and says how it ended; `failurePolicy` turns a failure into Failed (`Abort`), Complete
 * (`Ignore`) or a new run (`Retry`). The container runs the revision's image on a node the
 * scheduler picks for the revision's pods, with the named container's environment and limits.
 */
@Injectable()
export class LifecycleHooks {
  constructor(
    @Inject(CLUSTER) private readonly cluster: Cluster,
    @Inject(DeployInformers) private readonly cache: Pick<DeployInformers, 'nodes' | 'pods'>,
    @Inject(ContainerEnvironment) private readonly environment: Pick<ContainerEnvironment, 'resolve'>,
    @Inject(DEPLOY_SETTINGS) private readonly settings: DeploySettings,
  ) {}

  async advance(dc: DeploymentConfig, rc: ReplicationController, type: HookType, hook: LifecycleHook): Promise<HookStep> {
    const { namespace } = rc.metadata;
    const labels = { [RUNTIME_LABELS.namespace]: namespace, [HOOK_LABELS.revision]: rc.metadata.name, [HOOK_LABELS.type]: type };
    const containers = await this.cluster.listByOwner(labels);
    if (containers.some((c) => c.state === 'running' || c.state === 'created' || c.state === 'restarting')) return { log: [] };
    const [stopped] = containers;
    if (!stopped) return this.start(dc, rc, type, hook, labels);
    const runtime = this.cluster.runtimeOf(stopped.node);
    const ended: RuntimeContainer = (await runtime?.inspect(stopped.id)) ?? stopped;
    const output = ((await runtime?.logs(stopped.id, { tail: OUTPUT_LINES })) ?? '').split('\n').filter(Boolean);
    for (const container of containers) await this.cluster.runtimeOf(container.node)?.remove(container.id, { graceSeconds: 0 });
    if (ended.exitCode === 0) return { outcome: { phase: 'Complete', message: 'succeeded' }, log: [...output, `--> ${type}: Success`] };
    const why = ended.oomKilled ? `killed for going over its memory limit (OOMKilled)` : `exited with code ${ended.exitCode ?? 'unknown'}`;
    if (hook.failurePolicy === 'Retry') return { log: [...output, `--> ${type}: Failed (${why}); retrying`] };
    if (hook.failurePolicy === 'Ignore') return { outcome: { phase: 'Complete', message: `${why}, ignored` }, log: [...output, `--> ${type}: Failed (${why}); ignored (failurePolicy Ignore)`] };
    return { outcome: { phase: 'Failed', message: why }, log: [...output, `--> ${type}: Failed (${why})`] };
  }

  private async start(dc: DeploymentConfig, rc: ReplicationController, type: HookType, hook: LifecycleHook, labels: Record<string, string>): Promise<HookStep> {
    const { namespace } = rc.metadata;
    const container = rc.spec.template.spec.containers.find((c) => c.name === hook.execNewPod.containerName);
    if (!container) return { outcome: { phase: 'Failed', message: `the revision has no container named ${hook.execNewPod.containerName}` }, log: [] };
    const memoryBytes = container.resources?.limits.memoryBytes ?? this.settings.podMemoryBytes;
    const placement = placePod(this.cache.nodes.list({ namespace: NODE_SCOPE }), this.cache.pods.list(), dc.metadata.name, memoryBytes, rc.spec.template.spec.nodeSelector, this.settings.podMemoryBytes);
    if (!('node' in placement)) return { log: [`--> ${type}: waiting for a node: ${placement.unschedulable}`] };
    const runtime = this.cluster.runtimeOf(placement.node);
    if (!runtime) return { log: [] };
    let env;
    try {
      env = this.environment.resolve(namespace, { env: [...container.env, ...hook.execNewPod.env], envFrom: container.envFrom });
    } catch (error) {
      if (!(error instanceof ContainerConfigError)) throw error;
      return { outcome: { phase: 'Failed', message: error.message }, log: [`--> ${type}: Failed (${error.message})`] };
    }
    await runtime.run({
      name: `paas.${namespace}.${rc.metadata.name}-hook-${type}-${randomBytes(3).toString('hex')}`,
      hostname: `${rc.metadata.name}-hook-${type}`,
      namespace,
      image: container.image,
      env,
      command: hook.execNewPod.command,
      memoryBytes,
      cpuMillis: container.resources?.limits.cpuMillis,
      pidsLimit: this.settings.podPidsLimit,
      labels: { ...labels, [RUNTIME_LABELS.dc]: dc.metadata.name },
    });
    return { log: [`--> ${type}: Running hook pod ${hook.execNewPod.command.join(' ')} (failurePolicy ${hook.failurePolicy})`] };
  }

  /** Removes every hook container of a revision (its DC or the revision went). */
  async removeAll(namespace: string, revision: string): Promise<void> {
    for (const container of await this.cluster.listByOwner({ [RUNTIME_LABELS.namespace]: namespace, [HOOK_LABELS.revision]: revision })) {
      await this.cluster.runtimeOf(container.node)?.remove(container.id, { graceSeconds: 0 });
    }
  }
}
