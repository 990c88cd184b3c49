import type Docker from 'dockerode';
import type { Labels } from '@paas/contracts/meta';
import type { DockerClient } from './docker-client';
import { ImagePullError, MANAGED_BY, RUNTIME_LABELS, type ContainerRuntime, type ContainerState, type RunRequest, type RuntimeContainer } from './container-runtime';

const LOOPBACK = '127.0.0.1';
const DEFAULT_GRACE_SECONDS = 10;

/** The local Docker engine as a node: pods are containers publishing one port on loopback. */
export class DockerRuntime implements ContainerRuntime {
  constructor(
    private readonly docker: DockerClient,
    readonly nodeName = 'local',
  ) {}

  async run(request: RunRequest): Promise<RuntimeContainer> {
    if (!(await this.docker.hasImage(request.image))) {
      await this.docker.pullImage(request.image).catch((error: Error) => {
        throw new ImagePullError(`pulling ${request.image} failed: ${error.message}`);
      });
    }
    const port = request.containerPort;
    const env = [...(port ? [{ name: 'PORT', value: String(port) }] : []), ...request.env];
    const { id } = await this.docker.createContainer({
      name: request.name,
      Image: request.image,
      Env: env.map((e) => `${e.name}=${e.value}`),
      Labels: { ...request.labels, [RUNTIME_LABELS.managedBy]: MANAGED_BY },
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

  async remove(id: string, options: { graceSeconds?: number } = {}) {
    await this.docker.stopContainer(id, options.graceSeconds ?? DEFAULT_GRACE_SECONDS);
    await this.docker.removeContainer(id);
  }

  async listByOwner(labels: Labels) {
    const filters = [`${RUNTIME_LABELS.managedBy}=${MANAGED_BY}`, ...Object.entries(labels).map(([key, value]) => `${key}=${value}`)];
    const containers = await this.docker.listContainers({ label: filters });
    return containers.map(fromListing);
  }

  async inspect(id: string) {
    const info = await this.docker.inspectContainer(id);
    return info ? fromInspect(info) : undefined;
  }
}

function fromListing(info: Docker.ContainerInfo): RuntimeContainer {
  const binding = info.Ports?.find((port) => port.PublicPort && (port.IP === LOOPBACK || !port.IP));
  return {
    id: info.Id,
    labels: info.Labels ?? {},
    state: (info.State as ContainerState) ?? 'unknown',
    ...(binding ? { hostPort: binding.PublicPort } : {}),
  };
}

function fromInspect(info: Docker.ContainerInspectInfo): RuntimeContainer {
  const bindings = Object.values(info.NetworkSettings?.Ports ?? {}).flat().filter(Boolean);
  const hostPort = Number(bindings.find((binding) => binding.HostIp === LOOPBACK)?.HostPort ?? bindings[0]?.HostPort);
  return {
    id: info.Id,
    labels: info.Config?.Labels ?? {},
    state: (info.State?.Status as ContainerState) ?? 'unknown',
    ...(Number.isInteger(hostPort) && hostPort > 0 ? { hostPort } : {}),
    exitCode: info.State?.ExitCode,
    startedAt: info.State?.StartedAt,
  };
}
