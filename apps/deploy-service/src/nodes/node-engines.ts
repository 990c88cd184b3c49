import { Inject, Injectable } from '@nestjs/common';
import type { Node, NodeSpec } from '@paas/contracts/nodes';
import { loadConfig } from '@paas/platform/config';
import { RegistryTokenClient } from '@paas/platform/registry-tokens';
import { RpcClient } from '@paas/platform/rpc';
import { dockerFor, engineKey, withinTime } from '@paas/platform/docker-engines';
import type Docker from 'dockerode';
import { DockerodeClient, type DockerClient } from '../adapters/docker-client';
import { DockerNodeImages } from '../adapters/docker-node-images';
import { DockerRuntime } from '../adapters/docker-runtime';
import type { NodeImages } from '../adapters/node-images';
import { DEPLOY_SETTINGS, type DeploySettings } from '../deploy-settings';

/** What one engine answers about itself: enough for a Node's capacity and info. */
export interface EngineInfo {
  memoryBytes: number;
  cpus: number;
  engineVersion: string;
  operatingSystem: string;
  architecture: string;
  kernelVersion: string;
}

/** A node's engine as the deploy-service drives it. */
export interface NodeEngine {
  spec: NodeSpec;
  client: DockerClient;
  runtime: DockerRuntime;
  /** Its images, for their garbage collection. */
  images: NodeImages;
  /** Who the engine is and what it has (costly for the engine: asked rarely). */
  info(timeoutMs: number): Promise<EngineInfo>;
  /** Whether it answers at all (`/_ping`: cheap, for heartbeats). */
  ping(timeoutMs: number): Promise<void>;
}

/** Asks an engine who it is; rejects when it does not answer within `timeoutMs`. */
export async function engineInfo(docker: Docker, timeoutMs: number): Promise<EngineInfo> {
  const info = (await withinTime(docker.info(), timeoutMs)) as { MemTotal: number; NCPU: number; ServerVersion: string; OperatingSystem: string; Architecture: string; KernelVersion: string };
  return {
    memoryBytes: info.MemTotal,
    cpus: info.NCPU,
    engineVersion: info.ServerVersion,
    operatingSystem: info.OperatingSystem,
    architecture: info.Architecture,
    kernelVersion: info.KernelVersion,
  };
}

/**
 * The engine of each Node, opened once per engine spec and kept: every replica can drive
 * every node (a pod of an owned namespace may run anywhere). Pods pull images of the platform
 * registry through the registry address the node reaches (`spec.registryHost`).
 */
@Injectable()
export class NodeEngines {
  private readonly engines = new Map<string, { key: string; engine: NodeEngine }>();
  private readonly registryHost = loadConfig().registryHost;

  constructor(
    @Inject(RpcClient) private readonly rpc: RpcClient,
    @Inject(DEPLOY_SETTINGS) private readonly settings: Pick<DeploySettings, 'podUser'>,
  ) {}

  of(node: Node): NodeEngine {
    const key = engineKey(node.spec);
    const cached = this.engines.get(node.metadata.name);
    if (cached?.key === key) return cached.engine;
    const docker = dockerFor(node.spec.engine);
    const client = new DockerodeClient(docker);
    const credentials = new RegistryTokenClient(this.rpc, 'system:deploy-service');
    const runtime = new DockerRuntime(client, node.metadata.name, { host: this.registryHost, nodeHost: node.spec.registryHost, credentials }, node.spec.hostIP, this.settings.podUser);
    const engine: NodeEngine = {
      spec: node.spec,
      client,
      runtime,
      images: new DockerNodeImages(client),
      info: (timeoutMs) => engineInfo(docker, timeoutMs),
      ping: async (timeoutMs) => void (await withinTime(docker.ping(), timeoutMs)),
    };
    this.engines.set(node.metadata.name, { key, engine });
    return engine;
  }

  forget(name: string): void {
    this.engines.delete(name);
  }
}
