import type Docker from 'dockerode';
import { createHash } from 'node:crypto';
import { platformRepositoryOf } from '@paas/contracts/auth';
import type { Labels } from '@paas/contracts/meta';
import { belongsToInstance, INSTANCE_LABEL, loadConfig } from '@paas/platform/config';
import type { RegistryCredentials } from '@paas/platform/registry-tokens';
import type { DockerClient } from './docker-client';
import { KeyedLock } from './keyed-lock';
import { ImagePullError, MANAGED_BY, READ_ONLY_TMP_BYTES, RUNTIME_LABELS, type ContainerLogOptions, type ContainerRuntime, type ContainerState, type RunRequest, type RuntimeContainer } from './container-runtime';

const LOOPBACK = '127.0.0.1';
const DEFAULT_GRACE_SECONDS = 10;

/**
 * The bridge of every pod network is named `paaspod<8 hex digits>` (at most the 15 characters
 * Linux allows): the firewall rules `npm run up` sets on each node match this prefix
 * (scripts/lib/pod-guard.mjs keeps the same constant), so a network made later is covered
 * without a rule of its own.
 */
export const POD_BRIDGE_PREFIX = 'paaspod';

/** The Docker network of one namespace's pods on a node, and its bridge's name. */
export function podNetwork(instance: string, namespace: string): { name: string; bridge: string } {
  const name = `paas-${instance}-${namespace}`;
  return { name, bridge: `${POD_BRIDGE_PREFIX}${createHash('sha256').update(name).digest('hex').slice(0, 8)}` };
}

/** Who a pod runs as when its image would run it as root: OpenShift's way, a non-root uid in group 0. */
export const DEFAULT_POD_USER = '1001:0';

/** Whether an image's `User` (`name`, `uid`, `uid:gid`, or none) runs its command as root. */
export function runsAsRoot(user: string | undefined): boolean {
  const name = (user ?? '').split(':')[0].trim();
  return name === '' || name === 'root' || name === '0';
}

/** Ports below this need privileges to bind, unless the network namespace says otherwise. */
const FIRST_UNPRIVILEGED_PORT = 1024;

/** The platform registry, and how to get a pull token for one of its repositories. */
export interface PlatformRegistry {
  /** As images name it (`REGISTRY_HOST`). */
  host: string;
  /** As this node's engine reaches it, when that differs (a node in a network of its own). */
  nodeHost?: string;
  credentials: RegistryCredentials;
}

/** An image of the platform registry (`host`) under the registry address a node reaches (`nodeHost`); any other as it is. */
export function asTheNodeNamesIt(image: string, { host, nodeHost }: Partial<Pick<PlatformRegistry, 'host' | 'nodeHost'>> = {}): string {
  return host && nodeHost && nodeHost !== host && image.startsWith(`${host}/`) ? `${nodeHost}${image.slice(host.length)}` : image;
}

/**
 * One Docker engine as a node: pods are containers publishing one port on the node's address
 * (`hostIP`: loopback for the engine of this host). An image of the platform registry is
 * pulled with a registry token (`system:deploy-service`), from where the node reaches the
 * registry. Only containers of this platform instance (INSTANCE_LABEL) are ever listed.
 *
 * Every pod is confined the same way (docs/security.md, "Pods"): it joins its namespace's own
 * network on the node (made with the namespace's first pod there, removed with its last), so
 * pods of other namespaces cannot reach it by its address; it runs as its image's user, or as
 * `runAsUser` when that would be root; it has no capabilities at all (`CapDrop: ALL`) and
 * cannot gain any (`no-new-privileges`); and it has a memory and a pids limit. A port below
 * 1024 needs no capability: the pod's own network namespace lets any user bind it
 * (`net.ipv4.ip_unprivileged_port_start=0`, which Docker 20.10 also sets by default).
 */
export class DockerRuntime implements ContainerRuntime {
  private readonly instance = loadConfig().instance;
  /**
   * Per namespace on this node, pods start side by side (shared turns) and its network is
   * removed alone (an exclusive turn): a pod starting never loses its network to the last one leaving.
   */
  private readonly namespaces = new KeyedLock();
  /** A namespace's network being made: the pods starting meanwhile wait for that one. */
  private readonly networksMade = new Map<string, Promise<string>>();

