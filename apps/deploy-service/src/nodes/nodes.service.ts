import { Inject, Injectable } from '@nestjs/common';
import type { ResourceList } from '@paas/contracts/meta';
import { DRAIN_ANNOTATION, NODE_SCOPE, nodeInput, type Node, type NodeInput } from '@paas/contracts/nodes';
import { successStatus, type Status } from '@paas/contracts/status';
import { ApiError } from '@paas/platform/api-error';
import { dryRunPreview, parseBody, resourceList, updatedFrom } from '@paas/platform/rpc-input';
import type { Store } from '../store';
import { dockerFor } from '@paas/platform/docker-engines';
import { engineInfo } from './node-engines';
import { NodeRepository } from './node.repository';

const KIND = 'Node';
/** How long a registration waits for the engine to answer before it is refused. */
const REGISTRATION_PROBE_MS = 3_000;

/** The API shape: cluster-scoped, so without a namespace. */
export function nodeView(node: Node): Node {
  const { namespace: _scope, ...metadata } = node.metadata;
  return { ...node, metadata: metadata as Node['metadata'] };
}

/**
 * The Node API: register an engine by URL (it must answer, or the registration is a 422
 * naming the field), read, update (labels, cordon with `spec.unschedulable`), drain (cordon,
 * then its pods move, each replaced elsewhere before it stops), remove.
 */
@Injectable()
export class NodesService {
  constructor(@Inject(NodeRepository) private readonly nodes: Store<Node>) {}

  async get(name: string): Promise<Node> {
    return nodeView(await this.nodes.get(NODE_SCOPE, name));
  }

  async list(): Promise<ResourceList<Node>> {
    return resourceList(KIND, (await this.nodes.list({ namespace: NODE_SCOPE })).map(nodeView));
  }

  async create(body: unknown, dryRun = false): Promise<Node> {
    const input = await this.checked(body);
    const resource = {
      metadata: { name: input.metadata.name, namespace: NODE_SCOPE, labels: input.metadata.labels ?? {}, annotations: input.metadata.annotations ?? {} },
      spec: input.spec,
      status: { conditions: [] },
    };
    if (dryRun) {
      if (await this.nodes.find(NODE_SCOPE, input.metadata.name)) throw ApiError.alreadyExists(KIND, input.metadata.name);
      return nodeView(dryRunPreview<Node>(KIND, resource));
    }
    return nodeView(await this.nodes.create(resource));
  }

  async update(name: string, body: unknown): Promise<Node> {
    const input = await this.checked(body);
    if (input.metadata.name !== name) throw ApiError.invalid(KIND, name, 'metadata.name', `must be "${name}", the name being updated`);
    return nodeView(await this.nodes.update(NODE_SCOPE, name, (current) => updatedFrom(current, input), { resourceVersion: input.metadata.resourceVersion }));
  }

  /** Cordons the node and marks it for draining: the ReplicationController controller moves its pods. */
  async drain(name: string): Promise<Node> {
    const drained = await this.nodes.update(NODE_SCOPE, name, (current) => ({
      ...current,
      metadata: { ...current.metadata, annotations: { ...current.metadata.annotations, [DRAIN_ANNOTATION]: 'true' } },
      spec: { ...current.spec, unschedulable: true },
    }));
    return nodeView(drained);
  }

  async delete(name: string): Promise<Status> {
    await this.nodes.delete(NODE_SCOPE, name);
    return successStatus(`node "${name}" deleted`, { kind: KIND, name });
  }

  /** The schema, then what only the engine can say: its certificates can be read, and it answers. */
  private async checked(body: unknown): Promise<NodeInput> {
    const input = parseBody(nodeInput, body, KIND, '');
    const name = input.metadata.name;
    let docker;
    try {
      docker = dockerFor(input.spec.engine, REGISTRATION_PROBE_MS);
    } catch (error) {
      throw ApiError.invalid(KIND, name, 'spec.engine.tlsDir', `cannot read the TLS client certificates (ca.pem, cert.pem, key.pem): ${(error as Error).message}`);
    }
    await engineInfo(docker, REGISTRATION_PROBE_MS).catch((error: Error) => {
      throw ApiError.invalid(KIND, name, 'spec.engine.url', `the engine does not answer: ${error.message}`);
    });
    return input;
  }
}
