import type { Route } from '@paas/contracts/routes';

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

/**
 * One admitted Route as the data plane uses it: its path prefix and the base URLs of its
 * Service's ready endpoints, chosen round-robin. The cursor is the only mutable state; it
 * lives as long as the table that holds it.
 */
export class RouteTarget {
  private cursor = 0;

  constructor(
    readonly namespace: string,
    readonly name: string,
    readonly path: string,
    readonly service: string,
    readonly upstreams: readonly string[],
  ) {}

  /** The next upstream base URL, or undefined when the Service has no ready endpoint. */
  next(): string | undefined {
    const count = this.upstreams.length;
    if (count === 0) return undefined;
    const upstream = this.upstreams[this.cursor % count];
    this.cursor = (this.cursor + 1) % count;
    return upstream;
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

export function upstreamOf(backend: Backend): string {
  return backend.ip.includes(':') ? `http://[${backend.ip}]:${backend.port}` : `http://${backend.ip}:${backend.port}`;
}

/**
 * The immutable table the data plane reads: host → admitted routes, longest path first.
 * Built whole from routes and endpoints and swapped by reference, so a request never sees
 * a half-applied change. Lookups are one map access plus a scan of that host's paths.
 */
export class RouteTable {
  static readonly EMPTY = new RouteTable(new Map());

  private constructor(private readonly byHost: ReadonlyMap<string, readonly RouteTarget[]>) {}

  static build(routes: Iterable<Route>, endpoints: ReadonlyMap<string, EndpointsEntry>): RouteTable {
    const byHost = new Map<string, Route[]>();
    for (const route of routes) {
      if (!isAdmitted(route)) continue;
      const list = byHost.get(route.spec.host);
      if (list) list.push(route);
      else byHost.set(route.spec.host, [route]);
    }
    const table = new Map<string, readonly RouteTarget[]>();
    for (const [host, list] of byHost) {
      // Longest path first; on an equal path the oldest route wins, as admission decided.
      list.sort((a, b) => b.spec.path.length - a.spec.path.length || olderFirst(a, b));
      table.set(
        host,
        list.map((route) => {
          const { namespace, name } = route.metadata;
          const service = route.spec.to.name;
          const backends = endpoints.get(endpointsKey(namespace, service))?.backends ?? [];
          return new RouteTarget(namespace, name, route.spec.path, service, backends.map(upstreamOf));
        }),
      );
    }
    return new RouteTable(table);
  }

  /** The route serving `host` (no port, lower case) and `pathname` (no query), if any. */
  match(host: string, pathname: string): RouteTarget | undefined {
    const targets = this.byHost.get(host);
    if (!targets) return undefined;
    for (let i = 0; i < targets.length; i++) if (targets[i].matches(pathname)) return targets[i];
    return undefined;
  }

  hasHost(host: string): boolean {
    return this.byHost.has(host);
  }

  get hostCount(): number {
    return this.byHost.size;
  }
}

/** Oldest first by creation, then namespace and name: the order admission uses too. */
export function olderFirst(a: Route, b: Route): number {
  return (
    a.metadata.creationTimestamp.localeCompare(b.metadata.creationTimestamp) ||
    a.metadata.namespace.localeCompare(b.metadata.namespace) ||
    a.metadata.name.localeCompare(b.metadata.name)
  );
}
