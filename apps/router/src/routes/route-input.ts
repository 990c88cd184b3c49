import { DNS1123_LABEL } from '@paas/contracts/meta';
import { routeInput, type RouteInput, type RouteSpec } from '@paas/contracts/routes';
import { failureStatus } from '@paas/contracts/status';
import { ApiError } from '@paas/platform/api-error';
import { parseBody } from '@paas/platform/rpc-input';
import { validateRouteAnnotations } from './route-settings';
import { routeSpecCauses } from './route-validation';

/**
 * A Route body from a request, validated: its shape, then what the shape cannot say (the
 * TLS material, backends listed twice, the wildcard policy, the annotations the router
 * reads), all problems in one 422 naming each field. Its namespace, if given, must be the
 * request's. An empty certificate or key is dropped (edge with neither uses the default).
 */
export function parseRouteInput(namespace: unknown, body: unknown, routerDomain: string): RouteInput & { metadata: { namespace: string } } {
  const ns = assertNamespace(namespace);
  const input = parseBody(routeInput, body, 'Route', ns);
  const spec = withoutEmptyTls(input.spec);
  const causes = [
    ...routeSpecCauses(spec, { hostGiven: spec.host !== undefined, routerDomain, now: Date.now() }),
    ...validateRouteAnnotations(input.metadata.annotations),
  ];
  if (causes.length > 0) {
    const name = input.metadata.name;
    const summary = causes.map((cause) => `${cause.field}: ${cause.message}`).join('; ');
    throw new ApiError(failureStatus('Invalid', `Route "${name}" is invalid: ${summary}`, { kind: 'Route', name, causes }));
  }
  return { ...input, spec, metadata: { ...input.metadata, namespace: ns } };
}

function withoutEmptyTls(spec: RouteSpec): RouteSpec {
  if (!spec.tls || (spec.tls.certificate !== '' && spec.tls.key !== '')) return spec;
  const { certificate, key, ...tls } = spec.tls;
  return { ...spec, tls: { ...tls, ...(certificate ? { certificate } : {}), ...(key ? { key } : {}) } };
}

export function assertNamespace(namespace: unknown): string {
  if (typeof namespace !== 'string' || !DNS1123_LABEL.test(namespace)) {
    throw ApiError.invalid('Route', undefined, 'metadata.namespace', 'must be a DNS-1123 label');
  }
  return namespace;
}

export function assertKey(request: { namespace?: unknown; name?: unknown }): { namespace: string; name: string } {
  const namespace = assertNamespace(request.namespace);
  if (typeof request.name !== 'string' || request.name === '') throw ApiError.invalid('Route', undefined, 'metadata.name', 'must not be empty');
  return { namespace, name: request.name };
}
