import { RegistryError } from './errors';

/** A path component of a repository name, as the OCI Distribution spec defines it. */
const NAME_COMPONENT = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const NAME = `${NAME_COMPONENT}(?:/${NAME_COMPONENT})*`;
const TAG = '[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}';
const DIGEST = '[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+';
const NAME_MAX = 255;

/** The digest algorithms the registry verifies content with, and the hex length of each. */
const SUPPORTED_DIGEST = /^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;
const TAG_PATTERN = new RegExp(`^${TAG}$`);
const DIGEST_PATTERN = new RegExp(`^${DIGEST}$`);

/** One operation of the API, recognised from a `/v2/...` path. */
export type RegistryRoute =
  | { kind: 'base' }
  | { kind: 'catalog' }
  | { kind: 'tags'; name: string }
  | { kind: 'manifest'; name: string; reference: string }
  | { kind: 'blob'; name: string; digest: string }
  | { kind: 'referrers'; name: string; digest: string }
  | { kind: 'uploads'; name: string }
  | { kind: 'upload'; name: string; uuid: string };

const ROUTES: [RegExp, (m: RegExpExecArray) => RegistryRoute][] = [
  [/^\/v2\/?$/, () => ({ kind: 'base' })],
  [/^\/v2\/_catalog$/, () => ({ kind: 'catalog' })],
  [new RegExp(`^/v2/(${NAME})/tags/list$`), (m) => ({ kind: 'tags', name: m[1] })],
  [new RegExp(`^/v2/(${NAME})/manifests/([^/]+)$`), (m) => ({ kind: 'manifest', name: m[1], reference: m[2] })],
  [new RegExp(`^/v2/(${NAME})/blobs/uploads/?$`), (m) => ({ kind: 'uploads', name: m[1] })],
  [new RegExp(`^/v2/(${NAME})/blobs/uploads/([^/]+)$`), (m) => ({ kind: 'upload', name: m[1], uuid: m[2] })],
  [new RegExp(`^/v2/(${NAME})/blobs/([^/]+)$`), (m) => ({ kind: 'blob', name: m[1], digest: m[2] })],
  [new RegExp(`^/v2/(${NAME})/referrers/([^/]+)$`), (m) => ({ kind: 'referrers', name: m[1], digest: m[2] })],
];

/**
 * The route of a request path (without its query), or undefined when it names nothing.
 * Names have any number of segments, so a path is matched against each route's pattern as
 * distribution's router does; a name longer than the spec allows is NAME_INVALID.
 */
export function matchRoute(path: string): RegistryRoute | undefined {
  for (const [pattern, build] of ROUTES) {
    const match = pattern.exec(path);
    if (!match) continue;
    const route = build(match);
    if ('name' in route && route.name.length > NAME_MAX) throw new RegistryError('NAME_INVALID', `repository name must be at most ${NAME_MAX} characters`, { name: route.name });
    return route;
  }
  return undefined;
}

export type Reference = { tag: string; digest?: undefined } | { digest: string; tag?: undefined };

/** A manifest reference: a tag, or a digest (only sha256 is supported). */
export function parseReference(reference: string): Reference {
  if (TAG_PATTERN.test(reference)) return { tag: reference };
  if (DIGEST_PATTERN.test(reference)) return { digest: parseDigest(reference) };
  throw new RegistryError('MANIFEST_INVALID', `"${reference}" is neither a valid tag nor a digest`, { reference });
}

/** A content digest; anything but a well-formed sha256 or sha512 digest is DIGEST_INVALID. */
export function parseDigest(digest: string): string {
  if (isSupportedDigest(digest)) return digest;
  if (DIGEST_PATTERN.test(digest) && !/^sha(256|512):/.test(digest)) {
    throw new RegistryError('DIGEST_INVALID', `unsupported digest algorithm in "${digest}": sha256 and sha512 are supported`, { digest });
  }
  throw new RegistryError('DIGEST_INVALID', `"${digest}" is not a valid digest`, { digest });
}

export function isSupportedDigest(digest: string): boolean {
  return SUPPORTED_DIGEST.test(digest);
}
