import type Docker from 'dockerode';
import { platformRepositoryOf } from '@paas/contracts/auth';
import type { Labels } from '@paas/contracts/meta';
import { belongsToInstance, INSTANCE_LABEL, loadConfig } from '@paas/platform/config';
import type { RegistryCredentials } from '@paas/platform/registry-tokens';
import type { DockerClient } from './docker-client';
import { ImagePullError, MANAGED_BY, RUNTIME_LABELS, type ContainerRuntime, type ContainerState, type RunRequest, type RuntimeContainer } from './container-runtime';

const LOOPBACK = '127.0.0.1';
const DEFAULT_GRACE_SECONDS = 10;

/** The platform registry, and how to get a pull token for one of its repositories. */
export interface PlatformRegistry {
  host: string;
  credentials: RegistryCredentials;
}

/**
 * The local Docker engine as a node: pods are containers publishing one port on loopback.
 * An image of the platform registry is pulled with a registry token (`system:deploy-service`).
 * Only containers of this platform instance (INSTANCE_LABEL) are ever listed.
 */
export class DockerRuntime implements ContainerRuntime {
  readonly hostIP = LOOPBACK;
  private readonly instance = loadConfig().instance;

  constructor(
    private readonly docker: DockerClient,
    readonly nodeName = 'local',
    private readonly registry?: PlatformRegistry,
  ) {}

  async run(request: RunRequest): Promise<RuntimeContainer> {
    if (!(await this.docker.hasImage(request.image))) await this.pull(request.image);
    const port = request.containerPort;
    const env = [...(port ? [{ name: 'PORT', value: String(port) }] : []), ...request.env];
    const { id } = await this.docker.createContainer({
      name: request.name,
      Image: request.image,
      Env: env.map((e) => `${e.name}=${e.value}`),
      Labels: { ...request.labels, [RUNTIME_LABELS.managedBy]: MANAGED_BY, [INSTANCE_LABEL]: this.instance },
      ...(port ? { ExposedPorts: { [`${port}/tcp`]: {} } } : {}),
      HostConfig: {
        Init: true,
        RestartPolicy: { Name: 'no' },
        ...(port ? { PortBindings: { [`${port}/tcp`]: [{ HostIp: LOOPBACK, HostPort: '' }] } } : {}),
        ...(request.memoryBytes ? { Memory: request.memoryBytes } : {}),
        ...(request.cpuMillis ? { NanoCpus: request.cpuMillis * 1_000_000 } : {}),
      },
    });
    try {
      await this.docker.startContainer(id);
      const started = await this.inspect(id);
      if (!started) throw new Error(`container ${request.name} vanished right after it started`);
      return started;
    } catch (error) {
      await this.docker.removeContainer(id);
      throw error;
    }
  }

  private async pull(image: string): Promise<void> {
    try {
      const repository = this.registry && platformRepositoryOf(image, this.registry.host);
      const auth = repository ? await this.registry?.credentials.authConfig(repository, ['pull']) : undefined;
      await this.docker.pullImage(image, auth);
    } catch (error) {
      throw new ImagePullError(`pulling ${image} failed: ${(error as Error).message}`);
    }
  }

  async remove(id: string, options: { graceSeconds?: number } = {}) {
    await this.docker.stopContainer(id, options.graceSeconds ?? DEFAULT_GRACE_SECONDS);
    await this.docker.removeContainer(id);
  }

  async listByOwner(labels: Labels) {
    const filters = [`${RUNTIME_LABELS.managedBy}=${MANAGED_BY}`, ...Object.entries(labels).map(([key, value]) => `${key}=${value}`)];
    const containers = await this.docker.listContainers({ label: filters });
    return containers.filter((container) => belongsToInstance(container.Labels, this.instance)).map(fromListing);
  }

  async inspect(id: string) {
    const info = await this.docker.inspectContainer(id);
    return info ? fromInspect(info) : undefined;
  }
}

function fromListing(info: Docker.ContainerInfo): RuntimeContainer {
  const binding = info.Ports?.find((port) => port.PublicPort && (port.IP === LOOPBACK || !port.IP));
  const ip = Object.values(info.NetworkSettings?.Networks ?? {}).find((network) => network.IPAddress)?.IPAddress;
  return {
    id: info.Id,
    labels: info.Labels ?? {},
    state: (info.State as ContainerState) ?? 'unknown',
    ...(binding ? { hostPort: binding.PublicPort } : {}),
    ...(ip ? { ip } : {}),
  };
}

function fromInspect(info: Docker.ContainerInspectInfo): RuntimeContainer {
  const bindings = Object.values(info.NetworkSettings?.Ports ?? {}).flat().filter(Boolean);
  const hostPort = Number(bindings.find((binding) => binding.HostIp === LOOPBACK)?.HostPort ?? bindings[0]?.HostPort);
  const ip = Object.values(info.NetworkSettings?.Networks ?? {}).find((network) => network.IPAddress)?.IPAddress;
  return {
    id: info.Id,
    labels: info.Config?.Labels ?? {},
    state: (info.State?.Status as ContainerState) ?? 'unknown',
    ...(Number.isInteger(hostPort) && hostPort > 0 ? { hostPort } : {}),
    ...(ip ? { ip } : {}),
    exitCode: info.State?.ExitCode,
    startedAt: info.State?.StartedAt,
  };
}
