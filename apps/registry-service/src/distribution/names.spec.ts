import { RegistryError } from './errors';
import { matchRoute, parseDigest, parseReference } from './names';

const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('matchRoute', () => {
  it.each([
    ['/v2/', { kind: 'base' }],
    ['/v2', { kind: 'base' }],
    ['/v2/_catalog', { kind: 'catalog' }],
    ['/v2/ns/app/tags/list', { kind: 'tags', name: 'ns/app' }],
    ['/v2/a/b/c/manifests/v1.0', { kind: 'manifest', name: 'a/b/c', reference: 'v1.0' }],
    [`/v2/ns/app/manifests/${DIGEST}`, { kind: 'manifest', name: 'ns/app', reference: DIGEST }],
    [`/v2/ns/my_app-x.y/blobs/${DIGEST}`, { kind: 'blob', name: 'ns/my_app-x.y', digest: DIGEST }],
    ['/v2/ns/app/blobs/uploads/', { kind: 'uploads', name: 'ns/app' }],
    ['/v2/ns/app/blobs/uploads/3f2e-11', { kind: 'upload', name: 'ns/app', uuid: '3f2e-11' }],
    // A name may itself contain a segment called like a route part.
    ['/v2/ns/manifests/tags/list', { kind: 'tags', name: 'ns/manifests' }],
  ])('%s', (path, route) => {
    expect(matchRoute(path)).toEqual(route);
  });

  it.each(['/v2/NS/app/tags/list', '/v2/ns//app/tags/list', '/v2/-ns/app/tags/list', '/v2/ns/app/unknown', '/v3/ns/app/tags/list'])('matches no route for %s', (path) => {
    expect(matchRoute(path)).toBeUndefined();
  });

  it('refuses names longer than 255 characters', () => {
    expect(() => matchRoute(`/v2/${'a'.repeat(256)}/tags/list`)).toThrow(expect.objectContaining({ code: 'NAME_INVALID' }));
  });
});

describe('parseReference', () => {
  it('tells tags from digests', () => {
    expect(parseReference('latest')).toEqual({ tag: 'latest' });
    expect(parseReference('_v1.2-rc')).toEqual({ tag: '_v1.2-rc' });
    expect(parseReference(DIGEST)).toEqual({ digest: DIGEST });
  });

  it('refuses a reference that is neither', () => {
    expect(() => parseReference('-bad')).toThrow(expect.objectContaining({ code: 'MANIFEST_INVALID' }));
    expect(() => parseReference('a'.repeat(129))).toThrow(RegistryError);
  });
});

describe('parseDigest', () => {
  it('accepts sha256 and sha512 digests of lower-case hex of their length', () => {
    expect(parseDigest(DIGEST)).toBe(DIGEST);
    expect(parseDigest(`sha512:${'a'.repeat(128)}`)).toBe(`sha512:${'a'.repeat(128)}`);
    expect(() => parseDigest(`sha512:${'a'.repeat(64)}`)).toThrow(expect.objectContaining({ code: 'DIGEST_INVALID' }));
    expect(() => parseDigest(`blake3:${'a'.repeat(64)}`)).toThrow(expect.objectContaining({ code: 'DIGEST_INVALID', message: expect.stringContaining('unsupported') }));
    expect(() => parseDigest(`sha256:${'A'.repeat(64)}`)).toThrow(expect.objectContaining({ code: 'DIGEST_INVALID' }));
    expect(() => parseDigest('sha256:abc')).toThrow(expect.objectContaining({ code: 'DIGEST_INVALID' }));
    expect(() => parseDigest('nonsense')).toThrow(expect.objectContaining({ code: 'DIGEST_INVALID' }));
  });
});
