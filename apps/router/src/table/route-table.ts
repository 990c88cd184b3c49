import { parentDomain, type Route, type RouteTls } from '@paas/contracts/routes';
import { routeSettingsCache, type RouteSettings } from '../routes/route-settings';
import { Balancer, Endpoint, type WeightedEndpoint } from './balancer';
import { ClientLimits, type RateLimits } from './client-limits';

/** A ready address of a Service, as the router dials it. */
export interface Backend {
  ip: string;
  port: number;
}

/** The ready endpoints of one Service, with the generation they came with. */
export interface EndpointsEntry {
  namespace: string;
  name: string;
  generation: number;
  backends: readonly Backend[];
}

export type SettingsOf = (route: Route) => RouteSettings;

/**
 * What outlives a table swap: endpoints (requests in flight, ejections), each route's
 * round-robin cursor and its clients' rate counts. Tables take their objects from here;
 * `retain` drops what the newest table no longer uses.
 */
export class LiveState {
  private endpoints = new Map<string, Endpoint>();
  private cursors = new Map<string, { next: number }>();
  private limits = new Map<string, { key: string; limits: ClientLimits }>();
  private used = { endpoints: new Set<string>(), routes: new Set<string>() };

  endpoint(backend: Backend): Endpoint {
    const key = `${backend.ip}|${backend.port}`;
    this.used.endpoints.add(key);
    let endpoint = this.endpoints.get(key);
    if (!endpoint) this.endpoints.set(key, (endpoint = new Endpoint(backend.ip, backend.port)));
    return endpoint;
  }

  cursor(routeKey: string): { next: number } {
    this.used.routes.add(routeKey);
    let cursor = this.cursors.get(routeKey);
    if (!cursor) this.cursors.set(routeKey, (cursor = { next: 0 }));
    return cursor;
  }

  /** The route's counts, kept while its limits stay the same. */
  clientLimits(routeKey: string, limits: RateLimits): ClientLimits {
    this.used.routes.add(routeKey);
    const identity = JSON.stringify(limits);
    const held = this.limits.get(routeKey);
    if (held?.key === identity) return held.limits;
    const fresh = new ClientLimits(limits);
    this.limits.set(routeKey, { key: identity, limits: fresh });
    return fresh;
  }

  /** Requests in flight to `backend`, whether or not a table still sends it more. */
  inFlight(backend: Backend): number {
    return this.endpoints.get(`${backend.ip}|${backend.port}`)?.active ?? 0;
  }

  /** Forgets what the table just built did not ask for, but an endpoint still answering requests (a pod draining). */
  retain(): void {
    for (const [key, endpoint] of this.endpoints) if (!this.used.endpoints.has(key) && endpoint.active === 0) this.endpoints.delete(key);
    for (const key of this.cursors.keys()) if (!this.used.routes.has(key)) this.cursors.delete(key);
    for (const key of this.limits.keys()) if (!this.used.routes.has(key)) this.limits.delete(key);
    this.used = { endpoints: new Set(), routes: new Set() };
  }
}

/**
 * One admitted Route as the data plane uses it: its path prefix, its settings, and a
 * balancer over the ready endpoints of its Services (`to` and `alternateBackends`, each
 * endpoint weighted by its Service's weight shared among the Service's endpoints).
 */
export class RouteTarget {
  readonly key: string;

  constructor(
    readonly namespace: string,
    readonly name: string,
    readonly path: string,
    readonly service: string,
    readonly balancer: Balancer,
    readonly settings: RouteSettings,
    readonly tls: RouteTls | undefined,
    readonly limits: ClientLimits | undefined,
  ) {
    this.key = `${namespace}/${name}`;
  }

  /** Prefix match on whole path segments: `/api` serves `/api` and `/api/x`, not `/apix`. */
  matches(pathname: string): boolean {
    if (this.path === '/') return true;
    if (!pathname.startsWith(this.path)) return false;
    return pathname.length === this.path.length || this.path.endsWith('/') || pathname.charCodeAt(this.path.length) === SLASH;
  }
}

const SLASH = 47;

export function isAdmitted(route: Route): boolean {
  return route.status?.ingress?.[0]?.conditions?.some((c) => c.type === 'Admitted' && c.status === 'True') ?? false;
}

export function endpointsKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** What the TLS front asks of the table for one SNI name. */
export interface TlsRoute {
  termination: RouteTls['termination'];
  certificate?: string;
  key?: string;
  namespace: string;
  name: string;
  pickBackend(clientIp: string): { ip: string; port: number } | undefined;
}

/**
 * The immutable table the data plane reads: host → admitted routes, longest path first,
 * and parent domain → the routes of `Subdomain` wildcard policy. Built whole from routes and
 * endpoints and swapped by reference, so a request never sees a half-applied change.
 * A lookup is one or two map accesses plus a scan of that host's paths, whatever the size
 * of the table.
 */
export class RouteTable {
  static readonly EMPTY = new RouteTable(new Map(), new Map());

  private constructor(
    private readonly byHost: ReadonlyMap<string, readonly RouteTarget[]>,
    private readonly byParentDomain: ReadonlyMap<string, readonly RouteTarget[]>,
  ) {}

