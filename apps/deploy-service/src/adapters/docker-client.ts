import Docker from 'dockerode';
import type { Readable } from 'node:stream';
import type { RegistryAuthConfig } from '@paas/platform/registry-tokens';
import type { ContainerLogOptions } from './container-runtime';

/** The Engine API calls the deploy-service makes, and nothing else: all it asks of dockerode. */
export interface DockerClient {
  listContainers(filters: Record<string, string[]>): Promise<Docker.ContainerInfo[]>;
  createContainer(options: Docker.ContainerCreateOptions): Promise<{ id: string }>;
  startContainer(id: string): Promise<void>;
  inspectContainer(id: string): Promise<Docker.ContainerInspectInfo | undefined>;
  stopContainer(id: string, graceSeconds: number): Promise<void>;
  removeContainer(id: string): Promise<void>;
  /** Resolves once the image is local; rejects with the engine's message when the pull fails. `auth`: what the engine presents to the registry. */
  pullImage(reference: string, auth?: RegistryAuthConfig): Promise<void>;
  /** Container events (`die`, `start`, ...) of containers with these labels, until `signal` aborts. */
  containerEvents(labels: string[], signal: AbortSignal): Promise<Readable>;
  /** The image's configuration (its `User`, say); undefined when the engine does not have it. */
  inspectImage(reference: string): Promise<Docker.ImageInspectInfo | undefined>;
  /** What a container wrote (stdout and stderr, frames demuxed). */
  containerLogs(id: string, options: ContainerLogOptions): Promise<string>;
  /** Runs `command` in a running container (its output discarded): its exit code, or undefined when it has not ended within `timeoutMs`. */
  execInContainer(id: string, command: string[], timeoutMs: number): Promise<number | undefined>;
  inspectNetwork(name: string): Promise<Docker.NetworkInspectInfo | undefined>;
  /** `exists` when a network of that name is already there (made meanwhile by another reconcile, say). */
  createNetwork(options: Docker.NetworkCreateOptions): Promise<'created' | 'exists'>;
  /** `in-use` while containers are attached to it (the engine refuses then). */
  removeNetwork(name: string): Promise<'removed' | 'absent' | 'in-use'>;
  /** Every image the engine holds, dangling ones included (not the intermediate images of a Dockerfile build). */
  listImages(): Promise<Docker.ImageInfo[]>;
  /**
   * Removes a reference (`repo:tag`, `repo@digest`) or, by id, the image; never forced and never
   * pruning parents. `in-use` when the engine refuses (409: a container uses it, a child image
   * depends on it, or, by id, names in several repositories still point at it).
   */
  removeImage(reference: string): Promise<'removed' | 'absent' | 'in-use'>;
  /** The engine's disk usage (`/system/df`): each image with its `Size` and the `SharedSize` other images share. Costly: the engine sizes every container too. */
  diskUsage(): Promise<{ Images?: Docker.ImageInfo[] | null }>;
}

const NOT_FOUND = 404;
const NOT_MODIFIED = 304;
const CONFLICT = 409;
/** What the engine answers when a network still has endpoints (containers attached). */
const FORBIDDEN = 403;

function statusCodeOf(error: unknown): number | undefined {
  return (error as { statusCode?: number }).statusCode;
}

/** What the engine answers, or undefined when it says there is no such thing (404). */
async function unlessNotFound<T>(answer: Promise<T>): Promise<T | undefined> {
  try {
    return await answer;
  } catch (error) {
    if (statusCodeOf(error) === NOT_FOUND) return undefined;
    throw error;
  }
}

/** `DockerClient` over dockerode: the local socket (or `DOCKER_HOST`) by default, any engine it is given. */
export class DockerodeClient implements DockerClient {
  constructor(private readonly docker: Docker = new Docker()) {}

  listContainers(filters: Record<string, string[]>) {
    return this.docker.listContainers({ all: true, filters: JSON.stringify(filters) });
  }

  async createContainer(options: Docker.ContainerCreateOptions) {
    const container = await this.docker.createContainer(options);
    return { id: container.id };
  }

  async startContainer(id: string) {
    await this.docker.getContainer(id).start();
  }

  async inspectContainer(id: string) {
    return unlessNotFound(this.docker.getContainer(id).inspect());
  }

  async stopContainer(id: string, graceSeconds: number) {
    try {
      await this.docker.getContainer(id).stop({ t: graceSeconds });
    } catch (error) {
      if (![NOT_FOUND, NOT_MODIFIED].includes(statusCodeOf(error) ?? 0)) throw error;
    }
  }

  async removeContainer(id: string) {
    try {
      await this.docker.getContainer(id).remove({ force: true, v: true });
    } catch (error) {
      // 409: removal already in progress.
      if (![NOT_FOUND, CONFLICT].includes(statusCodeOf(error) ?? 0)) throw error;
    }
  }