  constructor(
    private readonly docker: DockerClient,
    readonly nodeName = 'local',
    private readonly registry?: PlatformRegistry,
    readonly hostIP = LOOPBACK,
    private readonly runAsUser = DEFAULT_POD_USER,
  ) {}

  async run(spec: RunRequest): Promise<RuntimeContainer> {
    const request = { ...spec, image: this.asTheNodeNamesIt(spec.image) };
    let image = await this.docker.inspectImage(request.image);
    if (!image) {
      await this.pull(request.image);
      image = await this.docker.inspectImage(request.image);
    }
    const imageUser = image?.Config?.User;
    const port = request.containerPort;
    const env = [...(port ? [{ name: 'PORT', value: String(port) }] : []), ...request.env];
    return this.namespaces.shared(request.namespace, async () => {
      const network = await this.ensureNetwork(request.namespace);
      const { id } = await this.docker.createContainer({
        name: request.name,
        Hostname: request.hostname,
        Image: request.image,
        ...(request.command ? { Entrypoint: request.command, Cmd: [] } : {}),
        Env: env.map((e) => `${e.name}=${e.value}`),
        Labels: { ...request.labels, [RUNTIME_LABELS.managedBy]: MANAGED_BY, [RUNTIME_LABELS.namespace]: request.namespace, [INSTANCE_LABEL]: this.instance },
        ...(runsAsRoot(imageUser) ? { User: this.runAsUser } : {}),
        ...(port ? { ExposedPorts: { [`${port}/tcp`]: {} } } : {}),
        HostConfig: {
          Init: true,
          RestartPolicy: { Name: 'no' },
          NetworkMode: network,
          CapDrop: ['ALL'],
          SecurityOpt: ['no-new-privileges'],
          ...(port ? { PortBindings: { [`${port}/tcp`]: [{ HostIp: this.hostIP, HostPort: '' }] } } : {}),
          ...(port && port < FIRST_UNPRIVILEGED_PORT ? { Sysctls: { 'net.ipv4.ip_unprivileged_port_start': '0' } } : {}),
          ...(request.memoryBytes ? { Memory: request.memoryBytes, MemorySwap: request.memoryBytes } : {}),
          ...(request.pidsLimit ? { PidsLimit: request.pidsLimit } : {}),
          ...(request.cpuMillis ? { NanoCpus: request.cpuMillis * 1_000_000 } : {}),
          ...(request.readOnlyRootFilesystem ? { ReadonlyRootfs: true, Tmpfs: { '/tmp': `rw,nosuid,nodev,size=${READ_ONLY_TMP_BYTES},mode=1777` } } : {}),
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
    });
  }

  async hasImage(image: string): Promise<boolean> {
    return Boolean(await this.docker.inspectImage(this.asTheNodeNamesIt(image)));
  }

  /**
   * The namespace's network on this node, made when missing: a bridge of its own, labelled
   * with the platform instance and the namespace. A network of that name that this platform
   * did not make is never used. Pods starting at once share one check.
   */
  private ensureNetwork(namespace: string): Promise<string> {
    const pending = this.networksMade.get(namespace);
    if (pending) return pending;
    const made = this.makeNetwork(namespace).finally(() => this.networksMade.delete(namespace));
    this.networksMade.set(namespace, made);
    return made;
  }

  private async makeNetwork(namespace: string): Promise<string> {
    const { name, bridge } = podNetwork(this.instance, namespace);
    const existing = await this.docker.inspectNetwork(name);
    if (!existing) {
      await this.docker.createNetwork({
        Name: name,
        Driver: 'bridge',
        Labels: { [RUNTIME_LABELS.managedBy]: MANAGED_BY, [RUNTIME_LABELS.namespace]: namespace, [INSTANCE_LABEL]: this.instance },
        Options: { 'com.docker.network.bridge.name': bridge },
      });
      return name;
    }
    const labels = existing.Labels ?? {};
    if (labels[INSTANCE_LABEL] !== this.instance || labels[RUNTIME_LABELS.namespace] !== namespace) {
      throw new Error(`the Docker network ${name} on node ${this.nodeName} was not made by this platform for namespace ${namespace}: remove or rename it`);
    }
    return name;
  }

  /** Removes the namespace's network once none of its pods' containers (running or not) is left on this node. */
  private async dropNetworkIfUnused(namespace: string): Promise<void> {
    const left = await this.docker.listContainers({ label: [`${RUNTIME_LABELS.managedBy}=${MANAGED_BY}`, `${RUNTIME_LABELS.namespace}=${namespace}`, `${INSTANCE_LABEL}=${this.instance}`] });
    if (left.length === 0) await this.docker.removeNetwork(podNetwork(this.instance, namespace).name);
  }

  private asTheNodeNamesIt(image: string): string {
    return asTheNodeNamesIt(image, this.registry);
  }

  private async pull(image: string): Promise<void> {
    try {
      const registryHost = this.registry?.nodeHost ?? this.registry?.host;
      const repository = registryHost && platformRepositoryOf(image, registryHost);
      const auth = repository ? await this.registry?.credentials.authConfig(repository, ['pull']) : undefined;
      await this.docker.pullImage(image, auth);
    } catch (error) {
      throw new ImagePullError(`pulling ${image} failed: ${(error as Error).message}`);
    }
  }

  /** Stops and removes the container, then its namespace's network if it was the last pod of the namespace here. */
  async remove(id: string, options: { graceSeconds?: number } = {}) {
    const namespace = (await this.docker.inspectContainer(id))?.Config?.Labels?.[RUNTIME_LABELS.namespace];
    await this.docker.stopContainer(id, options.graceSeconds ?? DEFAULT_GRACE_SECONDS);
    await this.docker.removeContainer(id);
    if (namespace) await this.namespaces.exclusive(namespace, () => this.dropNetworkIfUnused(namespace));
  }

  async listByOwner(labels: Labels) {
    const filters = [`${RUNTIME_LABELS.managedBy}=${MANAGED_BY}`, ...Object.entries(labels).map(([key, value]) => `${key}=${value}`)];
    const containers = await this.docker.listContainers({ label: filters });
    return containers.filter((container) => belongsToInstance(container.Labels, this.instance)).map((container) => fromListing(container, this.hostIP));
  }

  async inspect(id: string) {
    const info = await this.docker.inspectContainer(id);
    return info ? fromInspect(info, this.hostIP) : undefined;
  }

  async logs(id: string, options: ContainerLogOptions) {
    return this.docker.containerLogs(id, options).catch(() => '');
  }

  /** A command that cannot be run (not found, the container stopped) fails the probe, as a non-zero exit does. */
  async exec(id: string, command: string[], timeoutMs: number) {
    return (await this.docker.execInContainer(id, command, timeoutMs).catch(() => undefined)) === 0;
  }
}

function fromListing(info: Docker.ContainerInfo, hostIP: string): RuntimeContainer {
  const binding = info.Ports?.find((port) => port.PublicPort && (port.IP === hostIP || !port.IP));
  const ip = Object.values(info.NetworkSettings?.Networks ?? {}).find((network) => network.IPAddress)?.IPAddress;
  return {
    id: info.Id,
    labels: info.Labels ?? {},
    state: (info.State as ContainerState) ?? 'unknown',
    ...(binding ? { hostPort: binding.PublicPort } : {}),
    ...(ip ? { ip } : {}),
  };
}

function fromInspect(info: Docker.ContainerInspectInfo, hostIP: string): RuntimeContainer {
  const bindings = Object.values(info.NetworkSettings?.Ports ?? {}).flat().filter(Boolean);
  const hostPort = Number(bindings.find((binding) => binding.HostIp === hostIP)?.HostPort ?? bindings[0]?.HostPort);
  const ip = Object.values(info.NetworkSettings?.Networks ?? {}).find((network) => network.IPAddress)?.IPAddress;
  return {
    id: info.Id,
    labels: info.Config?.Labels ?? {},
    state: (info.State?.Status as ContainerState) ?? 'unknown',
    ...(Number.isInteger(hostPort) && hostPort > 0 ? { hostPort } : {}),
    ...(ip ? { ip } : {}),
    exitCode: info.State?.ExitCode,
    startedAt: info.State?.StartedAt,
    ...(info.State?.FinishedAt && !info.State.FinishedAt.startsWith('0001') ? { finishedAt: info.State.FinishedAt } : {}),
    ...(info.State?.OOMKilled ? { oomKilled: true } : {}),
    ...(info.Config?.User ? { user: info.Config.User } : {}),
  };
}
