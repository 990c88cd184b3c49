import type { Route } from '@paas/contracts/routes';
import { endpointsKey, RouteTable, type Backend, type EndpointsEntry } from './route-table';

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
  private readonly routes = new Map<string, Route>();
  private readonly endpoints = new Map<string, HeldEndpoints>();
  private current = RouteTable.EMPTY;
  private readonly listeners: (() => void)[] = [];
  /** The table came from a snapshot or from the control plane (readiness). */
  loaded = false;

  constructor(private readonly now: () => number = Date.now) {}

  get table(): RouteTable {
    return this.current;
  }

  /** Called after every change (the snapshot writer debounces it). */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  restore(snapshot: RouterSnapshot): void {
    for (const route of snapshot.routes) this.routes.set(routeKey(route), route);
    for (const entry of snapshot.endpoints) this.endpoints.set(endpointsKey(entry.namespace, entry.name), { ...entry, appliedAt: 0 });
    this.loaded = true;
    this.rebuild(false);
  }

  snapshot(): RouterSnapshot {
    return {
      version: 1,
      savedAt: new Date(this.now()).toISOString(),
      routes: [...this.routes.values()],
      endpoints: [...this.endpoints.values()].map(({ namespace, name, generation, backends }) => ({ namespace, name, generation, backends })),
    };
  }

  /** All routes as stored, e.g. after (re)loading them from the database. */
  replaceRoutes(routes: Route[]): void {
    this.routes.clear();
    for (const route of routes) this.routes.set(routeKey(route), route);
    this.loaded = true;
    this.rebuild();
  }

  upsertRoute(route: Route): void {
    this.routes.set(routeKey(route), route);
    this.rebuild();
  }

  removeRoute(namespace: string, name: string): void {
    if (this.routes.delete(`${namespace}/${name}`)) this.rebuild();
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

  endpointsGeneration(namespace: string, name: string): number | undefined {
    return this.endpoints.get(endpointsKey(namespace, name))?.generation;
  }

  private rebuild(notify = true): void {
    this.current = RouteTable.build(this.routes.values(), this.endpoints);
    if (notify) for (const listener of this.listeners) listener();
  }
}

function routeKey(route: Route): string {
  return `${route.metadata.namespace}/${route.metadata.name}`;
}

function sameBackends(a: readonly Backend[], b: readonly Backend[]): boolean {
  return a.length === b.length && a.every((backend, i) => backend.ip === b[i].ip && backend.port === b[i].port);
}
