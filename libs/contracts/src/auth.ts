import { z } from 'zod';
import { dns1123Label, objectMetaInput, type Resource } from './meta';

/**
 * Identities, roles and the registry's token flow, shared by the api-gateway (which issues
 * tokens) and the registry-service (which checks them). See docs/architecture.md, "Authentication".
 */

/** `iss` of every registry token. */
export const TOKEN_ISSUER = 'paas-api-gateway';
/** `service=` of the token request and `aud` of the token. */
export const REGISTRY_SERVICE = 'paas-registry';
/** A namespace whose images anyone may pull carries this annotation set to `"true"`. */
export const ANONYMOUS_PULL_ANNOTATION = 'paas.dev/registry-anonymous-pull';
/** The subject of a call without credentials. */
export const ANONYMOUS = 'system:anonymous';
/** The cluster-admin the api-gateway keeps in being. */
export const ADMIN_USER = 'admin';
/** Its password, under PAAS_HOME, unless PAAS_ADMIN_PASSWORD gives it (made by the gateway on first start, mode 0600). */
export const ADMIN_PASSWORD_FILE = 'secrets/admin-password';
/** API and service-account tokens start so: a Basic password of this shape is tried as a token first. */
export const API_TOKEN_PREFIX = 'paas_';

// ---------------------------------------------------------------- roles

/** Roles in a namespace, each including the one before. */
/**
 * From the weakest: `system:image-puller` (OpenShift's) pulls the namespace's images and does
 * nothing else (the builds of another namespace are granted it through that namespace's
 * `builder` service account), `view` reads, `edit` writes, `admin` also grants roles.
 */
