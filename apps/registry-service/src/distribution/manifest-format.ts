import { jsonShapeProblem, type JsonLimits } from '@paas/platform/json-limits';
import { z } from 'zod';
import { RegistryError } from './errors';
import { isSupportedDigest } from './names';

export const MEDIA_TYPES = {
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
} as const;

const IMAGE_MANIFESTS: string[] = [MEDIA_TYPES.dockerManifest, MEDIA_TYPES.ociManifest];
const INDEXES: string[] = [MEDIA_TYPES.dockerManifestList, MEDIA_TYPES.ociIndex];
export const SUPPORTED_MANIFEST_TYPES: string[] = [...IMAGE_MANIFESTS, ...INDEXES];

/** Manifests are small; larger bodies are refused before they are read to the end. */
export const MANIFEST_SIZE_LIMIT = 4 * 1024 * 1024;

/**
 * The shape a manifest may have, checked before it is parsed: manifests nest four levels
 * (index, descriptor, platform or annotations); the key count only bounds the parser's work
 * (a 4 MiB index of a thousand platforms has some 10,000 keys).
 */
export const MANIFEST_JSON_LIMITS: JsonLimits = { maxDepth: 32, maxKeys: 100_000 };

/**
 * A manifest is pushed with its own media type as Content-Type; without one, or as plain
 * `application/json`, its `mediaType` field (or its shape) says what it is. Anything else is
 * refused before the body is read.
 */
export function assertManifestContentType(contentType: string | undefined): void {
  const type = contentType?.split(';')[0].trim().toLowerCase();
  if (!type || type === 'application/json' || SUPPORTED_MANIFEST_TYPES.includes(type)) return;
  throw new RegistryError('UNSUPPORTED_MEDIA_TYPE', `a manifest cannot be pushed as ${type}: send one of ${SUPPORTED_MANIFEST_TYPES.join(', ')}`, {
    supported: SUPPORTED_MANIFEST_TYPES,
  });
}

const descriptor = z.object({
  mediaType: z.string().min(1),
  digest: z.string().refine(isSupportedDigest, 'must be a sha256 or sha512 digest (<algorithm>:<lower-case hex>)'),
  size: z.number().int().nonnegative(),
  /** Present on non-distributable ("foreign") layers, which are fetched from these URLs, not from us. */
  urls: z.array(z.string()).optional(),
  artifactType: z.string().optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});
/** Fields the referrers API reads: what the manifest is about (`subject`) and what kind of artifact it is. */
const referrerFields = {
  mediaType: z.string().optional(),
  artifactType: z.string().optional(),
  subject: descriptor.optional(),
  annotations: z.record(z.string(), z.string()).optional(),
};
const imageManifest = z.object({ schemaVersion: z.literal(2), config: descriptor, layers: z.array(descriptor), ...referrerFields });
const index = z.object({ schemaVersion: z.literal(2), manifests: z.array(descriptor), ...referrerFields });

export interface ParsedManifest {
  mediaType: string;
  /** Blobs this manifest needs in its repository (config and layers). */
  blobs: string[];
  /** Manifests this index needs in its repository. */
  manifests: string[];
  /** The manifest this one refers to (a signature, an SBOM...): it need not exist yet. */
  subject?: string;
  /** `artifactType`, else (for an image manifest) the config's media type, as the referrers API reports it. */
  artifactType?: string;
  annotations?: Record<string, string>;
}

/**
 * Checks a manifest body as pushed: a supported media type (the Content-Type, else the
 * body's `mediaType`) that the body agrees with, and well-formed descriptors. Which of
 * the referenced blobs and manifests exist is checked by the caller.
 */
export function parseManifest(body: Buffer, contentType: string | undefined): ParsedManifest {
  const problem = jsonShapeProblem(body, MANIFEST_JSON_LIMITS);
  if (problem) throw new RegistryError('MANIFEST_INVALID', `the manifest is refused: ${problem}`);
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch {
    throw new RegistryError('MANIFEST_INVALID', 'the manifest is not valid JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new RegistryError('MANIFEST_INVALID', 'the manifest must be a JSON object');
  const mediaType = mediaTypeOf(json as { mediaType?: unknown; manifests?: unknown; config?: unknown }, contentType);
  const isIndex = INDEXES.includes(mediaType);
  const parsed = (isIndex ? index : imageManifest).safeParse(json);
  if (!parsed.success) {
    const detail = parsed.error.issues.map((issue) => `${issue.path.map(String).join('.') || '(body)'}: ${issue.message}`);
    throw new RegistryError('MANIFEST_INVALID', `invalid ${mediaType}: ${detail.join('; ')}`, detail);
  }
  const { subject, artifactType, annotations } = parsed.data;
  const about = { subject: subject?.digest, annotations };
  if (isIndex) {
    const { manifests } = parsed.data as z.infer<typeof index>;
    return { mediaType, blobs: [], manifests: unique(manifests.map((m) => m.digest)), artifactType, ...about };
  }
  const { config, layers } = parsed.data as z.infer<typeof imageManifest>;
  const local = [config, ...layers].filter((d) => !d.urls?.length);
  return { mediaType, blobs: unique(local.map((d) => d.digest)), manifests: [], artifactType: artifactType ?? config.mediaType, ...about };
}

function mediaTypeOf(json: { mediaType?: unknown; manifests?: unknown; config?: unknown }, contentType: string | undefined): string {
  const header = contentType?.split(';')[0].trim().toLowerCase();
  const declared = typeof json.mediaType === 'string' ? json.mediaType : undefined;
  if (header && SUPPORTED_MANIFEST_TYPES.includes(header)) {
    if (declared && declared !== header) throw new RegistryError('MANIFEST_INVALID', `the manifest's mediaType ${declared} does not match its Content-Type ${header}`);
    return header;
  }
  if (declared) {
    if (SUPPORTED_MANIFEST_TYPES.includes(declared)) return declared;
    throw new RegistryError('MANIFEST_INVALID', `unsupported manifest media type ${declared}`, { supported: SUPPORTED_MANIFEST_TYPES });
  }
  // OCI manifests may leave `mediaType` out: tell them apart by their shape.
  if (Array.isArray(json.manifests)) return MEDIA_TYPES.ociIndex;
  if (json.config !== undefined) return MEDIA_TYPES.ociManifest;
  throw new RegistryError('MANIFEST_INVALID', `unsupported manifest media type ${header ?? '(none)'}`, { supported: SUPPORTED_MANIFEST_TYPES });
}

function unique<T>(values: T[]): T[] {
  return [...new Set(values)];
}
