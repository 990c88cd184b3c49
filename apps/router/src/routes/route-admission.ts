import type { Condition } from '@paas/contracts/meta';
import { parentDomain, type Route, type RouteStatus } from '@paas/contracts/routes';
import { isDeepStrictEqual } from 'node:util';
import { olderFirst } from '../table/route-table';

export const ROUTER_NAME = 'default';

export type Admission = { admitted: true } | { admitted: false; owner: { namespace: string; name: string }; message: string };

/**
 * Which routes are admitted. First come (oldest `creationTimestamp`, then namespace and
 * name) wins, and a host belongs to ONE namespace:
 * - a route whose host an older admitted route of another namespace exposes, at any path,
 *   is rejected (`HostAlreadyClaimed`); routes of the same namespace share a host freely
 *   (different paths; on the same path the table serves the oldest);
 * - a `Subdomain` wildcard route claims its host's parent domain (`*.example.com`) for its
 *   namespace: a younger route of another namespace for a host in that domain, or a
 *   younger wildcard for it, is rejected; and a wildcard is rejected while an older route
 *   of another namespace holds a host in that domain.
 * A rejected route claims nothing. Decisions depend only on the routes given, so every
 * replica agrees; a host's decisions depend only on the routes of its parent domain
 * (`routesOfDomain`), though any set of routes may be passed.
 */
export function decideAdmission(routes: readonly Route[]): Map<Route, Admission> {
  const hostOwners = new Map<string, Route>();
  const wildcardOwners = new Map<string, Route>();
  /** domain → the oldest admitted route of each namespace with a host in it */
  const domainHolders = new Map<string, Map<string, Route>>();
  const decisions = new Map<Route, Admission>();

  for (const route of [...routes].sort(olderFirst)) {
    const { host } = route.spec;
    const domain = parentDomain(host);
    const namespace = route.metadata.namespace;
    const wildcard = route.spec.wildcardPolicy === 'Subdomain';
    const holders = domainHolders.get(domain);
    const rival = (owner: Route | undefined) => (owner && owner.metadata.namespace !== namespace ? owner : undefined);

    const hostOwner = rival(hostOwners.get(host));
    const wildcardOwner = rival(wildcardOwners.get(domain));
    const domainHolder = wildcard ? [...(holders?.values() ?? [])].find((holder) => rival(holder)) : undefined;
    const refusal = hostOwner
      ? rejection(hostOwner, `already exposes ${host}`)
      : wildcardOwner
        ? rejection(wildcardOwner, `already claims *.${domain} (wildcardPolicy Subdomain)`)
        : domainHolder && rejection(domainHolder, `already exposes ${domainHolder.spec.host}`, `a Subdomain wildcard claims all of *.${domain} for one namespace`);
    if (refusal) {
      decisions.set(route, refusal);
      continue;
    }
    if (!hostOwners.has(host)) hostOwners.set(host, route);
    if (wildcard && !wildcardOwners.has(domain)) wildcardOwners.set(domain, route);
    if (!holders) domainHolders.set(domain, new Map([[namespace, route]]));
    else if (!holders.has(namespace)) holders.set(namespace, route);
    decisions.set(route, { admitted: true });
  }
  return decisions;
}

function rejection(owner: Route, what: string, why?: string): Admission {
  const { namespace, name } = owner.metadata;
  return { admitted: false, owner: { namespace, name }, message: `route ${name} in namespace ${namespace} ${what} and is older${why ? `; ${why}` : ''}` };
}

/** The routes whose stored status is not what admission decides now, with their admission. */
export function admissionChanges(routes: readonly Route[], now: string): Map<Route, Admission> {
  const changes = new Map<Route, Admission>();
  for (const [route, admission] of decideAdmission(routes)) {
    if (!isDeepStrictEqual(admissionStatus(route, admission, now), route.status)) changes.set(route, admission);
  }
  return changes;
}

/** The status a route gets for an admission; the transition time moves only when the verdict does. */
export function admissionStatus(route: Route, admission: Admission, now: string): RouteStatus {
  const previous = route.status?.ingress?.[0]?.conditions?.find((c) => c.type === 'Admitted');
  const condition: Omit<Condition, 'lastTransitionTime'> = admission.admitted
    ? { type: 'Admitted', status: 'True' }
    : { type: 'Admitted', status: 'False', reason: 'HostAlreadyClaimed', message: admission.message };
  const lastTransitionTime = previous && previous.status === condition.status ? previous.lastTransitionTime : now;
  return { ingress: [{ host: route.spec.host, routerName: ROUTER_NAME, conditions: [{ ...condition, lastTransitionTime }] }] };
}
