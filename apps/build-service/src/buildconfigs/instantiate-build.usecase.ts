import { Inject, Injectable } from '@nestjs/common';
import type { BinaryBuildRequest, Build, BuildConfig } from '@paas/contracts/builds';
import type { EnvVar } from '@paas/contracts/meta';
import { ApiError } from '@paas/platform/api-error';
import { BUILD_SETTINGS, type BuildSettings } from '../build-settings';
import { BuildRepository } from '../builds/build.repository';
import { BuildConfigRepository } from './buildconfig.repository';

export const BUILD_CONFIG_LABEL = 'buildconfig';
export const OPENSHIFT_BUILD_CONFIG_LABEL = 'openshift.io/build-config.name';
/** A build's number among its BuildConfig's (`<bc>-<n>`), as OpenShift annotates it. */
export const BUILD_NUMBER_ANNOTATION = 'openshift.io/build.number';

/** What a new Build owes once stored: `build.requested`. */
const requested = (build: Build) => [
  { id: `build.requested:${build.metadata.uid}`, type: 'build.requested' as const, data: { namespace: build.metadata.namespace, name: build.metadata.name, buildConfig: build.metadata.labels?.[BUILD_CONFIG_LABEL] ?? '' } },
];

/**
 * A new Build `<bc>-<n>` from the BuildConfig's current spec, n = ++status.lastVersion (an
 * optimistic update, so concurrent calls get distinct numbers); its create owes
 * `build.requested` (its outbox), and its change reaches the BuildController either way.
 */
@Injectable()
export class InstantiateBuild {
  constructor(
    private readonly buildConfigs: BuildConfigRepository,
    private readonly builds: BuildRepository,
    @Inject(BUILD_SETTINGS) private readonly settings: BuildSettings,
  ) {}

  /**
   * `commit`: the one to build (a webhook's push), instead of the branch's head when the build
   * runs; `env`: variables a generic webhook adds to a Source build's (the same name replaced).
   */
  async execute(namespace: string, name: string, message: string, { commit, env }: { commit?: string; env?: EnvVar[] } = {}): Promise<Build> {
    const { source } = (await this.buildConfigs.get(namespace, name)).spec;
    if (source.type === 'Binary') throw ApiError.of('BadRequest', `buildconfig ${namespace}/${name} builds uploaded files (source type Binary): start it with instantiatebinary and the files`);
    const bc = await this.buildConfigs.updateStatus(namespace, name, (status) => ({ ...status, lastVersion: status.lastVersion + 1 }));
    const build = this.newBuild(bc, message, commit);
    return this.builds.create(env?.length ? withEnv(build, env) : build, { outbox: requested });
  }

  /** Build 1 of a BuildConfig stored with it counted (`status.lastVersion` 1). */
  first(bc: BuildConfig, message: string): Promise<Build> {
    return this.builds.create(this.newBuild(bc, message), { outbox: requested });
  }

  /** A Build of a Binary BuildConfig from an upload the gateway stored; its revision is what the request says, else the uploader's. */
  async forUpload({ namespace, name, upload, uploader, revision }: BinaryBuildRequest): Promise<Build> {
    const { source } = (await this.buildConfigs.get(namespace, name)).spec;
    if (source.type !== 'Binary') throw ApiError.of('BadRequest', `buildconfig ${namespace}/${name} builds from git (source type ${source.type}), not from uploaded files: use instantiate`);
    const bc = await this.buildConfigs.updateStatus(namespace, name, (status) => ({ ...status, lastVersion: status.lastVersion + 1 }));
    const build = this.newBuild(bc, `Binary upload by ${uploader}`);
    const spec = { ...build.spec, binary: upload, revision: { ...revision, author: revision?.author ?? uploader } };
    return this.builds.create({ ...build, spec }, { outbox: requested });
  }

  /**
   * A build for a new image on the builder's stream tag `from`, once per image: the number and
   * the image are written in one update of the BuildConfig's status (`imageChangeTriggers`), so
   * a redelivered event, or one that two replicas take, starts no second build. Answers
   * undefined when that image already started one.
   */
  async forImageChange(namespace: string, name: string, from: string, image: string): Promise<Build | undefined> {
    let started = false;
    const bc = await this.buildConfigs.update(namespace, name, (current) => {
      const triggers = current.status.imageChangeTriggers ?? [];
      started = !triggers.some((trigger) => trigger.from === from && trigger.lastTriggeredImageID === image);
      if (!started) return undefined;
      const imageChangeTriggers = [...triggers.filter((trigger) => trigger.from !== from), { from, lastTriggeredImageID: image }];
      return { ...current, status: { ...current.status, lastVersion: current.status.lastVersion + 1, imageChangeTriggers } };
    });
    return started ? this.builds.create(this.newBuild(bc, `Image change: ${from} is now ${image}`), { outbox: requested }) : undefined;
  }

  private newBuild(bc: BuildConfig, message: string, commit?: string) {
    const { namespace, name, uid, labels } = bc.metadata;
    const version = bc.status.lastVersion;
    const [imageStream, tag] = bc.spec.output.to.name.split(':');
    return {
      metadata: {
        name: `${name}-${version}`,
        namespace,
        labels: { ...labels, [BUILD_CONFIG_LABEL]: name, [OPENSHIFT_BUILD_CONFIG_LABEL]: name },
        annotations: { 'openshift.io/build-config.name': name, [BUILD_NUMBER_ANNOTATION]: String(version) },
        ownerReferences: [{ apiVersion: 'v1', kind: 'BuildConfig', name, uid, controller: true }],
      },
      spec: { ...bc.spec, triggeredBy: [{ message }], ...(commit ? { revision: { commit } } : {}) },
      status: {
        phase: 'New' as const,
        stages: [],
        outputDockerImageReference: `${this.settings.registryHost}/${namespace}/${imageStream}:${tag}`,
      },
    };
  }
}

/** `build` with `env` added to its Source strategy's environment, each replacing a variable of the same name. */
function withEnv<B extends { spec: Build['spec'] }>(build: B, env: EnvVar[]): B {
  const { strategy } = build.spec;
  if (strategy.type !== 'Source') return build;
  const names = new Set(env.map((variable) => variable.name));
  const merged = [...strategy.sourceStrategy.env.filter((variable) => !names.has(variable.name)), ...env];
  return { ...build, spec: { ...build.spec, strategy: { ...strategy, sourceStrategy: { ...strategy.sourceStrategy, env: merged } } } };
}
