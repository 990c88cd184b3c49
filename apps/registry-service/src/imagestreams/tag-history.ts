import type { ImageStream, ImageStreamStatus, TagEvent } from '@paas/contracts/images';
import { dns1123Label } from '@paas/contracts/meta';

/** Where a stream's images are pushed and pulled: `<registry host>/<namespace>/<name>`. */
export function dockerImageRepository(registryHost: string, namespace: string, name: string): string {
  return `${registryHost}/${namespace}/${name}`;
}

export function emptyStatus(registryHost: string, namespace: string, name: string): ImageStreamStatus {
  return { dockerImageRepository: dockerImageRepository(registryHost, namespace, name), tags: [] };
}

/** The ImageStream a registry repository `<namespace>/<name>` belongs to; none for other shapes of name. */
export function imageStreamKeyOf(repository: string): { namespace: string; name: string } | undefined {
  const [namespace, name, ...rest] = repository.split('/');
  if (rest.length || !name || !dns1123Label.safeParse(namespace).success || !dns1123Label.safeParse(name).success) return undefined;
  return { namespace, name };
}

export function tagEventOf(stream: ImageStream, digest: string, created: string): TagEvent {
  return {
    created,
    dockerImageReference: `${stream.status.dockerImageRepository}@${digest}`,
    image: digest,
    generation: stream.metadata.generation,
  };
}

/**
 * The stream with `event` as the newest item of `tag`'s history (all history kept, newest
 * first), or undefined when the tag already points at that image: a re-push is no change.
 */
export function withTagEvent(stream: ImageStream, tag: string, event: TagEvent): ImageStream | undefined {
  const tags = stream.status.tags ?? [];
  const current = tags.find((t) => t.tag === tag);
  if (current?.items[0]?.image === event.image) return undefined;
  const others = tags.filter((t) => t.tag !== tag);
  const updated = { tag, items: [event, ...(current?.items ?? [])] };
  return { ...stream, status: { ...stream.status, tags: [...others, updated].sort((a, b) => a.tag.localeCompare(b.tag)) } };
}

/**
 * The stream after the registry deleted manifest `digest` or tag `tag`: a tag whose current
 * image or whose name is gone goes too (as the registry's own tag does), and older history
 * items of a deleted image are dropped. Undefined when nothing changes.
 */
export function withoutDeleted(stream: ImageStream, deleted: { digest: string } | { tag: string }): ImageStream | undefined {
  const tags = stream.status.tags ?? [];
  const kept = tags
    .filter((t) => ('tag' in deleted ? t.tag !== deleted.tag : t.items[0]?.image !== deleted.digest))
    .map((t) => ('digest' in deleted ? { ...t, items: t.items.filter((item) => item.image !== deleted.digest) } : t));
  const changed = kept.length !== tags.length || kept.some((t, i) => t.items.length !== tags[i].items.length);
  return changed ? { ...stream, status: { ...stream.status, tags: kept } } : undefined;
}
