import { API_VERSION, parseLabelSelector, type Labels, type ResourceList } from '@paas/contracts/meta';
import type { ListRequest } from '@paas/contracts/rpc';
import { validate } from '@paas/contracts/validation';
import type { z } from 'zod';
import { ApiError } from './api-error';
import type { AnyResource, NewResource, ResourceStore } from './resource-repository';

/**
 * A request body checked against its schema: an invalid one is a 422 naming each field, and
 * a body naming another namespace than the request's is a 400.
 */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown, kind: string, namespace: string): z.output<S> {
  const name = (body as { metadata?: { name?: unknown } } | null | undefined)?.metadata?.name;
  const result = validate(schema, body, kind, typeof name === 'string' ? name : undefined);
  if (!result.ok) throw new ApiError(result.status);
  const bodyNamespace = (result.value as { metadata: { namespace?: string } }).metadata.namespace;
  if (bodyNamespace !== undefined && bodyNamespace !== namespace) {
    throw ApiError.of('BadRequest', `the namespace of the object (${bodyNamespace}) does not match the namespace of the request (${namespace})`);
  }
  return result.value;
}

/** `labelSelector=a=b,c=d` as labels to match; a malformed one is a 400, not a 500. */
export function labelSelectorOf(selector: string | undefined): Labels {
  try {
    return parseLabelSelector(selector);
  } catch (error) {
    throw ApiError.of('BadRequest', `invalid labelSelector: ${(error as Error).message}`);
  }
}

/** The answer to a list request: `<Kind>List` around the items. */
export function resourceList<T>(kind: string, items: T[], continueToken?: string): ResourceList<T> {
  return { apiVersion: API_VERSION, kind: `${kind}List`, metadata: continueToken === undefined ? {} : { continue: continueToken }, items };
}

/** A list request answered from `store`: its namespace, labelSelector and page; each item shown through `view` if given. */
export async function listResponse<R extends AnyResource, V = R>(
  kind: string,
  store: Pick<ResourceStore<R>, 'listPage'>,
  request: ListRequest,
  view: (resource: R) => V = (resource) => resource as unknown as V,
): Promise<ResourceList<V>> {
  const page = await store.listPage({ namespace: request.namespace, labels: labelSelectorOf(request.labelSelector) }, { limit: request.limit, continue: request.continue });
  return resourceList(kind, page.items.map(view), page.continue);
}

/** What a dry run answers: the resource as it would be stored, without the identity the server assigns. */
export function dryRunPreview<R extends AnyResource>(kind: R['kind'], newResource: NewResource<R>): R {
  return {
    apiVersion: API_VERSION,
    kind,
    metadata: { ...newResource.metadata, uid: '', resourceVersion: '', generation: 1, creationTimestamp: new Date().toISOString() },
    spec: newResource.spec,
    status: newResource.status,
  } as R;
}

/**
 * What an update (a PUT) makes of the stored resource: the body's spec, its labels and
 * annotations where it gives them, the rest of the metadata and the status as stored.
 */
export function updatedFrom<R extends AnyResource>(current: R, input: { metadata: { labels?: Labels; annotations?: Record<string, string> }; spec: R['spec'] }): R {
  const { labels, annotations } = input.metadata;
  return { ...current, metadata: { ...current.metadata, labels: labels ?? current.metadata.labels, annotations: annotations ?? current.metadata.annotations }, spec: input.spec };
}