export const ROLES = ['system:image-puller', 'view', 'edit', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** The strongest of the roles given (undefined for none). */
export function strongestRole(roles: Iterable<Role>): Role | undefined {
  let best: Role | undefined;
  for (const role of roles) if (!best || ROLES.indexOf(role) > ROLES.indexOf(best)) best = role;
  return best;
}

export function roleIncludes(held: Role | undefined, needed: Role): boolean {
  return held !== undefined && ROLES.indexOf(held) >= ROLES.indexOf(needed);
}

/** What the REST API does, by the verbs authorization speaks of. */
export type ApiVerb = 'get' | 'list' | 'log' | 'create' | 'update' | 'delete' | 'instantiate' | 'scale' | 'rollback' | 'cancel';
const READ_VERBS: readonly ApiVerb[] = ['get', 'list', 'log'];
/** Resources of a namespace only its admins may change. */
const ADMIN_WRITTEN_RESOURCES = ['rolebindings', 'serviceaccounts/token', 'namespaces'];
/** ...and of those, the ones only they may even read. */
const ADMIN_READ_RESOURCES = ['serviceaccounts/token'];
/** Resources whose reading needs `edit`, as Kubernetes' `view` role may not read Secrets. */
const EDIT_READ_RESOURCES = ['secrets'];

/** Resources of a namespace only cluster-admins may change: a namespace's admin must not raise its own quota. */
const CLUSTER_ADMIN_WRITTEN_RESOURCES = ['resourcequotas', 'limitranges'];

/** Whether only a cluster-admin may make this call, whatever role the caller holds in the namespace. */
export function clusterAdminOnly(verb: ApiVerb, resource: string): boolean {
  return !READ_VERBS.includes(verb) && CLUSTER_ADMIN_WRITTEN_RESOURCES.includes(resource);
}

/**
 * The role a verb on a resource of a namespace needs: reads need `view` (Secrets `edit`),
 * writes `edit`, writes of role bindings, service-account tokens and the namespace itself
 * `admin`, and so does reading service-account tokens (their names revoke them).
 */
export function roleNeeded(verb: ApiVerb, resource: string): Role {
  if (ADMIN_READ_RESOURCES.includes(resource)) return 'admin';
  if (READ_VERBS.includes(verb)) return EDIT_READ_RESOURCES.includes(resource) ? 'edit' : 'view';
  return ADMIN_WRITTEN_RESOURCES.includes(resource) ? 'admin' : 'edit';
}

// ---------------------------------------------------------------- registry access

export type RegistryAction = 'pull' | 'push' | 'delete' | '*';

/** The registry actions each role grants on the repositories of its namespace (`*`: all of them). */
export const REGISTRY_ACTIONS_OF_ROLE: Record<Role, readonly RegistryAction[]> = {
  'system:image-puller': ['pull'],
  view: ['pull'],
  edit: ['pull', 'push'],
  admin: ['pull', 'push', 'delete', '*'],
};

/** Platform services that get registry tokens over NATS, with the most each may hold. */
export const SYSTEM_REGISTRY_ACTIONS = {
  'system:build-service': ['pull', 'push'],
  'system:deploy-service': ['pull'],
} as const satisfies Record<string, readonly RegistryAction[]>;
export type SystemSubject = keyof typeof SYSTEM_REGISTRY_ACTIONS;

/** One entry of a token's `access` claim, or one parsed `scope`. */
export interface AccessEntry {
  type: 'repository' | 'registry';
  /** `ns/name` for a repository; `catalog` for the registry. */
  name: string;
  actions: string[];
}

export interface RegistryTokenClaims {
  iss: typeof TOKEN_ISSUER;
  /** A user's name, `system:serviceaccount:<ns>:<name>`, `system:<service>` or `system:anonymous`. */
  sub: string;
  aud: typeof REGISTRY_SERVICE;
  iat: number;
  nbf: number;
  exp: number;
  jti: string;
  access: AccessEntry[];
}

const SCOPE_TYPES = ['repository', 'registry'] as const;
/** A repository name as the distribution spec writes it: path components of lower-case alphanumerics and separators. */
const REPOSITORY_NAME = /^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$/;

/**
 * `repository:ns/name:pull,push` (Docker's scope grammar; a `(class)` after the type is
 * dropped) as an access entry; undefined for anything else. Unknown actions are kept:
 * granting decides what they are worth.
 */
export function parseScope(scope: string): AccessEntry | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last === first) return undefined;
  const type = scope.slice(0, first).replace(/\(.*\)$/, '');
  const name = scope.slice(first + 1, last);
  const actions = [...new Set(scope.slice(last + 1).split(',').filter(Boolean))];
  if (!(SCOPE_TYPES as readonly string[]).includes(type) || !name || !actions.length) return undefined;
  if (type === 'repository' && !REPOSITORY_NAME.test(name)) return undefined;
  return { type: type as AccessEntry['type'], name, actions };
}

/** Several `scope=` values, each possibly several scopes separated by spaces (OAuth2 style); the unparseable are dropped. */
export function parseScopes(scopes: readonly string[]): AccessEntry[] {
  return scopes.flatMap((value) => value.split(' ').filter(Boolean)).flatMap((scope) => parseScope(scope) ?? []);
}

export function formatScope(entry: AccessEntry): string {
  return `${entry.type}:${entry.name}:${entry.actions.join(',')}`;
}

/** The namespace a repository belongs to: its first path component, when that is a namespace name. */
export function namespaceOfRepository(repository: string): string | undefined {
  const namespace = repository.split('/')[0];
  return dns1123Label.safeParse(namespace).success && repository.includes('/') ? namespace : undefined;
}

/**
 * A repository entry named `*` covers every repository, and one named `<namespace>/*`
 * (namespaceRepositories) every repository of that namespace. Only the gateway puts them in a
 * token (a user's scope cannot even name them), for pushes: the engine can then mount a layer
 * it pushed to another repository instead of uploading it again.
 */
export const ANY_REPOSITORY = '*';

export function namespaceRepositories(namespace: string): string {
  return `${namespace}/*`;
}

