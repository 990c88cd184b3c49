import type { EnvVar, Labels } from '@paas/contracts/meta';

/** Labels every pod container carries: who manages it and which objects own it. */
export const RUNTIME_LABELS = {
  managedBy: 'paas.dev/managed-by',
  namespace: 'paas.dev/namespace',
  pod: 'paas.dev/pod',
  rc: 'paas.dev/rc',
  dc: 'paas.dev/dc',
} as const;
export const MANAGED_BY = 'deploy-service';

/** The image could not be pulled (unknown, unreachable registry): the pod waits with `ErrImagePull`. */
export class ImagePullError extends Error {}

export type ContainerState = 'created' | 'running' | 'exited' | 'dead' | 'removing' | 'paused' | 'restarting' | 'unknown';

export interface RuntimeContainer {
  id: string;
  labels: Labels;
  state: ContainerState;
  /** The random port the pod's container port is published on at the node's address, once running. */
  hostPort?: number;
  /** The container's address on the node's bridge network, once running. */
  ip?: string;
  exitCode?: number;
  startedAt?: string;
  /** When it stopped, once it has (inspect only). */
  finishedAt?: string;
  /** The kernel killed it for going over its memory limit (inspect only). */
  oomKilled?: boolean;
  /** The user it runs as (`uid[:gid]` or a name), once inspected. */
  user?: string;
}

export interface RunRequest {
  /** Unique on the node. */
  name: string;
  /** What the container's process sees as its host name: the pod's name, as in Kubernetes. */
  hostname: string;
  /** The pod's namespace: its pods share a network of their own on each node, apart from every other namespace's. */
  namespace: string;
  image: string;
  env: EnvVar[];
  /** Owner labels (`paas.dev/*`) plus the pod's labels. */
  labels: Labels;
  containerPort?: number;
  memoryBytes?: number;
  cpuMillis?: number;
  /** Most processes (threads included) the container may have. */
  pidsLimit?: number;
  /** The image's files read-only; `/tmp` a tmpfs of `READ_ONLY_TMP_BYTES`. */
  readOnlyRootFilesystem?: boolean;
  /** Run instead of the image's entrypoint and command (a lifecycle hook's `execNewPod.command`). */
  command?: string[];
}

/** The writable `/tmp` of a container whose root filesystem is read-only (as an emptyDir would be in Kubernetes). */
export const READ_ONLY_TMP_BYTES = 64 * 1024 * 1024;

/**
 * What the reconcilers need from a node: run a pod's container, list what it runs for an
 * owner, look at one, read the end of its output, run a probe's command in it, remove one. The Docker engine is the only
 * node for now. Every pod runs as a non-root user without capabilities (see DockerRuntime).
 */
export interface ContainerRuntime {
  readonly nodeName: string;
  /** The node's address, where published ports answer. */
  readonly hostIP: string;
  run(request: RunRequest): Promise<RuntimeContainer>;
  /** Whether the node holds `image` (a reference of the platform registry as REGISTRY_HOST names it, or any other). */
  hasImage(image: string): Promise<boolean>;
  /** Stops with a grace period (SIGTERM, then SIGKILL) and removes; absent is fine. */
  remove(id: string, options?: { graceSeconds?: number }): Promise<void>;
  /** Containers (running or not) that carry every one of these labels. */
  listByOwner(labels: Labels): Promise<RuntimeContainer[]>;
  inspect(id: string): Promise<RuntimeContainer | undefined>;
  /** Its output (stdout and stderr); empty when it is gone. */
  logs(id: string, options: ContainerLogOptions): Promise<string>;
  /** Whether `command`, run in the running container, exits 0 within `timeoutMs` (an exec probe). */
  exec(id: string, command: string[], timeoutMs: number): Promise<boolean>;
}

export interface ContainerLogOptions {
  /** The last lines only; all when absent. */
  tail?: number;
  /** Each line starts with its RFC 3339 time (nanoseconds) and a space. */
  timestamps?: boolean;
  /** Only lines written at or after this time (Unix seconds, with a fraction). */
  since?: string;
}
