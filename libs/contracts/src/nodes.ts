import { z } from 'zod';
import { annotationsSchema, dns1123Label, labelsSchema, type Condition, type Resource } from './meta';

/**
 * A Node: one Docker engine the platform runs pods (and builds) on. Cluster-scoped, owned by
 * the deploy-service. Registered by URL: `unix:///path/to/docker.sock` for an engine on the
 * deploy-service's own host, `tcp://<address>:2376` with TLS client certificates for one
 * elsewhere (the same code path for both). Certificates are referenced by the directory that
 * holds them (`ca.pem`, `cert.pem`, `key.pem`, as DOCKER_CERT_PATH has them) on the
 * deploy-service's hosts, so no key ever travels through the API or sits in a record.
 */

/** Nodes are cluster-scoped: they are stored under this namespace and shown without one. */
export const NODE_SCOPE = '_cluster';
/** The engine of the deploy-service's own host, registered by the deploy-service itself. */
export const LOCAL_NODE = 'local';

const engineUrl = z
  .string()
  .max(1024)
  .regex(/^(unix:\/\/\/\S+|tcp:\/\/[A-Za-z0-9.-]+:\d{1,5})$/, 'must be unix:///<socket path> or tcp://<host>:<port>');

const hostAddress = z.string().regex(/^(\d{1,3}\.){3}\d{1,3}$/, 'must be an IPv4 address');

export const nodeSpecSchema = z
  .object({
    engine: z.object({
      url: engineUrl,
      /** Directory with ca.pem, cert.pem and key.pem for a tcp:// engine (required there). */
      tlsDir: z.string().startsWith('/', 'must be an absolute path').max(1024).optional(),
    }),
    /** Where the node's published ports answer, for the router and probes. */
    hostIP: hostAddress,
    /** The platform registry as the node's engine reaches it (`host:port`). */
    registryHost: z.string().regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'must be host:port').max(255),
    /** Cordoned: no new pods are placed here. */
    unschedulable: z.boolean().default(false),
  })
  .refine((spec) => !spec.engine.url.startsWith('tcp://') || spec.engine.tlsDir !== undefined, {
    message: 'a tcp:// engine needs its TLS client certificates',
    path: ['engine', 'tlsDir'],
  });
export type NodeSpec = z.infer<typeof nodeSpecSchema>;

export const nodeInput = z.object({
  apiVersion: z.literal('v1').optional(),
  kind: z.literal('Node').optional(),
  metadata: z.object({ name: dns1123Label, labels: labelsSchema.optional(), annotations: annotationsSchema.optional(), resourceVersion: z.string().optional() }),
  spec: nodeSpecSchema,
});
export type NodeInput = z.infer<typeof nodeInput>;

export interface NodeResources {
  memoryBytes: number;
  cpuMillis: number;
  pods: number;
}

export interface NodeStatus {
  capacity?: NodeResources;
  /** What pods may use: the capacity less what the engine's host keeps for itself. */
  allocatable?: NodeResources;
  /** `Ready` (with `lastHeartbeatTime`), `Draining` while its pods move away. */
  conditions: (Condition & { lastHeartbeatTime?: string })[];
  nodeInfo?: { engineVersion: string; operatingSystem: string; architecture: string; kernelVersion: string };
}

export type Node = Resource<'Node', NodeSpec, NodeStatus>;

/** Set on a Node to move its pods to other nodes (cordoned as well); removed to let it serve again. */
export const DRAIN_ANNOTATION = 'paas.dev/drain';

/** Its engine answers: the Ready condition is True. */
export function isNodeReady(node: Node | undefined): boolean {
  return node?.status.conditions.some((condition) => condition.type === 'Ready' && condition.status === 'True') ?? false;
}

/** Marked for draining: its pods move away, and nothing new is placed on it. */
export function isNodeDraining(node: Node | undefined): boolean {
  return node?.metadata.annotations?.[DRAIN_ANNOTATION] === 'true';
}

/** New work (a pod, a build) may be placed on it: Ready, not cordoned, not draining. */
export function isNodeSchedulable(node: Node | undefined): node is Node {
  return isNodeReady(node) && !node?.spec.unschedulable && !isNodeDraining(node);
}
