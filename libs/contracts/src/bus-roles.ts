import { BINARY_INPUT_BUCKET } from './builds';
import type { EventType } from './events';
import { RECORDED_EVENT_TYPES } from './kube-events';
import { RESOURCE_OWNERS, type Plural, type RpcMethod } from './rpc';

/**
 * Who may do what on the bus (docs/security.md, "Service → service over NATS"). Each service
 * connects with credentials of its own, and the NATS server lets it publish and subscribe to
 * the subjects its role names and no other (libs/platform/src/bus-permissions.ts turns a role
 * into subjects; `npm run up` writes them into the server's configuration). Adding an event,
 * an RPC or a caller means adding it here, or the server refuses it.
 */
export const SERVICES = ['api-gateway', 'build-service', 'registry-service', 'deploy-service', 'router'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** The one service that publishes each event type: the compiler asks for the publisher of every new one. */
export const EVENT_PUBLISHERS: Record<EventType, ServiceName> = {
  'build.requested': 'build-service',
  'build.started': 'build-service',
  'build.completed': 'build-service',
  'build.failed': 'build-service',
  'imagestream.updated': 'registry-service',
  'deployment.triggered': 'deploy-service',
  'deployment.rolled': 'deploy-service',
  'deployment.failed': 'deploy-service',
  'deployment.scaled': 'deploy-service',
  'pod.changed': 'deploy-service',
  'endpoints.changed': 'deploy-service',
  'route.changed': 'router',
};

/** An RPC method, or every verb of a plural (`buildconfigs.*`, the NATS wildcard of one token). */
export type RpcPattern = RpcMethod | `${Plural | 'nodes'}.*`;

export interface BusRole {
  /** The requests it answers, in its own queue group. */
  serves: RpcPattern[];
  /** The requests it sends. */
  asks: RpcPattern[];
  /**
   * The events it consumes: by one durable consumer that its replicas share, or with
   * `everyReplica` by a consumer of each replica's own (see EventBus.subscribe).
   */
  consumes: { type: EventType; everyReplica?: boolean }[];
  /** The kinds it stores: it announces their changes, and may watch them (`paas.watch.<kind>.*`). */
  kinds: string[];
  /** Kinds of another service whose changes it watches for a cache of its own (subscribe only). */
  watches?: string[];
  /** Requests every replica answers for itself (no queue group): the asker gathers one reply from each. */
  answersEach?: RpcPattern[];
  /** Services whose replicas it counts by their presence (`presenceSubject`), to know whom a gather must hear from. */
  observes?: ServiceName[];
  /** JetStream object store buckets it may create, write, read and delete objects of. */
  objectStores?: string[];
}

/**
 * Where each replica of `service` says, every second, that it is alive (core NATS, nothing
 * stored): every service may announce itself; those that `observes` it listen.
 */
export function presenceSubject(service: ServiceName): string {
  return `paas.presence.${service}`;
}

const everyVerbOf = (owner: ServiceName): RpcPattern[] =>
  (Object.entries(RESOURCE_OWNERS) as [Plural, ServiceName][]).filter(([, service]) => service === owner).map(([plural]) => `${plural}.*` as const);

export const BUS_ROLES: Record<ServiceName, BusRole> = {
  'api-gateway': {
    // Identities are the gateway's: only it answers auth.* and namespaces.*.
    serves: ['auth.keys', 'auth.registryToken', 'namespaces.get'],
    // The REST API, new-app and namespace deletion reach every resource and node.
    asks: [...(Object.keys(RESOURCE_OWNERS) as Plural[]).map((plural) => `${plural}.*` as const), 'nodes.*'],
    // The events it records as Kubernetes Events, by one durable consumer each.
    consumes: RECORDED_EVENT_TYPES.map((type) => ({ type })),
    kinds: ['Namespace', 'User', 'ServiceAccount', 'RoleBinding', 'Event'],
    // A followed build log ends as soon as its build does.
    watches: ['Build'],
    // Binary builds' uploads, stored as they stream in (deleted again when no build takes one).
    objectStores: [BINARY_INPUT_BUCKET],
  },
  'build-service': {
    serves: everyVerbOf('build-service'),
    // A push token before each push; the nodes to run builds on, cached and kept current by their changes;
    // a BuildConfig's source secret, to fetch a private repository; the image a builder's stream tag points at.
    asks: ['auth.registryToken', 'nodes.list', 'nodes.get', 'secrets.get', 'imagestreamtags.get'],
    // Builds to run; a builder stream tag's new image (ImageChange triggers).
    consumes: [{ type: 'build.requested' }, { type: 'imagestream.updated' }],
    kinds: ['BuildConfig', 'Build'],
    watches: ['Node'],
    // Binary builds' uploads: read by the build, deleted once it has ended.
    objectStores: [BINARY_INPUT_BUCKET],
  },
  'registry-service': {
    serves: [...everyVerbOf('registry-service'), 'imagestreamtags.get'],
    // The keys registry tokens are checked with; a namespace's quota annotation.
    asks: ['auth.keys', 'namespaces.get'],
    consumes: [],
    kinds: ['ImageStream'],
  },
  'deploy-service': {
    serves: [...everyVerbOf('deploy-service'), 'nodes.*'],
    // A pull token before pulling an image of the platform registry; the image an ImageStream tag points at.
    // Before stopping an old pod's container: whether any router replica still sends it traffic.
    asks: ['auth.registryToken', 'imagestreamtags.get', 'router.traffic'],
    observes: ['router'],
    consumes: [{ type: 'imagestream.updated' }],
    kinds: ['DeploymentConfig', 'ReplicationController', 'Pod', 'Service', 'Endpoints', 'Node', 'ConfigMap', 'Secret', 'ResourceQuota', 'LimitRange'],
  },
  router: {
    serves: everyVerbOf('router'),
    // Each replica for itself: does its table still send traffic to an address (a pod being drained)?
    answersEach: ['router.traffic'],
    // Its table: every Endpoints at start and on resync, then their changes and the routes' on every replica.
    asks: ['endpoints.list'],
    consumes: [
      { type: 'endpoints.changed', everyReplica: true },
      { type: 'route.changed', everyReplica: true },
    ],
    kinds: ['Route'],
  },
};

/** The name NATS knows the operator's credentials by: every subject, for tests, benchmarks and an operator's tools. */
export const BUS_ADMIN = 'admin';
