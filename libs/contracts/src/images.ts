import { z } from 'zod';
import { objectMetaInput, type Resource } from './meta';

export const tagName = z.string().regex(/^[\w][\w.-]{0,127}$/, 'must be a valid image tag');

export const imageStreamSpecSchema = z.object({
  /** Tags that follow another tag of this stream (`oc tag`-style references). */
  tags: z
    .array(z.object({ name: tagName, from: z.object({ kind: z.literal('ImageStreamTag'), name: z.string() }) }))
    .max(100)
    .default([]),
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
