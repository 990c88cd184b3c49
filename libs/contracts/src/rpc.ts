import type { Jwks, RegistryTokenRequest, RegistryTokenResponse } from './auth';
import type { BinaryBuildRequest, Build, BuildConfig, BuildLog, CatalogBuilderList, DetectedStrategy, DetectRequest, WebhookRequest } from './builds';
import type { ConfigMap, Secret } from './config';
import type { LimitRange, ResourceQuota } from './quotas';
import type { DeploymentConfig, DeploymentLog, DeploymentLogOptions, Endpoints, Pod, PodLog, PodLogOptions, ReplicationController, Service } from './deployments';
import type { ImageStream, ImageStreamTag } from './images';
import type { Node } from './nodes';
import type { ResourceList } from './meta';
import type { Namespace } from './namespaces';
import type { Route, RouterTraffic, TrafficAddress } from './routes';
import type { Status } from './status';

/**
 * Request/reply between services over core NATS: subject `paas.rpc.<plural>.<verb>`, one
 * queue group per owning service so replicas share the work. Every reply is an
 * `RpcReply`: a result, or a Kubernetes `Status` that keeps its HTTP code across the hop.
 */
export const RPC_SUBJECT_PREFIX = 'paas.rpc';

export const RESOURCE_OWNERS = {
  buildconfigs: 'build-service',
  builds: 'build-service',
  imagestreams: 'registry-service',
  deploymentconfigs: 'deploy-service',
  replicationcontrollers: 'deploy-service',
  pods: 'deploy-service',
  services: 'deploy-service',
  endpoints: 'deploy-service',
  configmaps: 'deploy-service',
  secrets: 'deploy-service',
  resourcequotas: 'deploy-service',
  limitranges: 'deploy-service',
  routes: 'router',
} as const;

export type Plural = keyof typeof RESOURCE_OWNERS;
export const PLURALS = Object.keys(RESOURCE_OWNERS) as Plural[];

export type Verb = 'get' | 'list' | 'create' | 'update' | 'delete';
const ALL_VERBS = ['get', 'list', 'create', 'update', 'delete'] as const;
const READ_ONLY = ['get', 'list'] as const;

/** What a client may do with each resource; the rest are made and removed by their controllers. */
export const RESOURCE_VERBS = {
  buildconfigs: ALL_VERBS,
  builds: ['get', 'list', 'delete'],
  imagestreams: ALL_VERBS,
  deploymentconfigs: ALL_VERBS,
  replicationcontrollers: READ_ONLY,
  pods: READ_ONLY,
  services: ALL_VERBS,
  endpoints: READ_ONLY,
  configmaps: ALL_VERBS,
  secrets: ALL_VERBS,
  resourcequotas: ALL_VERBS,
  limitranges: ALL_VERBS,
  routes: ALL_VERBS,
} as const satisfies Record<Plural, readonly Verb[]>;

export function allows(plural: Plural, verb: Verb): boolean {
  return (RESOURCE_VERBS[plural] as readonly Verb[]).includes(verb);
}

export interface ResourceOfPlural {
  buildconfigs: BuildConfig;
  builds: Build;
  imagestreams: ImageStream;
  deploymentconfigs: DeploymentConfig;
  replicationcontrollers: ReplicationController;
  pods: Pod;
  services: Service;
  endpoints: Endpoints;
  configmaps: ConfigMap;
  secrets: Secret;
  resourcequotas: ResourceQuota;
  limitranges: LimitRange;
  routes: Route;
}

export interface GetRequest {
  namespace: string;
  name: string;
}
export interface ListRequest {
  /** Absent: every namespace. */
  namespace?: string;
  labelSelector?: string;
  /** At most this many items (0 or absent: all); the answer's `metadata.continue` asks for the next page. */
  limit?: number;
  /** `metadata.continue` of the previous page, as it was. */
  continue?: string;
}
export interface CreateRequest {
  namespace: string;
  body: unknown;
  /** Validate and answer what would be created, storing nothing. */
  dryRun?: boolean;
}
export interface UpdateRequest {
  namespace: string;
  name: string;
  body: unknown;
}
export type DeleteRequest = GetRequest;

type AllCrudRpc<P extends Plural> = {
  [V in `${P}.get`]: { request: GetRequest; response: ResourceOfPlural[P] };
} & { [V in `${P}.list`]: { request: ListRequest; response: ResourceList<ResourceOfPlural[P]> } } & {
  [V in `${P}.create`]: { request: CreateRequest; response: ResourceOfPlural[P] };
} & { [V in `${P}.update`]: { request: UpdateRequest; response: ResourceOfPlural[P] } } & {
  [V in `${P}.delete`]: { request: DeleteRequest; response: Status };
};

/** Only the verbs the owner serves (RESOURCE_VERBS), so the compiler refuses a call nobody answers. */
type CrudRpc<P extends Plural> = Pick<AllCrudRpc<P>, `${P}.${(typeof RESOURCE_VERBS)[P][number]}` & keyof AllCrudRpc<P>>;

type UnionToIntersection<U> = (U extends unknown ? (k: U) => void : never) extends (k: infer I) => void ? I : never;

