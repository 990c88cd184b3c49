import type { Route } from '@paas/contracts/routes';
import type { EndpointsUpdate } from '../table/router-state';

let clock = Date.parse('2026-01-01T00:00:00Z');

/** A Route as stored; each call is one second younger than the previous one. */
export function aRoute(
  overrides: { name?: string; namespace?: string; host?: string; path?: string; service?: string; admitted?: boolean; spec?: Partial<Route['spec']>; annotations?: Record<string, string> } = {},
): Route {
  const name = overrides.name ?? 'web';
  const namespace = overrides.namespace ?? 'demo';
  const host = overrides.host ?? `${name}-${namespace}.apps.localhost`;
  clock += 1000;
  return {
    apiVersion: 'v1',
    kind: 'Route',
    metadata: { name, namespace, uid: `${namespace}-${name}`, resourceVersion: '1', generation: 1, creationTimestamp: new Date(clock).toISOString(), annotations: overrides.annotations },
    spec: {
      host,
      path: overrides.path ?? '/',
      wildcardPolicy: 'None',
      to: { kind: 'Service', name: overrides.service ?? name, weight: 100 },
      alternateBackends: [],
      ...overrides.spec,
    },
    status: {
      ingress:
        overrides.admitted === false
          ? []
          : [{ host, routerName: 'default', conditions: [{ type: 'Admitted', status: 'True', lastTransitionTime: new Date(clock).toISOString() }] }],
    },
  };
}

export function anEndpoints(service: string, ports: number[], overrides: { namespace?: string; generation?: number } = {}): EndpointsUpdate {
  return { namespace: overrides.namespace ?? 'demo', name: service, generation: overrides.generation ?? 1, backends: ports.map((port) => ({ ip: '127.0.0.1', port })) };
}