/** Whether a token's access claim lets its holder do `action` on `name` (`*` grants every action). */
export function accessAllows(access: readonly AccessEntry[], type: AccessEntry['type'], name: string, action: string): boolean {
  return access.some((entry) => entry.type === type && (entry.name === name || (type === 'repository' && coversRepository(entry.name, name))) && (entry.actions.includes(action) || entry.actions.includes('*')));
}

/** Whether an access entry's name covers repository `name`: `*`, or `<namespace>/*` for a repository of that namespace. */
function coversRepository(entryName: string, name: string): boolean {
  return entryName === ANY_REPOSITORY || (entryName.endsWith('/*') && name.startsWith(entryName.slice(0, -1)));
}

export const REGISTRY_ACTIONS: readonly RegistryAction[] = ['pull', 'push', 'delete', '*'];

/** The known actions of `asked` that `allowed` grants; `*` in `allowed` grants every one. */
export function grantedActions(asked: readonly string[], allowed: readonly string[]): string[] {
  const known = asked.filter((action) => (REGISTRY_ACTIONS as readonly string[]).includes(action));
  return allowed.includes('*') ? known : known.filter((action) => allowed.includes(action));
}

/**
 * `<registry>/<ns>/<name>[:tag][@digest]` as `ns/name` when it names an image of the
 * platform registry at `registryHost`; undefined for another registry's image.
 */
export function platformRepositoryOf(imageReference: string, registryHost: string): string | undefined {
  if (!imageReference.startsWith(`${registryHost}/`)) return undefined;
  const path = imageReference.slice(registryHost.length + 1).split('@')[0];
  const lastSlash = path.lastIndexOf('/');
  const colon = path.indexOf(':', lastSlash + 1);
  const repository = colon === -1 ? path : path.slice(0, colon);
  return REPOSITORY_NAME.test(repository) ? repository : undefined;
}

/**
 * The service account whose grants say which images the builds of its namespace may use from
 * other namespaces (OpenShift's: `system:image-puller` for `system:serviceaccount:<ns>:builder`
 * in the namespace that shares them). It need not exist: a role binding may name it anyway.
 */
export const BUILDER_SERVICE_ACCOUNT = 'builder';

/** `auth.registryToken`: a token for a platform service, over the trusted internal bus. */
export interface RegistryTokenRequest {
  subject: SystemSubject;
  access: AccessEntry[];
  /** Default 300, at most 3600. */
  ttlSeconds?: number;
  /**
   * For the builds of this namespace: the access is narrowed to what they may pull, its own
   * repositories, those of namespaces that allow anonymous pulls, and those of namespaces that
   * bind a role to its BUILDER_SERVICE_ACCOUNT.
   */
  forBuildsOf?: string;
}
export interface RegistryTokenResponse {
  token: string;
  /** ISO time. */
  expiresAt: string;
  /** What the token grants (what was asked for, narrowed). */
  access: AccessEntry[];
}

export const REGISTRY_TOKEN_DEFAULT_TTL_SECONDS = 300;
export const REGISTRY_TOKEN_MAX_TTL_SECONDS = 3600;

export const accessEntrySchema = z.object({
  type: z.enum(SCOPE_TYPES),
  name: z.string().min(1).max(255),
  actions: z.array(z.string().min(1).max(16)).min(1).max(8),
});

export const registryTokenRequestSchema = z.object({
  subject: z.enum(Object.keys(SYSTEM_REGISTRY_ACTIONS) as [SystemSubject, ...SystemSubject[]]),
  access: z.array(accessEntrySchema).max(32),
  ttlSeconds: z.number().int().min(1).max(REGISTRY_TOKEN_MAX_TTL_SECONDS).optional(),
  forBuildsOf: dns1123Label.optional(),
});

/** One public key of `auth.keys`, as RFC 7517 writes it. */
export interface EcPublicJwk {
  kty: 'EC';
  crv: 'P-256';
  x: string;
  y: string;
  kid: string;
  alg: 'ES256';
  use: 'sig';
}
export interface Jwks {
  keys: EcPublicJwk[];
}

