import type { Informer } from '@paas/platform/informer';
import type { AnyResource, ResourceStore } from '@paas/platform/resource-repository';

/** What the use cases and reconcilers write through; unit tests pass the platform's in-memory repository. */
export type Store<R extends AnyResource> = ResourceStore<R>;

/** What the reconcilers read: a cache kept by the change feed (see informers.ts). */
export type Lister<R extends AnyResource> = Pick<Informer<R>, 'get' | 'list'>;

export function keyOf(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
