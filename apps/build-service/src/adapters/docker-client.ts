import Docker from 'dockerode';
import { Writable, type Duplex } from 'node:stream';

/**
 * The Engine API calls the build-service makes, and no others: a seam between dockerode's
 * wide surface and our runtime, so a dockerode upgrade touches this file only.
 */
export interface DockerClient {
  inspectImage(reference: string): Promise<{ Id: string; Config?: { Labels?: Record<string, string> | null } } | undefined>;
  createContainer(options: Docker.ContainerCreateOptions): Promise<string>;
  /** Hijacked stdin/stdout/stderr; `onOutput` gets the demultiplexed output. Resolves once attached. */
  attach(containerId: string, onOutput: (chunk: Buffer) => void): Promise<Duplex>;
  start(containerId: string): Promise<void>;
  wait(containerId: string): Promise<number>;
  kill(containerId: string): Promise<void>;
  remove(containerId: string): Promise<void>;
  commit(containerId: string, query: { repo: string; tag: string }, config: object): Promise<string>;
  /** The push progress objects, in order; a failed push is only an `error` entry among them. */
  push(repository: string, tag: string, headers: Record<string, string>, signal?: AbortSignal): Promise<PushProgress[]>;
  listContainers(labels: Record<string, string>): Promise<Docker.ContainerInfo[]>;
}

export interface PushProgress {
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { Tag?: string; Digest?: string; Size?: number };
}

export class DockerodeClient implements DockerClient {
  constructor(private readonly docker: Docker = new Docker()) {}

  async inspectImage(reference: string) {
    try {
      return await this.docker.getImage(reference).inspect();
    } catch (error) {
      if ((error as { statusCode?: number }).statusCode === 404) return undefined;
      throw error;
    }
  }

  async createContainer(options: Docker.ContainerCreateOptions) {
    return (await this.docker.createContainer(options)).id;
  }

  async attach(containerId: string, onOutput: (chunk: Buffer) => void) {
    const stream = (await this.docker.getContainer(containerId).attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true })) as Duplex;
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        onOutput(chunk);
        done();
      },
    });
    // Without a TTY every frame carries an 8-byte header naming stdout or stderr.
    this.docker.modem.demuxStream(stream, sink, sink);
    return stream;
  }

  async start(containerId: string) {
    await this.docker.getContainer(containerId).start();
  }

  async wait(containerId: string) {
    const result = (await this.docker.getContainer(containerId).wait()) as { StatusCode: number };
    return result.StatusCode;
  }

  async kill(containerId: string) {
    await this.docker
      .getContainer(containerId)
      .kill()
      .catch((error: { statusCode?: number }) => {
        if (error.statusCode !== 404 && error.statusCode !== 409) throw error;
      });
  }

  async remove(containerId: string) {
    await this.docker
      .getContainer(containerId)
      .remove({ force: true, v: true })
      .catch((error: { statusCode?: number }) => {
        if (error.statusCode !== 404) throw error;
      });
  }

  async commit(containerId: string, query: { repo: string; tag: string }, config: object) {
    const result = (await this.docker.getContainer(containerId).commit({ _query: { container: containerId, ...query }, _body: config })) as { Id: string };
    return result.Id;
  }

  /**
   * dockerode's `image.push()` takes no per-request headers, so this dials the same
   * endpoint itself: docker-modem's `dial` uses `options.headers` for the one request.
   * dockerd 20.10 forwards our User-Agent to the registry inside its own
   * (`UpstreamClient(<ours>)`), which is how the trace context crosses the engine.
   */
  push(repository: string, tag: string, headers: Record<string, string>, signal?: AbortSignal): Promise<PushProgress[]> {
    return new Promise((resolve, reject) => {
      this.docker.modem.dial(
        {
          path: `/images/${repository}/push?`,
          method: 'POST',
          options: { tag },
          headers: { ...headers, 'X-Registry-Auth': Buffer.from('{}').toString('base64') },
          abortSignal: signal,
          isStream: true,
          statusCodes: { 200: true, 404: 'no such image', 500: 'server error' },
        },
        (error, stream) => {
          if (error) return reject(error);
          this.docker.modem.followProgress(stream as NodeJS.ReadableStream, (streamError: Error | null, output: PushProgress[]) => (streamError ? reject(streamError) : resolve(output)));
        },
      );
    });
  }

  listContainers(labels: Record<string, string>) {
    return this.docker.listContainers({ all: true, filters: { label: Object.entries(labels).map(([key, value]) => `${key}=${value}`) } });
  }
}
