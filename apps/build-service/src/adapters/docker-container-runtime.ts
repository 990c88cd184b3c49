import { pipeline } from 'node:stream/promises';
import type { Labels } from '@paas/contracts/meta';
import { belongsToInstance } from '@paas/platform/config';
import { BUILD_CONTAINER_PREFIX, ContainerGoneError, ImageBuildError, ImageNotFoundError, PushError, type CommitSpec, type ImageBuildSpec, type ContainerRuntime, type ContainerSummary, type PushSpec, type RunSpec, type WaitingContainer, type WaitingSpec } from '../builds/pipeline/container-runtime';
import type { RegistryAuthConfig } from '@paas/platform/registry-tokens';
import type { Duplex } from 'node:stream';
import type { BuildProgress, DockerClient, PushProgress } from './docker-client';

/** What one build container may use; its output is read by the build, not kept by the engine. */
export interface BuildContainerLimits {
  memoryBytes: number;
  pidsLimit: number;
}

export const DEFAULT_BUILD_CONTAINER_LIMITS: BuildContainerLimits = { memoryBytes: 2 * 1024 ** 3, pidsLimit: 1024 };

const CPU_PERIOD_MICROS = 100_000;
/** How long the attach stream may go on delivering output after the container exited (an engine may never end it). */
const OUTPUT_AFTER_EXIT_MS = 2_000;
const LAYER_OUTCOME = /^(Pushed|Layer already exists|Mounted from )/;

/** The last word on each layer, `<id>: <outcome>`, in the order the layers were first named. */
function layerOutcomes(progress: PushProgress[]): string[] {
  const outcomes = new Map<string, string | undefined>();
  for (const { id, status } of progress) {
    if (!id) continue;
    if (status && LAYER_OUTCOME.test(status)) outcomes.set(id, status);
    else if (!outcomes.has(id)) outcomes.set(id, undefined);
  }
  return [...outcomes].filter(([, status]) => status).map(([id, status]) => `${id}: ${status}`);
}

/** A container attached and started (DockerContainerRuntime.begin). */
interface Begun {
  stream: Duplex;
  /** How its output ended: whole, or broken off. */
  ended: Promise<'ended' | 'failed'>;
  /** Its exit code once it exited. */
  exited: Promise<number>;
}

/** `<repository>:<tag>` apart (the repository may hold a registry's `host:port`). */
function splitReference(reference: string): { repository: string; tag: string } {
  const separator = reference.lastIndexOf(':');
  return { repository: reference.slice(0, separator), tag: reference.slice(separator + 1) };
}

/** The ContainerRuntime of builds over the Docker Engine API. */
export class DockerContainerRuntime implements ContainerRuntime {
  constructor(
    private readonly docker: DockerClient,
    private readonly limits: BuildContainerLimits = DEFAULT_BUILD_CONTAINER_LIMITS,
  ) {}

  async inspectImage(reference: string) {
    const image = await this.docker.inspectImage(reference);
    return image ? { id: image.Id, labels: image.Config?.Labels ?? {}, user: image.Config?.User ?? '' } : undefined;
  }

  async run(spec: RunSpec) {
    spec.signal?.throwIfAborted();
    const containerId = await this.create(spec, spec.input !== undefined);
    return this.supervise(containerId, spec, () => this.begin(containerId, spec.onOutput, spec.onStdout));
  }

  /**
   * A container of `spec` created, attached and started, waiting on stdin. What it writes before
   * its claim is kept for the run that claims it (a builder's entrypoint may say something).
   */
  async startWaiting(spec: WaitingSpec): Promise<WaitingContainer> {
    const containerId = await this.create(spec, true);
    const early: Buffer[] = [];
    let forward: ((chunk: Buffer) => Promise<void>) | undefined;
    const onOutput = async (chunk: Buffer) => {
      if (forward) await forward(chunk);
      else early.push(chunk);
    };
    const begun = await this.begin(containerId, onOutput).catch(async (error: unknown) => {
      await this.docker.remove(containerId).catch(() => undefined);
      throw error;
    });
    let exited = false;
    const gone = begun.exited.then(
      () => void (exited = true),
      () => void (exited = true),
    );
    const stillThere = () => {
      if (exited) throw new ContainerGoneError(`waiting container ${containerId} exited before its claim`);
    };
    return {
      id: containerId,
      gone,
      claim: (claim) =>
        this.supervise(containerId, claim, async () => {
          stillThere();
          await this.docker.rename(containerId, claim.name).catch((error: { statusCode?: number; message?: string }) => {
            throw error.statusCode === 404 ? new ContainerGoneError(`waiting container ${containerId} is gone: ${error.message}`) : error;
          });
          // It may have exited meanwhile: a claimed container that no longer reads would fail the build.
          stillThere();
          const limits = this.limitsOf(claim.resources);
          if (limits.Memory !== this.limitsOf(spec.resources).Memory || limits.NanoCpus !== undefined) await this.docker.update(containerId, limits);
          for (const chunk of early.splice(0)) await claim.onOutput(chunk);
          forward = claim.onOutput;
          return begun;
        }),
    };
  }

