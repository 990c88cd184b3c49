import type { Readable } from 'node:stream';
import type { BuildContainerResources } from '@paas/contracts/builds';
import type { Labels } from '@paas/contracts/meta';
import type { RegistryAuthConfig } from '@paas/platform/registry-tokens';

/** The build-service's registry credentials (a RegistryCredentials). */
export const REGISTRY_CREDENTIALS = Symbol('REGISTRY_CREDENTIALS');

/** Build containers are named so; a name cannot leak into a committed image the way labels do. */
export const BUILD_CONTAINER_PREFIX = 'paas-build-';

export interface ImageInfo {
  id: string;
  labels: Labels;
  /** The image's `User` (empty: root). */
  user: string;
}

export interface RunSpec {
  /** Unique per build: a second runner of the same build fails to create it. */
  name: string;
  image: string;
  /** Replaces the image's entrypoint (kept when absent). */
  entrypoint?: string[];
  cmd: string[];
  env: string[];
  /** Whom the command runs as (a uid, `uid:gid` or a name the image knows). */
  user: string;
  labels: Labels;
  /** The build's limits and network (the runtime's defaults where it sets none). */
  resources?: BuildContainerResources;
  /**
   * Streamed into the container's stdin, then stdin is closed; without it the container has no
   * stdin. A promise: the container is started before its input is at hand (it waits on stdin);
   * one that rejects ends the run as a failure of it does (the container removed).
   */
  input?: Readable | Promise<Readable>;
  /** stdout and stderr, demultiplexed, as they are written; more is read once it resolves. */
  onOutput: (chunk: Buffer) => Promise<void>;
  /** stdout apart, as it is written (`onOutput` then gets stderr only); more is read once it resolves. */
  onStdout?: (chunk: Buffer) => Promise<void>;
  /** Aborting kills the container; `run` then rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * A container to start before the run it will serve is known: what `run` needs less the run's
 * own name, input, output and signal. It waits on stdin (its command reads it first).
 */
export type WaitingSpec = Omit<RunSpec, 'input' | 'onOutput' | 'onStdout' | 'signal'>;

/** What a run brings to a waiting container it claims (RunSpec's per-run part). */
export type ClaimSpec = Pick<RunSpec, 'name' | 'resources' | 'input' | 'onOutput' | 'signal'>;

/** A started container waiting on stdin until a run claims it (ContainerRuntime.startWaiting). */
export interface WaitingContainer {
  readonly id: string;
  /** Settles once it exited or is gone, claimed or not (removed by someone, its engine stopped). */
  readonly gone: Promise<void>;
  /**
   * Makes it the run's, then goes on as `run` does: renamed to `spec.name` (refused, as a create
   * is, when a container has that name), given the run's memory and CPU limits, its output
   * (any it wrote before, first) handed to the run's, its input streamed in. ContainerGoneError
   * when it is no longer there to claim.
   */
  claim(spec: ClaimSpec): Promise<{ containerId: string; exitCode: number }>;
}

/** A waiting container that exited or was removed before its claim: the run starts a container of its own. */
export class ContainerGoneError extends Error {}

export interface CommitSpec {
  /** `<registry>/<namespace>/<imagestream>` */
  repository: string;
  tag: string;
  cmd: string[];
  /** `NAME=value`, over the container's own variables of the same names. */
  env: string[];
  user: string;
  exposedPorts: string[];
  labels: Labels;
}

export interface PushSpec {
  /** Forwarded by the engine to the registry (it carries the trace context). */
  userAgent: string;
  /** The registry token the engine presents. */
  auth?: RegistryAuthConfig;
  signal?: AbortSignal;
}

export interface ImageBuildSpec {
  /** The build context, an uncompressed tar. */
  context: Readable;
  /** The Dockerfile's path inside the context. */
  dockerfile: string;
  /** `<repository>:<tag>` the image is tagged as. */
  tag: string;
  buildArgs: Record<string, string>;
  /** Put on the image (over the Dockerfile's own). */
  labels: Labels;
  /** The name of the (never started) container the labels are committed through: a build container's, so that a leftover is swept. */
  name: string;
  /** The build's limits and network, for every step's container. */
  resources?: BuildContainerResources;
  /** Every step built again, none taken from the engine's cache. */
  noCache: boolean;
  /** The engine's step-by-step output, as it comes. */
  onOutput: (text: string) => Promise<void>;
  /** Aborting ends the request, and the engine stops the build. */
  signal?: AbortSignal;
}

/** A Dockerfile the engine could not build, with its own words. */
export class ImageBuildError extends Error {}

export interface ContainerSummary {
  id: string;
  name: string;
  labels: Labels;
}

/** A failed push, with the registry's own words. */
export class PushError extends Error {}

/** A container's image the engine does not have (any more: an image GC or a user's `rmi` since it was looked at). */
export class ImageNotFoundError extends Error {}

/**
 * What a build needs from a container engine, in the build's own terms (source-to-image's
 * docker wrapper). The pipeline is tested against a fake of this; the Docker adapter
 * implements it over the narrow `DockerClient`.
 */
export interface ContainerRuntime {
  inspectImage(reference: string): Promise<ImageInfo | undefined>;
  /** Creates, attaches, starts and waits for the container; it is kept (for `commit`) until `remove`. ImageNotFoundError when its image is gone. */
  run(spec: RunSpec): Promise<{ containerId: string; exitCode: number }>;
  /** Creates, attaches and starts a container that waits on stdin for a run to claim it; removed with `remove` when none does. */
  startWaiting(spec: WaitingSpec): Promise<WaitingContainer>;
  /**
   * Builds a Dockerfile (the engine's build API), its step containers limited as build
   * containers are and removed whatever the outcome, and tags it with the labels; answers the
   * image id. Throws ImageBuildError when the Dockerfile fails.
   */
  buildImage(spec: ImageBuildSpec): Promise<string>;
  /** Commits the container as `<repository>:<tag>`; answers the image id. */
  commit(containerId: string, spec: CommitSpec): Promise<string>;
  /**
   * Pushes `<repository>:<tag>`; answers the manifest digest the registry stored and what
   * became of each layer, as `docker push` prints it (`<id>: Pushed`, `Mounted from …`,
   * `Layer already exists`). Throws PushError.
   */
  push(reference: string, options: PushSpec): Promise<{ digest: string; layers: string[] }>;
  /** Pulls an image of the platform registry (a builder's stream tag) with a pull token. */
  pull(reference: string, options: { auth?: RegistryAuthConfig; signal?: AbortSignal }): Promise<void>;
  /** Removes the container if it exists. */
  remove(containerIdOrName: string): Promise<void>;
  /** Build containers (named `paas-build-...`) carrying all these labels. */
  listBuildContainers(labels: Labels): Promise<ContainerSummary[]>;
}
