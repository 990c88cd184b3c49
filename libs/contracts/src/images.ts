import { z } from 'zod';
import { objectMetaInput, type Resource } from './meta';

export const tagName = z.string().regex(/^[\w][\w.-]{0,127}$/, 'must be a valid image tag');

/** `<imagestream>:<tag>`, an ImageStreamTag's name. */
export const IMAGE_STREAM_TAG_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?:[\w][\w.-]{0,127}$/;

/** `hello:latest` → its stream and tag (the name must already be valid). */
export function parseImageStreamTag(name: string): { stream: string; tag: string } {
  const at = name.indexOf(':');
  return { stream: name.slice(0, at), tag: name.slice(at + 1) };
}

export const imageStreamSpecSchema = z.object({
  /**
   * Tags that follow another stream tag of the namespace (`oc tag --alias`-style references):
   * `name` takes every image `from` (`<stream>:<tag>`) gets, from now on.
   */
  tags: z
    .array(
      z.object({
        name: tagName,
        from: z.object({ kind: z.literal('ImageStreamTag'), name: z.string().regex(IMAGE_STREAM_TAG_NAME, 'must be <imagestream>:<tag>') }),
      }),
    )
    .max(100)
    .default([])
    .refine((tags) => new Set(tags.map((t) => t.name)).size === tags.length, 'each tag may be listed once'),
});
export type ImageStreamSpec = z.infer<typeof imageStreamSpecSchema>;

export const imageStreamInput = z.object({
  apiVersion: z.literal('v1').optional(),
  kind: z.literal('ImageStream').optional(),
  metadata: objectMetaInput,
  spec: imageStreamSpecSchema.default({ tags: [] }),
});
export type ImageStreamInput = z.infer<typeof imageStreamInput>;

export interface TagEvent {
  created: string;
  /** Pull spec by digest: `127.0.0.1:5000/<namespace>/<name>@sha256:...` */
  dockerImageReference: string;
  image: string;
  generation: number;
}

export interface NamedTagEventList {
  tag: string;
  /** Newest first; `items[0]` is what the tag points at now. */
  items: TagEvent[];
}

export interface ImageStreamStatus {
  /** Where to push and pull: `127.0.0.1:5000/<namespace>/<name>` */
  dockerImageRepository: string;
  tags: NamedTagEventList[];
}
export type ImageStream = Resource<'ImageStream', ImageStreamSpec, ImageStreamStatus>;

/** `127.0.0.1:5000/demo/hello:latest` → its parts, or undefined when it is not a reference into `registryHost`. */
export function imageStreamOfReference(reference: string, registryHost: string) {
  const match = new RegExp(`^${registryHost.replace(/[.]/g, '\\.')}/([^/]+)/([^/:@]+)(?::([^@]+))?(?:@(.+))?$`).exec(reference);
  if (!match) return undefined;
  return { namespace: match[1], name: match[2], tag: match[3], digest: match[4] };
}

/**
 * One tag of a stream and the image it points at now (`<stream>:<tag>`), as OpenShift's
 * ImageStreamTag: what a trigger looks up. `metadata.uid` and `resourceVersion` are the
 * stream's, so a reader can tell an older snapshot from a newer one.
 */
export interface ImageStreamTag {
  apiVersion: 'v1';
  kind: 'ImageStreamTag';
  metadata: { name: string; namespace: string; uid: string; resourceVersion: string; creationTimestamp: string };
  /** The tag's reference to another stream tag, when it follows one. */
  tag?: ImageStreamSpec['tags'][number];
  image: TagEvent;
  /** How many images the tag has pointed at, this one included. */
  historyLength: number;
}
