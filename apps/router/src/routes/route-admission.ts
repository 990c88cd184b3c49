import type { Condition } from '@paas/contracts/meta';
import type { Route, RouteStatus } from '@paas/contracts/routes';
import { olderFirst } from '../table/route-table';

export const ROUTER_NAME = 'default';

export type Admission = { admitted: true } | { admitted: false; owner: { namespace: string; name: string } };

/**
 * Which routes of one host are admitted. First come wins: the oldest route to claim a
 * host+path keeps it, and a route of ANOTHER namespace asking for the same host+path is
 * rejected (`HostAlreadyClaimed`). Routes of the same namespace may share a host+path;
 * the table then serves the oldest. Deterministic, so every replica agrees.
 */
export function decideAdmission(routesOfHost: readonly Route[]): Map<Route, Admission> {
  const claims = new Map<string, Route>();
  const decisions = new Map<Route, Admission>();
  for (const route of [...routesOfHost].sort(olderFirst)) {
    const owner = claims.get(route.spec.path);
    if (owner && owner.metadata.namespace !== route.metadata.namespace) {
      decisions.set(route, { admitted: false, owner: { namespace: owner.metadata.namespace, name: owner.metadata.name } });
      continue;
    }
    if (!owner) claims.set(route.spec.path, route);
    decisions.set(route, { admitted: true });
  }
  return decisions;
}

/** The status a route gets for an admission; the transition time moves only when the verdict does. */
export function admissionStatus(route: Route, admission: Admission, now: string): RouteStatus {
  const previous = route.status?.ingress?.[0]?.conditions?.find((c) => c.type === 'Admitted');
  const condition: Omit<Condition, 'lastTransitionTime'> = admission.admitted
    ? { type: 'Admitted', status: 'True' }
    : {
        type: 'Admitted',
        status: 'False',
        reason: 'HostAlreadyClaimed',
        message: `route ${admission.owner.name} in namespace ${admission.owner.namespace} already exposes ${route.spec.host}${route.spec.path === '/' ? '' : route.spec.path} and is older`,
      };
  const lastTransitionTime = previous && previous.status === condition.status ? previous.lastTransitionTime : now;
  return { ingress: [{ host: route.spec.host, routerName: ROUTER_NAME, conditions: [{ ...condition, lastTransitionTime }] }] };
}
