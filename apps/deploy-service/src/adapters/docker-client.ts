import Docker from 'dockerode';
import type { Readable } from 'node:stream';
import type { RegistryAuthConfig } from '@paas/platform/registry-tokens';

/** The Engine API calls the deploy-service makes, and nothing else: all it asks of dockerode. */
export interface DockerClient {
  listContainers(filters: Record<string, string[]>): Promise<Docker.ContainerInfo[]>;
  createContainer(options: Docker.ContainerCreateOptions): Promise<{ id: string }>;
  startContainer(id: string): Promise<void>;
  inspectContainer(id: string): Promise<Docker.ContainerInspectInfo | undefined>;
  stopContainer(id: string, graceSeconds: number): Promise<void>;
  removeContainer(id: string): Promise<void>;
  hasImage(reference: string): Promise<boolean>;
  /** Resolves once the image is local; rejects with the engine's message when the pull fails. `auth`: what the engine presents to the registry. */
  pullImage(reference: string, auth?: RegistryAuthConfig): Promise<void>;
  /** Container events (`die`, `start`, ...) of containers with these labels, until `signal` aborts. */
  containerEvents(labels: string[], signal: AbortSignal): Promise<Readable>;
}

const NOT_FOUND = 404;
const NOT_MODIFIED = 304;
const CONFLICT = 409;

function statusCodeOf(error: unknown): number | undefined {
  return (error as { statusCode?: number }).statusCode;
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
    try {
      return await this.docker.getContainer(id).inspect();
    } catch (error) {
      if (statusCodeOf(error) === NOT_FOUND) return undefined;
      throw error;
    }
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

  async hasImage(reference: string) {
    try {
      await this.docker.getImage(reference).inspect();
      return true;
    } catch (error) {
      if (statusCodeOf(error) === NOT_FOUND) return false;
      throw error;
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