  /** The container of `spec`, created; ImageNotFoundError when the engine lacks its image. */
  private create(spec: WaitingSpec, stdin: boolean): Promise<string> {
    const { Memory, MemorySwap, NanoCpus } = this.limitsOf(spec.resources);
    return this.docker
      .createContainer({
        name: spec.name,
        Image: spec.image,
        ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}),
        Cmd: spec.cmd,
        Env: spec.env,
        Labels: spec.labels,
        OpenStdin: stdin,
        StdinOnce: stdin,
        AttachStdin: stdin,
        AttachStdout: true,
        AttachStderr: true,
        Tty: false,
        User: spec.user,
        HostConfig: {
          Init: true,
          // Nothing a build needs, so nothing it could misuse: no capabilities, no setuid gains.
          CapDrop: ['ALL'],
          SecurityOpt: ['no-new-privileges'],
          Memory,
          MemorySwap,
          ...(NanoCpus === undefined ? {} : { NanoCpus }),
          ...(spec.resources?.networkDisabled ? { NetworkMode: 'none' } : {}),
          PidsLimit: this.limits.pidsLimit,
          // The output reaches the build log through attach; a json-file copy would grow unbounded.
          LogConfig: { Type: 'none', Config: {} },
        },
      })
      .catch((error: { statusCode?: number; message?: string }) => {
        throw error.statusCode === 404 ? new ImageNotFoundError(`the engine does not have ${spec.image}: ${error.message}`) : error;
      });
  }

  /** The memory (no swap on top) and CPU a container gets: the build's, else this runtime's defaults (no CPU limit). */
  private limitsOf(resources: RunSpec['resources']): { Memory: number; MemorySwap: number; NanoCpus?: number } {
    const memory = resources?.memoryBytes ?? this.limits.memoryBytes;
    return { Memory: memory, MemorySwap: memory, ...(resources?.cpuMillis === undefined ? {} : { NanoCpus: resources.cpuMillis * 1e6 }) };
  }

  /** Attaches to the created container, starts it and waits for its exit. */
  private async begin(containerId: string, onOutput: RunSpec['onOutput'], onStdout?: RunSpec['onStdout']): Promise<Begun> {
    const { stream, output } = await this.docker.attach(containerId, onOutput, onStdout);
    const ended = output.then(
      () => 'ended' as const,
      () => 'failed' as const,
    );
    await this.docker.start(containerId);
    // Only after start: a wait on a container that is merely created answers at once, with 0.
    const exited = this.docker.wait(containerId);
    exited.catch(() => undefined);
    return { stream, ended, exited };
  }

  /**
   * The run of a container `begin` brings running: its input streamed in, its exit waited for,
   * its output checked; aborting `spec.signal` kills it. The container is removed when the run
   * fails; one that ran is kept (for `commit`).
   */
  private async supervise(containerId: string, spec: Pick<RunSpec, 'name' | 'input' | 'onStdout' | 'signal'>, begin: () => Promise<Begun>) {
    const kill = () => void this.docker.kill(containerId).catch(() => undefined);
    spec.signal?.addEventListener('abort', kill, { once: true });
    try {
      // Aborted while the container was being made: the listener came too late to hear it.
      spec.signal?.throwIfAborted();
      const { stream, ended, exited } = await begin();
      // Ends stdin once the whole archive is in; the container sees EOF (StdinOnce).
      if (spec.input) {
        await pipeline(await spec.input, stream).catch((error: NodeJS.ErrnoException) => {
          // An assemble that exits before reading all its input closes the pipe: its exit code tells.
          if (error.code !== 'EPIPE' && error.code !== 'ECONNRESET' && error.code !== 'ERR_STREAM_PREMATURE_CLOSE') throw error;
        });
      }
      const exitCode = await exited;
      const outcome = await Promise.race([ended, new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), OUTPUT_AFTER_EXIT_MS).unref())]);
      spec.signal?.throwIfAborted();
      // stdout kept apart is data (save-artifacts' tar): it must have come whole, or not at all.
      if (spec.onStdout && outcome !== 'ended') throw new Error(`the output of ${spec.name} ${outcome === 'late' ? `had not all come ${OUTPUT_AFTER_EXIT_MS / 1000} s after it exited` : 'broke off'}`);
      return { containerId, exitCode };
    } catch (error) {
      await this.docker.remove(containerId).catch(() => undefined);
      throw spec.signal?.aborted ? spec.signal.reason : error;
    } finally {
      spec.signal?.removeEventListener('abort', kill);
    }
  }

  /**
   * The engine's classic builder: each step's container gets the build's memory limit (no
   * swap), CPU limit and network, and is removed, failed or not (`forcerm`); a `FROM` image the
   * node lacks is pulled as the engine would (none is reachable here: the build fails). The
   * step containers take the engine's defaults otherwise (the build API sets no capabilities or
   * security options): see docs/security.md.
   *
   * The labels are put on by one commit of a container of the built image (never started),
   * which also tags it: the builder would add each label as a step of its own, a container
   * each.
   */
  async buildImage(spec: ImageBuildSpec) {
    spec.signal?.throwIfAborted();
    // The engine's output comes faster than the log may take it: written in order, awaited at the end.
    let written = Promise.resolve();
    const onProgress = ({ stream }: BuildProgress) => {
      if (stream) written = written.then(() => spec.onOutput(stream));
    };
    const memory = spec.resources?.memoryBytes ?? this.limits.memoryBytes;
    const cpuMillis = spec.resources?.cpuMillis;
    const query = {
      dockerfile: spec.dockerfile,
      buildargs: spec.buildArgs,
      nocache: spec.noCache,
      rm: true,
      forcerm: true,
      memory,
      memswap: memory,
      // The build API takes CPU as a CFS quota per period.
      ...(cpuMillis === undefined ? {} : { cpuperiod: CPU_PERIOD_MICROS, cpuquota: Math.round((cpuMillis * CPU_PERIOD_MICROS) / 1000) }),
      ...(spec.resources?.networkDisabled ? { networkmode: 'none' } : {}),
    };
    const progress = await this.docker.buildImage(spec.context, query, { onProgress, signal: spec.signal }).catch((error: Error) => {
      throw spec.signal?.aborted ? spec.signal.reason : new ImageBuildError(error.message);
    });
    await written;
    const failure = progress.find((entry) => entry.error || entry.errorDetail);
    if (failure) throw new ImageBuildError(failure.errorDetail?.message ?? failure.error ?? 'the build failed');
    const built = progress.findLast((entry) => entry.aux?.ID)?.aux?.ID;
    if (!built) throw new ImageBuildError('the engine reported no image for the build');
    spec.signal?.throwIfAborted();
    const containerId = await this.docker.createContainer({ name: spec.name, Image: built, Labels: spec.labels });
    try {
      const { repository, tag } = splitReference(spec.tag);
      // An empty config: the commit keeps the container's, which is the image's with the labels.
      return await this.docker.commit(containerId, { repo: repository, tag }, {});
    } finally {
      await this.docker.remove(containerId);
    }
  }

  commit(containerId: string, spec: CommitSpec) {
    return this.docker.commit(
      containerId,
      { repo: spec.repository, tag: spec.tag },
      {
        Cmd: spec.cmd,
        // The engine keeps the container's other variables (a commit merges its config by name).
        Env: spec.env,
        User: spec.user,
        ExposedPorts: Object.fromEntries(spec.exposedPorts.map((port) => [port, {}])),
        Labels: spec.labels,
      },
    );
  }

  async push(reference: string, options: PushSpec) {
    const { repository, tag } = splitReference(reference);
    const progress = await this.docker.push(repository, tag, { headers: { 'User-Agent': options.userAgent }, auth: options.auth, signal: options.signal }).catch((error: Error) => {
      throw new PushError(options.signal?.aborted ? 'push aborted' : error.message);
    });
    // The engine answers 200 and reports a failure only inside the progress stream.
    const failure = progress.find((entry) => entry.error || entry.errorDetail);
    if (failure) throw new PushError(failure.errorDetail?.message ?? failure.error ?? 'push failed');
    const digest = progress.find((entry) => entry.aux?.Digest)?.aux?.Digest;
    if (!digest) throw new PushError('the registry reported no digest for the pushed image');
    return { digest, layers: layerOutcomes(progress) };
  }

  pull(reference: string, options: { auth?: RegistryAuthConfig; signal?: AbortSignal }) {
    return this.docker.pull(reference, options);
  }

  remove(containerIdOrName: string) {
    return this.docker.remove(containerIdOrName);
  }

  async listBuildContainers(labels: Labels): Promise<ContainerSummary[]> {
    const containers = await this.docker.listContainers(labels);
    return containers
      .map((c) => ({ id: c.Id, name: (c.Names[0] ?? '').replace(/^\//, ''), labels: c.Labels }))
      .filter((c) => c.name.startsWith(BUILD_CONTAINER_PREFIX) && belongsToInstance(c.labels));
  }
}
