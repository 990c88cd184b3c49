import { DNS1123_LABEL } from '@paas/contracts/meta';
import { routeInput, type RouteInput } from '@paas/contracts/routes';
import { ApiError } from '@paas/platform/api-error';
import { parseBody } from '@paas/platform/rpc-input';

/** A Route body from a request, validated; its namespace, if given, must be the request's. */
export function parseRouteInput(namespace: unknown, body: unknown): RouteInput & { metadata: { namespace: string } } {
  const ns = assertNamespace(namespace);
  const input = parseBody(routeInput, body, 'Route', ns);
  return { ...input, metadata: { ...input.metadata, namespace: ns } };
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
