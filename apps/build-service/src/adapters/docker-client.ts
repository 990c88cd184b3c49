import Docker from 'dockerode';
import { Transform, Writable, type Duplex, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { RegistryAuthConfig } from '@paas/platform/registry-tokens';

/**
 * The Engine API calls the build-service makes, and no others: a seam between dockerode's
 * wide surface and our runtime, so a dockerode upgrade touches this file only.
 */
export interface DockerClient {
  inspectImage(reference: string): Promise<{ Id: string; Config?: { Labels?: Record<string, string> | null; User?: string } } | undefined>;
  createContainer(options: Docker.ContainerCreateOptions): Promise<string>;
  /**
   * Hijacked stdin/stdout/stderr; `onOutput` gets the demultiplexed output (only stderr when
   * `onStdout` takes stdout apart), and the next chunk is read only once it resolves (the engine
   * then holds the container's writes). Resolves once attached, with `output`: settled when the
   * output has ended and every chunk has been handed over.
   */
  attach(containerId: string, onOutput: (chunk: Buffer) => Promise<void>, onStdout?: (chunk: Buffer) => Promise<void>): Promise<{ stream: Duplex; output: Promise<void> }>;
  start(containerId: string): Promise<void>;
  wait(containerId: string): Promise<number>;
  kill(containerId: string): Promise<void>;
  remove(containerId: string): Promise<void>;
  /** Renames the container; the engine's 409 when a container has `name`, its 404 when this one is gone. */
  rename(containerId: string, name: string): Promise<void>;
  /** Changes a running container's limits. */
  update(containerId: string, limits: { Memory?: number; MemorySwap?: number; NanoCpus?: number }): Promise<void>;
  commit(containerId: string, query: { repo: string; tag: string }, config: object): Promise<string>;
  /** Pulls `reference` (a tag or a digest) with `auth` presented to the registry; a failed pull throws with the engine's words. */
  pull(reference: string, options: { auth?: RegistryAuthConfig; signal?: AbortSignal }): Promise<void>;
  /** The push progress objects, in order; a failed push is only an `error` entry among them. */
  push(repository: string, tag: string, options: PushOptions): Promise<PushProgress[]>;
  listContainers(labels: Record<string, string>): Promise<Docker.ContainerInfo[]>;
  /**
   * `POST /build` with the tar `context` as the body and `query` (objects sent as JSON); each
   * progress object goes to `onProgress` as it comes. Resolves with them all once the engine
   * ends the stream; a failed build is only an `error` entry among them.
   */
  buildImage(context: NodeJS.ReadableStream, query: Record<string, unknown>, options: { onProgress: (entry: BuildProgress) => void; signal?: AbortSignal }): Promise<BuildProgress[]>;
}

export interface BuildProgress {
  /** A line (or part of one) of the build's output. */
  stream?: string;
  error?: string;
  errorDetail?: { message?: string };
  /** `{ID: <image id>}` once the image is made. */
  aux?: { ID?: string };
}

export interface PushOptions {
  /** Sent to the engine with the push request (our User-Agent). */
  headers: Record<string, string>;
  /** What the engine presents to the registry (a registry token); none: anonymous. */
  auth?: RegistryAuthConfig;
  signal?: AbortSignal;
}

/**
 * `X-Registry-Auth`: the AuthConfig as JSON in base64 with the URL alphabet *and* its `=`
 * padding, which is what dockerd decodes (Go's `base64.URLEncoding`). Unpadded, the end of
 * the JSON is lost, and a push silently goes without credentials.
 */
export function registryAuthHeader(auth: RegistryAuthConfig | Record<string, never> = {}): string {
  return Buffer.from(JSON.stringify(auth)).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

export interface PushProgress {
  /** The layer (short digest) a status is about. */
  id?: string;
  status?: string;
  progressDetail?: { current?: number; total?: number };
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

  async attach(containerId: string, onOutput: (chunk: Buffer) => Promise<void>, onStdout?: (chunk: Buffer) => Promise<void>) {
    const stream = (await this.docker.getContainer(containerId).attach({ stream: true, stdin: true, stdout: true, stderr: true, hijack: true })) as Duplex;
    // Piped, not docker-modem's demuxStream (which writes on every 'data' and ignores backpressure).
    const output = onStdout
      ? pipeline(stream, new DockerFrameDemuxer({ stdoutApart: true }), outputSink(({ stdout, payload }: DemuxedFrame) => (stdout ? onStdout(payload) : onOutput(payload)), true))
      : pipeline(stream, new DockerFrameDemuxer(), outputSink(onOutput));
    output.catch(() => undefined);
    return { stream, output };
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

  async rename(containerId: string, name: string) {
    await this.docker.getContainer(containerId).rename({ name });
  }

  async update(containerId: string, limits: { Memory?: number; MemorySwap?: number; NanoCpus?: number }) {
    await this.docker.getContainer(containerId).update(limits);
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
  push(repository: string, tag: string, { headers, auth, signal }: PushOptions): Promise<PushProgress[]> {
    return new Promise((resolve, reject) => {
      this.docker.modem.dial(
        {
          path: `/images/${repository}/push?`,
          method: 'POST',
          options: { tag },
          headers: { ...headers, 'X-Registry-Auth': registryAuthHeader(auth) },
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

  buildImage(context: NodeJS.ReadableStream, query: Record<string, unknown>, { onProgress, signal }: { onProgress: (entry: BuildProgress) => void; signal?: AbortSignal }): Promise<BuildProgress[]> {
    return new Promise((resolve, reject) => {
      this.docker.modem.dial(
        {
          path: '/build?',
          method: 'POST',
          options: query,
          file: context,
          abortSignal: signal,
          isStream: true,
          statusCodes: { 200: true, 400: 'bad parameter', 500: 'server error' },
        },
        (error, stream) => {
          if (error) return reject(error);
          this.docker.modem.followProgress(stream as NodeJS.ReadableStream, (streamError: Error | null, output: BuildProgress[]) => (streamError ? reject(streamError) : resolve(output)), onProgress);
        },
      );
    });
  }

  pull(reference: string, { auth, signal }: { auth?: RegistryAuthConfig; signal?: AbortSignal }): Promise<void> {
    return new Promise((resolve, reject) => {
      this.docker.modem.dial(
        {
          path: '/images/create?',
          method: 'POST',
          options: { fromImage: reference },
          headers: { 'X-Registry-Auth': registryAuthHeader(auth) },
          abortSignal: signal,
          isStream: true,
          statusCodes: { 200: true, 404: 'no such image', 500: 'server error' },
        },
        (error, stream) => {
          if (error) return reject(error);
          this.docker.modem.followProgress(stream as NodeJS.ReadableStream, (streamError: Error | null, output: PushProgress[]) => {
            const failed = output.find((entry) => entry.error || entry.errorDetail);
            const failure = streamError?.message ?? failed?.errorDetail?.message ?? failed?.error;
            if (failure) reject(new Error(failure));
            else resolve();
          });
        },
      );
    });
  }

  listContainers(labels: Record<string, string>) {
    return this.docker.listContainers({ all: true, filters: { label: Object.entries(labels).map(([key, value]) => `${key}=${value}`) } });
  }
}

/** A Writable that hands each chunk (Buffers, or objects in `objectMode`) to `onOutput` and takes the next once that resolves. */
export function outputSink<T = Buffer>(onOutput: (chunk: T) => Promise<void>, objectMode = false): Writable {
  return new Writable({
    objectMode,
    write(chunk: T, _encoding, done) {
      onOutput(chunk).then(() => done(), done);
    },
  });
}

/** A payload of the attach stream, and whether the container wrote it to stdout. */
export interface DemuxedFrame {
  stdout: boolean;
  payload: Buffer;
}

/**
 * The payloads of the Engine's multiplexed attach stream (no TTY): each frame is an 8-byte
 * header (stream type 0/1/2, three zero bytes, big-endian length) and its payload. A header
 * of another type means the stream is not multiplexed after all: the rest passes as it is.
 * With `stdoutApart` each payload comes as a DemuxedFrame.
 */
export class DockerFrameDemuxer extends Transform {
  private pending: Buffer = Buffer.alloc(0);
  private raw = false;
  private readonly stdoutApart: boolean;

  constructor({ stdoutApart = false }: { stdoutApart?: boolean } = {}) {
    super({ readableObjectMode: stdoutApart });
    this.stdoutApart = stdoutApart;
  }

  private pushPayload(stdout: boolean, payload: Buffer) {
    this.push(this.stdoutApart ? ({ stdout, payload } satisfies DemuxedFrame) : payload);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback) {
    if (this.raw) {
      this.pushPayload(false, chunk);
      return done();
    }
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    while (this.pending.length >= 8) {
      const type = this.pending[0];
      if (type > 2) {
        this.raw = true;
        this.pushPayload(false, this.pending);
        this.pending = Buffer.alloc(0);
        break;
      }
      const length = this.pending.readUInt32BE(4);
      if (this.pending.length < 8 + length) break;
      if (length) this.pushPayload(type === 1, this.pending.subarray(8, 8 + length));
      this.pending = this.pending.subarray(8 + length);
    }
    done();
  }
}