  async pullImage(reference: string, auth?: RegistryAuthConfig) {
    // dockerode sends `authconfig` as X-Registry-Auth (base64url JSON), which dockerd turns into the registry's Bearer token.
    const stream = (await this.docker.pull(reference, auth ? { authconfig: auth } : {})) as Readable;
    await new Promise<void>((resolve, reject) => {
      this.docker.modem.followProgress(stream, (error: Error | null, output: { error?: string }[]) => {
        const failure = error?.message ?? output?.find((entry) => entry.error)?.error;
        if (failure) reject(new Error(`pull of ${reference} failed: ${failure}`));
        else resolve();
      });
    });
  }

  async inspectImage(reference: string) {
    return unlessNotFound(this.docker.getImage(reference).inspect());
  }

  async containerLogs(id: string, { tail, timestamps = false, since }: ContainerLogOptions) {
    const query = { stdout: true, stderr: true, follow: false as const, timestamps, ...(tail !== undefined ? { tail } : {}), ...(since ? { since } : {}) };
    const output = (await this.docker.getContainer(id).logs(query as Docker.ContainerLogsOptions & { follow: false })) as unknown as Buffer;
    return demuxFrames(Buffer.isBuffer(output) ? output : Buffer.from(String(output)));
  }

  async execInContainer(id: string, command: string[], timeoutMs: number) {
    const exec = await this.docker.getContainer(id).exec({ Cmd: command, AttachStdout: true, AttachStderr: true });
    const output = await exec.start({ hijack: true, stdin: false });
    // Attached, the stream ends when the command does; its output is read and dropped.
    const ended = new Promise<boolean>((resolve) => {
      output.once('end', () => resolve(true)).once('close', () => resolve(true)).once('error', () => resolve(true));
      output.resume();
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    const inTime = await Promise.race([ended, timedOut]);
    clearTimeout(timer);
    output.destroy();
    if (!inTime) return undefined;
    const { ExitCode } = await exec.inspect();
    return ExitCode ?? undefined;
  }

  async inspectNetwork(name: string) {
    return unlessNotFound(this.docker.getNetwork(name).inspect() as Promise<Docker.NetworkInspectInfo>);
  }

  async createNetwork(options: Docker.NetworkCreateOptions) {
    try {
      await this.docker.createNetwork({ CheckDuplicate: true, ...options });
      return 'created' as const;
    } catch (error) {
      if (statusCodeOf(error) === CONFLICT) return 'exists' as const;
      throw error;
    }
  }

  async removeNetwork(name: string) {
    try {
      await this.docker.getNetwork(name).remove();
      return 'removed' as const;
    } catch (error) {
      if (statusCodeOf(error) === NOT_FOUND) return 'absent' as const;
      if (statusCodeOf(error) === FORBIDDEN || statusCodeOf(error) === CONFLICT) return 'in-use' as const;
      throw error;
    }
  }

  listImages() {
    return this.docker.listImages({ all: false });
  }

  async removeImage(reference: string) {
    try {
      await this.docker.getImage(reference).remove({ force: false, noprune: true });
      return 'removed' as const;
    } catch (error) {
      if (statusCodeOf(error) === NOT_FOUND) return 'absent' as const;
      if (statusCodeOf(error) === CONFLICT) return 'in-use' as const;
      throw error;
    }
  }

  async diskUsage() {
    return (await this.docker.df()) as { Images?: Docker.ImageInfo[] | null };
  }

  async containerEvents(labels: string[], signal: AbortSignal) {
    const stream = (await this.docker.getEvents({ filters: { type: ['container'], label: labels }, abortSignal: signal })) as Readable;
    return destroyOnAbort(stream, signal);
  }
}

/**
 * Destroys `stream` when `signal` aborts. The signal outlives the stream (the watcher
 * reconnects with the same service-lifetime signal), so the listener goes when the stream closes.
 */
export function destroyOnAbort<S extends Readable>(stream: S, signal: AbortSignal): S {
  if (signal.aborted) {
    stream.destroy();
    return stream;
  }
  const abort = () => stream.destroy();
  signal.addEventListener('abort', abort, { once: true });
  stream.once('close', () => signal.removeEventListener('abort', abort));
  return stream;
}

/**
 * A container's log as the engine sends it without a TTY: frames of an 8-byte header (stream,
 * 0, 0, 0, big-endian length) and the payload. Output that is not framed (a TTY) is returned as it is.
 */
export function demuxFrames(raw: Buffer): string {
  const parts: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= raw.length) {
    const stream = raw[offset];
    if (stream > 2 || raw[offset + 1] !== 0 || raw[offset + 2] !== 0 || raw[offset + 3] !== 0) return raw.toString('utf8');
    const length = raw.readUInt32BE(offset + 4);
    parts.push(raw.subarray(offset + 8, offset + 8 + length));
    offset += 8 + length;
  }
  return offset === 0 && raw.length > 0 ? raw.toString('utf8') : Buffer.concat(parts).toString('utf8');
}
