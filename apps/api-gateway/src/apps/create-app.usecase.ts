import { Injectable, Logger } from '@nestjs/common';
import { newAppRequest, type NewAppRequest } from '@paas/contracts/apps';
import type { DetectedStrategy } from '@paas/contracts/builds';
import { API_VERSION } from '@paas/contracts/meta';
import { resourceMethod } from '@paas/contracts/rpc';
import { failureStatus } from '@paas/contracts/status';
import { validate } from '@paas/contracts/validation';
import { ApiError, statusOf } from '@paas/platform/api-error';
import { RpcClient } from '@paas/platform/rpc';
import type { Principal } from '../auth/principal';
import { NamespacesService, assertNamespaceName } from '../namespaces/namespaces.service';
import { CREATE_TIMEOUT_MS } from '../timeouts';
import { appManifests, type AppManifests } from './app-manifests';

/**
 * The BuildConfig first, alone: its create starts the first build, and the other four, made
 * together while it runs, would only slow its writes down (the database takes one write at a
 * time). A build that pushes before the DeploymentConfig exists is deployed by its first
 * reconcile, which finds the tag moved.
 */
const CREATION_STEPS: (keyof AppManifests)[][] = [['buildconfigs'], ['imagestreams', 'services', 'routes', 'deploymentconfigs']];
/** The order they are answered in, and undone in reverse (the BuildConfig, with the build it started, first). */
const ANSWER_ORDER: (keyof AppManifests)[] = ['imagestreams', 'services', 'routes', 'deploymentconfigs', 'buildconfigs'];
const inAnswerOrder = (a: { plural: keyof AppManifests }, b: { plural: keyof AppManifests }) => ANSWER_ORDER.indexOf(a.plural) - ANSWER_ORDER.indexOf(b.plural);

/**
 * `new-app`: validate the request, pick how to build the app when it names no builder, have
 * every owner dry-run its resource (so an unknown builder or an unreachable repository is a
 * 422 before anything exists), then create them (the BuildConfig first), deleting what was
 * created (a BuildConfig with the build it started) if any create fails: all or nothing.
 */
@Injectable()
export class CreateAppUseCase {
  private readonly logger = new Logger(CreateAppUseCase.name);

  constructor(
    private readonly rpc: RpcClient,
    private readonly namespaces: NamespacesService,
  ) {}

  /** `creator` becomes the admin of the namespace if this call creates it. */
  async execute(namespace: string, body: unknown, creator?: Principal) {
    const request = validate(newAppRequest, body, 'App', (body as { name?: string })?.name);
    if (!request.ok) throw new ApiError(request.status);
    const manifests = appManifests(request.value, await this.strategyOf(request.value));

    assertNamespaceName(namespace);
    await this.dryRun(namespace, manifests);
    await this.namespaces.ensure(namespace, creator);
    const created = await this.createAll(namespace, manifests);
    return { apiVersion: API_VERSION, kind: 'List', metadata: {}, items: created.map(({ resource }) => resource) };
  }

  /** The builder the request names; else, as `oc new-app` decides, the repository's Dockerfile or the builder its files call for (asked of the build-service). */
  private async strategyOf(app: NewAppRequest): Promise<DetectedStrategy> {
    if (app.builder) return { type: 'Source', builder: app.builder, because: 'builder' };
    const { git, ref, contextDir } = app.source;
    // A binary app has no repository to look at: the request says Docker (or named a builder, above).
    if (!git) return { type: 'Docker', because: 'strategy' };
    return this.rpc.request('buildconfigs.detect', { git, ref, contextDir, strategy: app.strategy }, { timeoutMs: CREATE_TIMEOUT_MS });
  }

  private async dryRun(namespace: string, manifests: AppManifests): Promise<void> {
    const results = await Promise.allSettled(
      ANSWER_ORDER.map((plural) =>
        this.rpc.request(resourceMethod(plural, 'create'), { namespace, body: manifests[plural], dryRun: true }, { timeoutMs: CREATE_TIMEOUT_MS }),
      ),
    );
    const failures = results.flatMap((result) => (result.status === 'rejected' ? [statusOf(result.reason)] : []));
    if (!failures.length) return;
    const worst = failures.find((status) => status.code >= 500) ?? failures[0];
    const causes = failures.flatMap((status) => status.details?.causes ?? [{ message: status.message }]);
    throw new ApiError(failureStatus(worst.reason ?? 'Invalid', failures.map((status) => status.message).join('; '), { kind: 'App', causes }));
  }

  private async createAll(namespace: string, manifests: AppManifests) {
    const created: { plural: keyof AppManifests; name: string; resource: unknown }[] = [];
    // A create that timed out or failed inside its owner may still have happened: undone too.
    const uncertain: { plural: keyof AppManifests; name: string }[] = [];
    for (const step of CREATION_STEPS) {
      const results = await Promise.allSettled(
        step.map(async (plural) => {
          const name = manifests[plural].metadata.name;
          try {
            const resource = await this.rpc.request(resourceMethod(plural, 'create'), { namespace, body: manifests[plural] }, { timeoutMs: CREATE_TIMEOUT_MS });
            created.push({ plural, name, resource });
          } catch (error) {
            if (statusOf(error).code >= 500) uncertain.push({ plural, name });
            throw error;
          }
        }),
      );
      const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
      if (failed) {
        await this.rollBack(namespace, [...created, ...uncertain]);
        throw failed.reason;
      }
    }
    return created.sort(inAnswerOrder);
  }

  /** Deletes in the reverse of the answer order: the BuildConfig, with the build it started, first. */
  private async rollBack(namespace: string, created: { plural: keyof AppManifests; name: string }[]) {
    for (const { plural, name } of [...created].sort(inAnswerOrder).reverse()) {
      await this.rpc.request(resourceMethod(plural, 'delete'), { namespace, name }).catch((error) => {
        if (statusOf(error).code !== 404) this.logger.error({ msg: `rollback of ${plural}/${name} in ${namespace} failed: ${(error as Error).message}` });
      });
    }
  }
}
