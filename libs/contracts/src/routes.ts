import { z } from 'zod';
import { objectMetaInput, type Condition, type Resource } from './meta';

const hostName = z
  .string()
  .max(253)
  .regex(/^(?=.{1,253}$)([a-z0-9]([-a-z0-9]*[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'must be a DNS-1123 subdomain');

const serviceName = z.string().regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/).max(63);
/** A backend's share of the traffic, relative to the route's other backends; 0 takes none. */
const weight = z.number().int().min(0).max(256);

export const routeTargetSchema = z.object({ kind: z.literal('Service').default('Service'), name: serviceName, weight: weight.default(100) });
export type RouteTargetReference = z.infer<typeof routeTargetSchema>;

export const TLS_TERMINATIONS = ['edge', 'passthrough'] as const;
export const INSECURE_EDGE_POLICIES = ['None', 'Allow', 'Redirect'] as const;

export const routeTlsSchema = z.object({
  /** `edge`: the router terminates TLS with `certificate`/`key` (or its default one); `passthrough`: TLS goes to the pods untouched, chosen by SNI. */
  termination: z.enum(TLS_TERMINATIONS),
  /** PEM; edge only. */
  certificate: z.string().max(64 * 1024).optional(),
  /** PEM; edge only, with `certificate`. */
  key: z.string().max(64 * 1024).optional(),
  /** What plain HTTP to the host gets: `None` (404, default), `Allow` (served), `Redirect` (302 to https). */
  insecureEdgeTerminationPolicy: z.enum(INSECURE_EDGE_POLICIES).default('None'),
});
export type RouteTls = z.infer<typeof routeTlsSchema>;

export const WILDCARD_POLICIES = ['None', 'Subdomain'] as const;

export const routeSpecSchema = z.object({
  /** Empty: the router assigns `<name>-<namespace>.<ROUTER_DOMAIN>`. */
  host: hostName.optional(),
  path: z.string().startsWith('/', 'must start with /').max(1024).default('/'),
  /** `Subdomain`: the route also serves every host of `host`'s parent domain (`*.example.com` for `www.example.com`). */
  wildcardPolicy: z.enum(WILDCARD_POLICIES).default('None'),
  to: routeTargetSchema,
  /** Up to three more Services sharing the traffic by weight (A/B, canary). */
  alternateBackends: z.array(routeTargetSchema).max(3).default([]),
  port: z.object({ targetPort: z.union([z.number().int().min(1).max(65535), z.string().max(63)]) }).optional(),
  tls: routeTlsSchema.optional(),
});
export type RouteSpec = z.infer<typeof routeSpecSchema>;

/** The load-balancing algorithms a route may ask for (`ROUTE_ANNOTATIONS.balance`). */
export const BALANCE_ALGORITHMS = ['roundrobin', 'leastconn', 'random', 'source'] as const;
export type BalanceAlgorithm = (typeof BALANCE_ALGORITHMS)[number];

/**
 * Per-route behaviour set by annotation, with OpenShift's names (see `parseRouteSettings`
 * in the router for the values each takes).
 */
export const ROUTE_ANNOTATIONS = {
  /** `roundrobin` (default), `leastconn`, `random`, `source` */
  balance: 'haproxy.router.openshift.io/balance',
  /** `"true"`: no sticky-session cookie */
  disableCookies: 'haproxy.router.openshift.io/disable_cookies',
  /** the sticky-session cookie's name (default: a hash of the route's namespace and name) */
  cookieName: 'router.openshift.io/cookie_name',
  /** upstream timeout, e.g. `5s`, `500ms`, `2m` (default 30s) */
  timeout: 'haproxy.router.openshift.io/timeout',
  /** `"true"` turns on the limits below, per client IP */
  rateLimitConnections: 'haproxy.router.openshift.io/rate-limit-connections',
  /** concurrent connections (requests in flight) a client IP may have */
  concurrentTcp: 'haproxy.router.openshift.io/rate-limit-connections.concurrent-tcp',
  /** new connections a client IP may open per 3 s */
  rateTcp: 'haproxy.router.openshift.io/rate-limit-connections.rate-tcp',
  /** HTTP requests a client IP may send per 10 s */
  rateHttp: 'haproxy.router.openshift.io/rate-limit-connections.rate-http',
  /** space-separated IPs and CIDRs allowed to reach the route; others get 403 */
  ipAllowlist: 'haproxy.router.openshift.io/ip_whitelist',
  /** the Strict-Transport-Security value sent on TLS responses, e.g. `max-age=31536000;includeSubDomains;preload` */
  hsts: 'haproxy.router.openshift.io/hsts_header',
} as const;

export const routeInput = z.object({
  apiVersion: z.literal('v1').optional(),
  kind: z.literal('Route').optional(),
  metadata: objectMetaInput,
  spec: routeSpecSchema,
});
export type RouteInput = z.infer<typeof routeInput>;
/** A route as a client sends it, before defaults (weights, path, policies) are applied. */
export type RouteBody = z.input<typeof routeInput>;

export interface RouteIngress {
  host: string;
  routerName: string;
  conditions: Condition[];
}
export interface RouteStatus {
  ingress: RouteIngress[];
}
export type Route = Resource<'Route', RouteSpec & { host: string }, RouteStatus>;

export const DEFAULT_ROUTER_DOMAIN = 'apps.localhost';

/**
 * The domain a `Subdomain` wildcard route serves (`*.` + this): its host without the first
 * label (`example.com` for `www.example.com`). A request host matches a wildcard when its
 * own parent domain is the wildcard's, as in OpenShift (one label deep).
 */
export function parentDomain(host: string): string {
  const dot = host.indexOf('.');
  return dot < 0 ? '' : host.slice(dot + 1);
}

export function defaultRouteHost(name: string, namespace: string, domain = DEFAULT_ROUTER_DOMAIN): string {
  return `${name}-${namespace}.${domain}`;
}

/** `router.traffic`: the addresses (of Endpoints entries, as the routers dial them) asked about. */
export const trafficRequest = z.object({
  addresses: z.array(z.object({ ip: z.string().min(1).max(64), port: z.number().int().min(1).max(65_535) })).max(1_000),
});
export type TrafficAddress = z.infer<typeof trafficRequest>['addresses'][number];

/**
 * One router replica's answer to `router.traffic`: for each address asked about, whether its
 * table still sends requests there (`routed`) and how many it has in flight there now. A
 * replica whose table is not loaded yet (`loaded: false`) cannot say what it will route.
 */
export interface RouterTraffic {
  replica: string;
  loaded: boolean;
  addresses: (TrafficAddress & { routed: boolean; inFlight: number })[];
}
