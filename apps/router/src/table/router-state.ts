import type { Route, RouterTraffic } from '@paas/contracts/routes';
import { routeSettingsCache } from '../routes/route-settings';
import { endpointsKey, LiveState, RouteTable, type Backend, type EndpointsEntry, type SettingsOf } from './route-table';

/** What the router persists and reloads: enough to serve without the control plane. */
export interface RouterSnapshot {
  version: 1;
  savedAt: string;
  routes: Route[];
  endpoints: EndpointsEntry[];
}

export interface EndpointsUpdate {
  namespace: string;
  name: string;
  generation: number;
  backends: readonly Backend[];
}

interface HeldRoute {
  route: Route;
  /** When this replica applied it (ms since epoch), to tell it apart from a list taken earlier. */
  appliedAt: number;
}

interface HeldEndpoints extends EndpointsEntry {
  /** When this replica applied it (ms since epoch), to tell it apart from a list taken earlier. */
  appliedAt: number;
}

/**
 * The router's knowledge of routes and endpoints, and the table built from it. Every
 * change builds a new immutable `RouteTable` and replaces the reference, so the data plane
 * always reads a consistent table. Whatever happens to NATS or Mongo, the last table stays.
 */
export class RouterState {
  private readonly routes = new Map<string, HeldRoute>();
  /** When routes were removed (ms since epoch), until a list taken after that has been applied. */
  private readonly removedRoutes = new Map<string, number>();
  private readonly endpoints = new Map<string, HeldEndpoints>();
  private current = RouteTable.EMPTY;
  private readonly listeners: (() => void)[] = [];
  /** What outlives a table swap (endpoint load and health, cursors, rate counts). */
  private readonly live = new LiveState();
  /** The table came from a snapshot or from the control plane (readiness). */
  loaded = false;

  constructor(
    private readonly now: () => number = Date.now,
    private readonly settingsOf: SettingsOf = routeSettingsCache(),
  ) {}

  get table(): RouteTable {
    return this.current;
  }

  /** Called after every change (the snapshot writer debounces it). */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  restore(snapshot: RouterSnapshot): void {
    for (const route of snapshot.routes) this.routes.set(routeKey(route), { route, appliedAt: 0 });
    for (const entry of snapshot.endpoints) this.endpoints.set(endpointsKey(entry.namespace, entry.name), { ...entry, appliedAt: 0 });
    this.loaded = true;
    this.rebuild(false);
  }

  snapshot(): RouterSnapshot {
    return {
      version: 1,
      savedAt: new Date(this.now()).toISOString(),
      routes: [...this.routes.values()].map(({ route }) => route),
      endpoints: [...this.endpoints.values()].map(({ namespace, name, generation, backends }) => ({ namespace, name, generation, backends })),
    };
  }

  /**
   * Heals from all routes as stored, listed from the database at `listedAt`: the list wins,
   * except for a route created, changed or removed here after the list was taken (an event
   * or this replica's own write can overtake a list reply), which stays as it is.
   */
  resyncRoutes(list: Route[], listedAt: number): void {
    const listed = new Set<string>();
    for (const route of list) {
      const key = routeKey(route);
      listed.add(key);
      const changedSince = (this.routes.get(key)?.appliedAt ?? -1) >= listedAt || (this.removedRoutes.get(key) ?? -1) >= listedAt;
      if (!changedSince) this.routes.set(key, { route, appliedAt: this.now() });
    }
    for (const [key, held] of this.routes) if (!listed.has(key) && held.appliedAt < listedAt) this.routes.delete(key);
    for (const [key, removedAt] of this.removedRoutes) if (removedAt < listedAt) this.removedRoutes.delete(key);
    this.loaded = true;
    this.rebuild();
  }

  /** Applies a route unless a newer version of the same route is held (two reloads can finish out of order). */
  upsertRoute(route: Route): void {
    const key = routeKey(route);
    const held = this.routes.get(key)?.route;
    if (held?.metadata.uid === route.metadata.uid && Number(held.metadata.resourceVersion) > Number(route.metadata.resourceVersion)) return;
    this.routes.set(key, { route, appliedAt: this.now() });
    this.removedRoutes.delete(key);
    this.rebuild();
  }

  removeRoute(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    this.removedRoutes.set(key, this.now());
    if (this.routes.delete(key)) this.rebuild();
  }

  /** Applies an update only if it is newer than what is held; answers whether it did. */
  applyEndpoints(update: EndpointsUpdate): boolean {
    const key = endpointsKey(update.namespace, update.name);
    const held = this.endpoints.get(key);
    if (held && held.generation >= update.generation) return false;
    this.endpoints.set(key, { ...update, appliedAt: this.now() });
    this.rebuild();
    return true;
  }

  /**
   * Heals from a full list taken at `listedAt`: newer or equal generations replace what is
   * held; an entry missing from the list is dropped unless it was applied after the list was
   * taken (an event can overtake a list reply).
   */
  resyncEndpoints(list: EndpointsUpdate[], listedAt: number): void {
    const listed = new Set<string>();
    let changed = false;
    for (const update of list) {
      const key = endpointsKey(update.namespace, update.name);
      listed.add(key);
      const held = this.endpoints.get(key);
      if (held && (held.generation > update.generation || (held.generation === update.generation && sameBackends(held.backends, update.backends)))) continue;
      this.endpoints.set(key, { ...update, appliedAt: this.now() });
      changed = true;
    }
    for (const [key, held] of this.endpoints) {
      if (!listed.has(key) && held.appliedAt < listedAt) {
        this.endpoints.delete(key);
        changed = true;
      }
    }
    if (changed) this.rebuild();
  }

  /** For each of `addresses`: whether the table sends requests there, and how many are in flight there now. */
  traffic(addresses: readonly Backend[]): RouterTraffic['addresses'] {
    return addresses.map(({ ip, port }) => ({ ip, port, routed: this.current.routesTo({ ip, port }), inFlight: this.live.inFlight({ ip, port }) }));
  }

  endpointsGeneration(namespace: string, name: string): number | undefined {
    return this.endpoints.get(endpointsKey(namespace, name))?.generation;
  }

  private rebuild(notify = true): void {
    this.current = RouteTable.build(
      Array.from(this.routes.values(), ({ route }) => route),
      this.endpoints,
      this.live,
      this.settingsOf,
    );
    if (notify) for (const listener of this.listeners) listener();
  }
}

function routeKey(route: Route): string {
  return `${route.metadata.namespace}/${route.metadata.name}`;
}

function sameBackends(a: readonly Backend[], b: readonly Backend[]): boolean {
  return a.length === b.length && a.every((backend, i) => backend.ip === b[i].ip && backend.port === b[i].port);
}
