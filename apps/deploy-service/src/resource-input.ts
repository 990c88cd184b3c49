import { API_VERSION, parseLabelSelector, type Labels, type ResourceList } from '@paas/contracts/meta';
import { validate } from '@paas/contracts/validation';
import { ApiError } from '@paas/platform/api-error';
import type { AnyResource, NewResource } from '@paas/platform/resource-repository';
import type { z } from 'zod';

/** Validates an RPC body against its schema; a body naming another namespace is refused. */
export function parseInput<S extends z.ZodType>(schema: S, body: unknown, kind: string, namespace: string): z.output<S> {
  const name = (body as { metadata?: { name?: unknown } } | undefined)?.metadata?.name;
  const result = validate(schema, body, kind, typeof name === 'string' ? name : undefined);
  if (!result.ok) throw new ApiError(result.status);
  const bodyNamespace = (result.value as { metadata: { namespace?: string } }).metadata.namespace;
  if (bodyNamespace !== undefined && bodyNamespace !== namespace) {
    throw ApiError.of('BadRequest', `the namespace of the object (${bodyNamespace}) does not match the namespace of the request (${namespace})`);
  }
  return result.value;
}

/** What a dry run answers: the object as it would be stored, without server-assigned identity. */
export function preview<R extends AnyResource>(kind: R['kind'], resource: NewResource<R>): R {
  return {
    apiVersion: API_VERSION,
    kind,
    metadata: { ...resource.metadata, uid: '', resourceVersion: '', generation: 1, creationTimestamp: new Date().toISOString() },
    spec: resource.spec,
    status: resource.status,
  } as R;
}

export function resourceList<T>(kind: string, items: T[]): ResourceList<T> {
  return { apiVersion: API_VERSION, kind: `${kind}List`, metadata: {}, items };
}

/** `?labelSelector=a=b,c=d`; a malformed one is a 400, not a 500. */
export function selectorOf(labelSelector: string | undefined): Labels {
  try {
    return parseLabelSelector(labelSelector);
  } catch (error) {
    throw ApiError.of('BadRequest', `labelSelector: ${(error as Error).message}`);
  }
}