// ---------------------------------------------------------------- identities

export const serviceAccountSubject = (namespace: string, name: string) => `system:serviceaccount:${namespace}:${name}`;

export interface UserSpec {
  /** May do everything, everywhere. */
  clusterAdmin: boolean;
}
export type User = Resource<'User', UserSpec, Record<string, never>>;

const password = z.string({ error: 'must be a string' }).min(8, 'must be at least 8 characters').max(1024, 'must be at most 1024 characters');

export const userInput = z.object({
  apiVersion: z.literal('v1').optional(),
  kind: z.literal('User').optional(),
  metadata: objectMetaInput.pick({ name: true, labels: true, annotations: true }),
  password,
  spec: z.object({ clusterAdmin: z.boolean().default(false) }).strict().default({ clusterAdmin: false }),
}).strict();

export type ServiceAccount = Resource<'ServiceAccount', Record<string, never>, Record<string, never>>;

export const serviceAccountInput = z.object({
  apiVersion: z.literal('v1').optional(),
  kind: z.literal('ServiceAccount').optional(),
  metadata: objectMetaInput,
});

export const roleBindingSubject = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('User'), name: dns1123Label }),
  z.object({ kind: z.literal('ServiceAccount'), name: dns1123Label, namespace: dns1123Label.optional() }),
]);
export type RoleBindingSubject = z.infer<typeof roleBindingSubject>;

export interface RoleBindingSpec {
  roleRef: { name: Role };
  subjects: RoleBindingSubject[];
}

/** Kubernetes' shape: `roleRef` and `subjects` beside `metadata`, no spec or status. */
export interface RoleBinding {
  apiVersion: 'v1';
  kind: 'RoleBinding';
  metadata: Resource<'RoleBinding', unknown, unknown>['metadata'];
  roleRef: RoleBindingSpec['roleRef'];
  subjects: RoleBindingSubject[];
}

export const roleBindingInput = z.object({
  apiVersion: z.literal('v1').optional(),
  kind: z.literal('RoleBinding').optional(),
  metadata: objectMetaInput,
  roleRef: z.object({ name: z.enum(ROLES) }),
  subjects: z.array(roleBindingSubject).min(1, 'must name at least one subject').max(100),
}).strict();

/** `POST /api/v1/tokens` and `.../serviceaccounts/{name}/tokens`; the gateway's maximum lifetime (a setting) bounds it further. */
export const tokenRequest = z
  .object({ expiresInSeconds: z.number().int().min(60).max(366 * 24 * 3600).optional() })
  .strict()
  .default({});

/** A token is listed and revoked by `sha256~<hex sha256 of the token>`, as OpenShift names its OAuth access tokens: the name opens nothing. */
export const TOKEN_NAME_PREFIX = 'sha256~';

export interface TokenResponse {
  apiVersion: 'v1';
  kind: 'Token';
  /** What `GET /api/v1/tokens` lists it as and `DELETE /api/v1/tokens/{name}` revokes. */
  metadata: { name: string };
  subject: string;
  /** Shown once; only its hash is kept. */
  token: string;
  expiresAt: string;
}

/** A token as listed: what it is, never the token itself. */
export interface ApiTokenInfo {
  apiVersion: 'v1';
  kind: 'APIToken';
  metadata: { name: string; creationTimestamp: string };
  /** `subject`: whom it acts as (a user's name, or `system:serviceaccount:<ns>:<name>`). */
  spec: { subject: string; expirationTimestamp: string };
  /** Updated at most every few minutes. */
  status: { lastUsedTimestamp?: string };
}

/** `PUT /api/v1/users/{name}/password`: a user changing their own gives the current password; a cluster-admin setting another's does not. */
export const passwordChangeInput = z
  .object({
    apiVersion: z.literal('v1').optional(),
    kind: z.literal('PasswordChange').optional(),
    currentPassword: z.string({ error: 'must be a string' }).max(1024).optional(),
    newPassword: password,
  })
  .strict();
