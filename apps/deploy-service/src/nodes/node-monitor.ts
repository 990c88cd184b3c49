import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { LOCAL_NODE, NODE_SCOPE, type Node, type NodeStatus } from '@paas/contracts/nodes';
import { ApiError } from '@paas/platform/api-error';
import { loadConfig } from '@paas/platform/config';
import { ShardOwnership } from '@paas/platform/shard-ownership';
import { isDeepStrictEqual } from 'node:util';
import { setCondition } from '../conditions';
import { DEPLOY_SETTINGS, type DeploySettings } from '../deploy-settings';
import { DeployInformers } from '../informers';
import type { Store } from '../store';
import { NodeEngines, type EngineInfo } from './node-engines';
import { NodeRepository } from './node.repository';

/** A heartbeat is written at least this often while nothing else changes (Ready is written at once). */
const HEARTBEAT_WRITE_MS = 60_000;
/** Capacity and engine info are asked this often (heartbeats only ping: `docker info` costs the engine). */
const INFO_REFRESH_MS = 5 * 60_000;

interface Observed {
  lastAnswerAt: number;
  info?: EngineInfo;
  infoAt?: number;
  error?: string;
}

/**
 * Watches every node's engine, from the one replica that owns the cluster scope: pings each
 * engine every `nodeHeartbeatMs` (its capacity asked every few minutes), and marks a node Ready=False (`NodeNotReady`) once it has
 * not answered for `nodeGraceMs`, Ready=True again when it answers. The Node's status is
 * written when its readiness or capacity changes, and its heartbeat time at most once a
 * minute otherwise. With no node registered at all, it registers this host's engine as
 * `local`, so that a platform on one machine needs no registration.
 */
@Injectable()
export class NodeMonitor implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(NodeMonitor.name);
  private readonly observed = new Map<string, Observed>();
  private timer?: NodeJS.Timeout;
  private checking?: Promise<void>;

  constructor(
    @Inject(NodeRepository) private readonly nodes: Store<Node>,
    @Inject(DeployInformers) private readonly cache: Pick<DeployInformers, 'nodes'>,
    @Inject(NodeEngines) private readonly engines: NodeEngines,
    @Inject(ShardOwnership) private readonly ownership: Pick<ShardOwnership, 'ownsNamespace'>,
    @Inject(DEPLOY_SETTINGS) private readonly settings: DeploySettings,
  ) {}

  onApplicationBootstrap() {
    this.timer = setInterval(() => void this.check(), this.settings.nodeHeartbeatMs).unref();
  }

  onApplicationShutdown() {
    clearInterval(this.timer);
  }

  /** One round over every node; rounds never overlap. */
  check(): Promise<void> {
    this.checking ??= this.checkOnce().finally(() => (this.checking = undefined));
    return this.checking;
  }

  private async checkOnce(): Promise<void> {
    if (!this.ownership.ownsNamespace(NODE_SCOPE)) {
      this.observed.clear();
      return;
    }
    if (this.cache.nodes.list().length === 0) await this.registerLocalEngine();
    await Promise.all(this.cache.nodes.list().map((node) => this.heartbeat(node)));
  }

  private async heartbeat(node: Node): Promise<void> {
    const name = node.metadata.name;
    const now = this.settings.now();
    // A node first seen counts as answering from now: it gets its grace period before NotReady.
    const observed = this.observed.get(name) ?? { lastAnswerAt: now };
    this.observed.set(name, observed);
    try {
      const engine = this.engines.of(node);
      if (!observed.info || now - (observed.infoAt ?? 0) >= INFO_REFRESH_MS) {
        observed.info = await engine.info(this.settings.nodeHeartbeatMs);
        observed.infoAt = now;
      } else {
        await engine.ping(this.settings.nodeHeartbeatMs);
      }
      observed.lastAnswerAt = this.settings.now();
      observed.error = undefined;
    } catch (error) {
      observed.error = (error as Error).message;
    }
    const status = nextStatus(node.status, observed, this.settings.now(), this.settings);
    const heartbeatDue = !observed.error && !(now - Date.parse(readyCondition(node.status)?.lastHeartbeatTime ?? '') < HEARTBEAT_WRITE_MS);
    if (isDeepStrictEqual(withoutHeartbeat(status), withoutHeartbeat(node.status)) && !heartbeatDue) return;
    const ready = readyCondition(status)?.status;
    if (ready !== readyCondition(node.status)?.status) this.logger.log({ msg: `node ${name} is ${ready === 'True' ? 'Ready' : `NotReady: ${observed.error ?? 'no answer'}`}` });
    await this.nodes.updateStatus(NODE_SCOPE, name, () => status).catch((error: Error) => this.logger.warn({ msg: `status of node ${name} not written: ${error.message}` }));
  }

  private async registerLocalEngine(): Promise<void> {
    const socket = process.env.DOCKER_HOST?.startsWith('unix://') ? process.env.DOCKER_HOST : 'unix:///var/run/docker.sock';
    await this.nodes
      .create({
        metadata: { name: LOCAL_NODE, namespace: NODE_SCOPE, labels: {}, annotations: {} },
        spec: { engine: { url: socket }, hostIP: '127.0.0.1', registryHost: loadConfig().registryHost, unschedulable: false },
        status: { conditions: [] },
      })
      .then(
        () => this.logger.log({ msg: `registered this host's engine (${socket}) as node ${LOCAL_NODE}` }),
        (error: unknown) => {
          if (!(error instanceof ApiError && error.status.reason === 'AlreadyExists')) throw error;
        },
      );
  }
}

function readyCondition(status: NodeStatus) {
  return status.conditions.find((condition) => condition.type === 'Ready');
}

function withoutHeartbeat(status: NodeStatus): NodeStatus {
  return { ...status, conditions: status.conditions.map(({ lastHeartbeatTime: _heartbeat, ...condition }) => condition) };
}

function nextStatus(current: NodeStatus, observed: Observed, now: number, { nodeGraceMs: graceMs, maxPodsPerNode }: DeploySettings): NodeStatus {
  const answering = now - observed.lastAnswerAt < graceMs;
  const ready = answering
    ? { type: 'Ready', status: 'True' as const, reason: 'EngineReady', message: 'the Docker engine answers' }
    : { type: 'Ready', status: 'False' as const, reason: 'NodeNotReady', message: `the Docker engine has not answered for over ${graceMs / 1000} s: ${observed.error ?? 'no answer'}` };
  const conditions = setCondition(withoutHeartbeat(current).conditions, ready, now).map((condition) =>
    condition.type === 'Ready' ? { ...condition, lastHeartbeatTime: new Date(observed.lastAnswerAt).toISOString() } : condition,
  );
  const info = observed.info;
  if (!info) return { ...current, conditions };
  const capacity = { memoryBytes: info.memoryBytes, cpuMillis: info.cpus * 1000, pods: maxPodsPerNode };
  return {
    capacity,
    allocatable: capacity,
    conditions,
    nodeInfo: { engineVersion: info.engineVersion, operatingSystem: info.operatingSystem, architecture: info.architecture, kernelVersion: info.kernelVersion },
  };
}
