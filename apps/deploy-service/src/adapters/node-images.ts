import type { Labels } from '@paas/contracts/meta';

/** An image a node's engine holds, as image garbage collection sees it. */
export interface NodeImage {
  id: string;
  /** Its names, `<repository>:<tag>` and `<repository>@<digest>`; none for a dangling image. */
  references: string[];
  labels: Labels;
  /** When it was made (committed, built, imported; not when it was pulled), in ms since the epoch. */
  createdAt: number;
}

/**
 * What image garbage collection asks of a node's engine: its images, which of them containers
 * were made from, their sizes, and the removal of one. A fake of this serves the unit tests of
 * the collection; DockerNodeImages implements it over the Engine API.
 */
export interface NodeImages {
  /** Every image the engine holds, dangling ones included. */
  list(): Promise<NodeImage[]>;
  /** The ids of the images of every container on the engine, running or not, whoever made it. */
  inUse(): Promise<Set<string>>;
  /** The bytes of each image (by id) that no other image shares. Costly for the engine: asked only when something is to go. */
  uniqueSizes(): Promise<Map<string, number>>;
  /**
   * Removes the image and every name it has, never forced: `in-use` when the engine refuses
   * (a container made from it meanwhile, an image built on it), `absent` when it was gone already.
   */
  remove(image: NodeImage): Promise<'removed' | 'absent' | 'in-use'>;
}

/** Whether a reference names a tag: a colon after its last slash (`host:port/ns/app` has none). */
function hasTag(name: string): boolean {
  return name.lastIndexOf(':') > name.lastIndexOf('/');
}

/** The repository a reference names: `reg:5000/ns/app` of `reg:5000/ns/app:v1` and of `reg:5000/ns/app@sha256:…`. */
export function repositoryOf(reference: string): string {
  const [name] = reference.split('@');
  return hasTag(name) ? name.slice(0, name.lastIndexOf(':')) : name;
}

/**
 * A reference as an engine lists it among an image's names: `:latest` when it names neither a
 * tag nor a digest, and without its tag when it names a digest (`repo:v1@sha256:…` is listed as
 * `repo@sha256:…`).
 */
export function canonicalReference(reference: string): string {
  if (reference.includes('@')) return `${repositoryOf(reference)}@${reference.split('@')[1]}`;
  return hasTag(reference) ? reference : `${reference}:latest`;
}