  static build(routes: Iterable<Route>, endpoints: ReadonlyMap<string, EndpointsEntry>, live = new LiveState(), settingsOf: SettingsOf = routeSettingsCache()): RouteTable {
    const exact = new Map<string, Route[]>();
    const wildcard = new Map<string, Route[]>();
    for (const route of routes) {
      if (!isAdmitted(route)) continue;
      const host = route.spec.host;
      add(exact, host, route);
      if (route.spec.wildcardPolicy === 'Subdomain') add(wildcard, parentDomain(host), route);
    }
    const targetOf = (route: Route) => buildTarget(route, endpoints, live, settingsOf);
    const table = new RouteTable(byLongestPath(exact, targetOf), byLongestPath(wildcard, targetOf));
    live.retain();
    return table;
  }

  /** Admitted routes in the table (every one is under its host, wildcard or not). */
  get routeCount(): number {
    let count = 0;
    for (const targets of this.byHost.values()) count += targets.length;
    return count;
  }

  /** Endpoints behind those routes, counted once per route that sends to them. */
  get endpointCount(): number {
    let count = 0;
    for (const targets of this.byHost.values()) for (const target of targets) count += target.balancer.endpoints.length;
    return count;
  }

  /** Whether a route of this table sends requests to `backend` (a weight above 0). */
  routesTo(backend: Backend): boolean {
    for (const targets of this.byHost.values()) {
      for (const target of targets) if (target.balancer.endpoints.some(({ endpoint }) => endpoint.ip === backend.ip && endpoint.port === backend.port)) return true;
    }
    return false;
  }

  /** The route serving `host` (no port, lower case) and `pathname` (no query), if any. */
  match(host: string, pathname: string): RouteTarget | undefined {
    return matchPath(this.byHost.get(host), pathname) ?? matchPath(this.byParentDomain.get(parentDomain(host)), pathname);
  }

  /** The route a TLS connection for `sni` goes to: the host's route of the shortest path decides its TLS. */
  tlsRoute(sni: string): TlsRoute | undefined {
    const host = sni.toLowerCase();
    const targets = this.byHost.get(host) ?? this.byParentDomain.get(parentDomain(host));
    const target = targets?.[targets.length - 1];
    if (!target?.tls) return undefined;
    const { termination, certificate, key } = target.tls;
    return {
      termination,
      certificate,
      key,
      namespace: target.namespace,
      name: target.name,
      pickBackend: (clientIp) => {
        const endpoint = target.balancer.pick(clientIp, Date.now());
        return endpoint && { ip: endpoint.ip, port: endpoint.port };
      },
    };
  }

  hasHost(host: string): boolean {
    return this.byHost.has(host);
  }

  get hostCount(): number {
    return this.byHost.size;
  }
}

function buildTarget(route: Route, endpoints: ReadonlyMap<string, EndpointsEntry>, live: LiveState, settingsOf: SettingsOf): RouteTarget {
  const { namespace, name } = route.metadata;
  const key = `${namespace}/${name}`;
  const settings = settingsOf(route);
  const weighted: WeightedEndpoint[] = [];
  for (const backend of [route.spec.to, ...(route.spec.alternateBackends ?? [])]) {
    const ready = endpoints.get(endpointsKey(namespace, backend.name))?.backends ?? [];
    const weight = backend.weight ?? 100;
    // The Service's weight is shared among its endpoints, as OpenShift's router does.
    for (const address of ready) weighted.push({ endpoint: live.endpoint(address), weight: (weight * 1000) / ready.length });
  }
  const balancer = new Balancer(settings.balance, weighted.map((w) => ({ ...w, weight: Math.round(w.weight) })), live.cursor(key));
  const limits = settings.rateLimit ? live.clientLimits(key, settings.rateLimit) : undefined;
  return new RouteTarget(namespace, name, route.spec.path, route.spec.to.name, balancer, settings, route.spec.tls, limits);
}

function byLongestPath(byKey: Map<string, Route[]>, targetOf: (route: Route) => RouteTarget): Map<string, readonly RouteTarget[]> {
  const table = new Map<string, readonly RouteTarget[]>();
  for (const [key, list] of byKey) {
    // Longest path first; on an equal path the oldest route wins, as admission decided.
    list.sort((a, b) => b.spec.path.length - a.spec.path.length || olderFirst(a, b));
    table.set(key, list.map(targetOf));
  }
  return table;
}

function matchPath(targets: readonly RouteTarget[] | undefined, pathname: string): RouteTarget | undefined {
  if (!targets) return undefined;
  for (let i = 0; i < targets.length; i++) if (targets[i].matches(pathname)) return targets[i];
  return undefined;
}

function add(map: Map<string, Route[]>, key: string, route: Route): void {
  const list = map.get(key);
  if (list) list.push(route);
  else map.set(key, [route]);
}

/** Oldest first by creation, then namespace and name: the order admission uses too. */
export function olderFirst(a: Route, b: Route): number {
  return (
    a.metadata.creationTimestamp.localeCompare(b.metadata.creationTimestamp) ||
    a.metadata.namespace.localeCompare(b.metadata.namespace) ||
    a.metadata.name.localeCompare(b.metadata.name)
  );
}
