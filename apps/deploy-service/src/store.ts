import type { AnyResource, ResourceRepository } from '@paas/platform/resource-repository';

/** What the use cases and reconcilers need of a repository; unit tests pass an in-memory one. */
export type Store<R extends AnyResource> = Pick<ResourceRepository<R>, 'create' | 'find' | 'get' | 'list' | 'update' | 'updateStatus' | 'delete'>;

export function keyOf(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