export type RpcMap = UnionToIntersection<{ [P in Plural]: CrudRpc<P> }[Plural]> & {
  'buildconfigs.instantiate': { request: GetRequest & { message?: string }; response: Build };
  /** A Build of a Binary BuildConfig from files the gateway stored in the bus's object store (`oc start-build --from-dir`). */
  'buildconfigs.instantiatebinary': { request: BinaryBuildRequest; response: Build };
  /** A generic or GitHub webhook call: the Build it started, or a Success Status saying why it started none (a push to another branch, a ping). */
  'buildconfigs.webhook': { request: WebhookRequest; response: Build | Status };
  /** The builder catalog, each with what its image says of itself (`GET /api/v1/builders`). */
  'buildconfigs.builders': { request: Record<string, never>; response: CatalogBuilderList };
  /** How new-app should build a repository when it names no builder: answers the strategy, or a 422 saying why none fits. */
  'buildconfigs.detect': { request: DetectRequest; response: DetectedStrategy };
  'builds.log': { request: GetRequest & { offset?: number }; response: BuildLog };
  /** `oc cancel-build`: a build not yet ended is marked `status.cancelled` and ends as Cancelled (400 once it has ended). */
  'builds.cancel': { request: GetRequest; response: Build };
  'pods.log': { request: GetRequest & PodLogOptions; response: PodLog };
  'deploymentconfigs.scale': { request: GetRequest & { replicas: number }; response: DeploymentConfig };
  /** A new revision of the current template at once (`oc rollout latest`). */
  'deploymentconfigs.instantiate': { request: GetRequest; response: DeploymentConfig };
  /** The template of an earlier revision rolled out as a new one (`oc rollback`); `body` a DeploymentConfigRollback. */
  'deploymentconfigs.rollback': { request: GetRequest & { body?: unknown }; response: DeploymentConfig };
  /** Stops the rollout of the newest revision (`oc rollout cancel`): it fails as RolloutCancelled and the last complete one serves. */
  'deploymentconfigs.cancel': { request: GetRequest; response: DeploymentConfig };
  /** A revision's rollout log (`oc logs dc/<name>`), from line `offset` on. */
  'deploymentconfigs.log': { request: GetRequest & DeploymentLogOptions & { offset?: number }; response: DeploymentLog };
  /** The image a stream tag points at now; `name` is `<stream>:<tag>`. */
  'imagestreamtags.get': { request: GetRequest; response: ImageStreamTag };
  /** A namespace as the api-gateway keeps it (its annotations say, say, its registry quota); 404 when there is none. */
  'namespaces.get': { request: { name: string }; response: Namespace };
  /** The api-gateway's public keys for registry tokens (JWKS). */
  'auth.keys': { request: Record<string, never>; response: Jwks };
  /** A registry token for a platform service, minted by the api-gateway. */
  'auth.registryToken': { request: RegistryTokenRequest; response: RegistryTokenResponse };
  /** Nodes (cluster-scoped, the deploy-service's): register by engine URL, cordon by update, drain, remove. */
  'nodes.create': { request: { body: unknown; dryRun?: boolean }; response: Node };
  'nodes.get': { request: { name: string }; response: Node };
  'nodes.list': { request: Record<string, never>; response: ResourceList<Node> };
  'nodes.update': { request: { name: string; body: unknown }; response: Node };
  'nodes.delete': { request: { name: string }; response: Status };
  /** Cordons the node and moves its pods to others, each replaced before it stops. */
  'nodes.drain': { request: { name: string }; response: Node };
  /** Asked of every router replica at once, each answering for itself: does it still send traffic to these addresses? */
  'router.traffic': { request: { addresses: TrafficAddress[] }; response: RouterTraffic };
};

export type RpcMethod = keyof RpcMap & string;
export type RpcRequest<M extends RpcMethod> = RpcMap[M]['request'];
export type RpcResponse<M extends RpcMethod> = RpcMap[M]['response'];

export type RpcReply<T> = { ok: true; result: T } | { ok: false; status: Status };

/**
 * The method for a verb on a plural, for code that works across resource types (new-app,
 * namespace deletion). The caller must know the owner serves the verb (RESOURCE_VERBS).
 */
export function resourceMethod<V extends Verb>(plural: Plural, verb: V): RpcMethod & `${string}.${V}` {
  return `${plural}.${verb}` as RpcMethod & `${string}.${V}`;
}

export function rpcSubject(method: RpcMethod): string {
  return `${RPC_SUBJECT_PREFIX}.${method}`;
}

export const RESOURCE_KINDS: Record<Plural, string> = {
  buildconfigs: 'BuildConfig',
  builds: 'Build',
  imagestreams: 'ImageStream',
  deploymentconfigs: 'DeploymentConfig',
  replicationcontrollers: 'ReplicationController',
  pods: 'Pod',
  services: 'Service',
  endpoints: 'Endpoints',
  configmaps: 'ConfigMap',
  secrets: 'Secret',
  resourcequotas: 'ResourceQuota',
  limitranges: 'LimitRange',
  routes: 'Route',
};
