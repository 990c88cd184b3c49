import { assertManifestContentType, MEDIA_TYPES, parseManifest } from './manifest-format';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const descriptor = (digest: string, mediaType = 'application/vnd.docker.image.rootfs.diff.tar.gzip') => ({ mediaType, digest, size: 10 });
const image = (extra: object = {}) => ({
  schemaVersion: 2,
  mediaType: MEDIA_TYPES.dockerManifest,
  config: descriptor(d('c'), 'application/vnd.docker.container.image.v1+json'),
  layers: [descriptor(d('1')), descriptor(d('2'))],
  ...extra,
});
const bytes = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('parseManifest', () => {
  it('lists the blobs an image manifest needs, config first, foreign layers left out', () => {
    const foreign = { ...descriptor(d('f')), urls: ['https://example.test/layer'] };
    const parsed = parseManifest(bytes(image({ layers: [descriptor(d('1')), foreign, descriptor(d('1'))] })), MEDIA_TYPES.dockerManifest);
    expect(parsed).toEqual({ mediaType: MEDIA_TYPES.dockerManifest, blobs: [d('c'), d('1')], manifests: [], artifactType: 'application/vnd.docker.container.image.v1+json' });
  });

  it("reads what the referrers API needs: the subject, the artifact type and the annotations", () => {
    const signature = image({
      mediaType: MEDIA_TYPES.ociManifest,
      artifactType: 'application/vnd.example.signature',
      subject: descriptor(d('e'), MEDIA_TYPES.ociManifest),
      annotations: { 'org.example.signed-by': 'ci' },
    });
    expect(parseManifest(bytes(signature), MEDIA_TYPES.ociManifest)).toMatchObject({
      subject: d('e'),
      artifactType: 'application/vnd.example.signature',
      annotations: { 'org.example.signed-by': 'ci' },
    });
    const index = { schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [], subject: descriptor(d('e'), MEDIA_TYPES.ociManifest) };
    expect(parseManifest(bytes(index), MEDIA_TYPES.ociIndex)).toMatchObject({ subject: d('e'), artifactType: undefined });
  });

  it('lists the manifests an index needs', () => {
    const list = { schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [descriptor(d('a'), MEDIA_TYPES.ociManifest)] };
    expect(parseManifest(bytes(list), `${MEDIA_TYPES.ociIndex}; charset=utf-8`)).toEqual({ mediaType: MEDIA_TYPES.ociIndex, blobs: [], manifests: [d('a')] });
  });

  it('takes the media type from the body, or from the shape of an OCI manifest, when the Content-Type says nothing', () => {
    expect(parseManifest(bytes(image()), undefined).mediaType).toBe(MEDIA_TYPES.dockerManifest);
    expect(parseManifest(bytes(image({ mediaType: undefined })), 'application/json').mediaType).toBe(MEDIA_TYPES.ociManifest);
  });

  it.each([
    ['not JSON', Buffer.from('{'), MEDIA_TYPES.dockerManifest, 'not valid JSON'],
    ['a media type that contradicts the Content-Type', bytes(image()), MEDIA_TYPES.ociManifest, 'does not match'],
    ['schema 1', bytes({ schemaVersion: 1, mediaType: 'application/vnd.docker.distribution.manifest.v1+prettyjws' }), undefined, 'unsupported'],
    ['a descriptor with a bad digest', bytes(image({ layers: [descriptor('sha256:nope')] })), MEDIA_TYPES.dockerManifest, 'must be a sha256 or sha512 digest'],
    ['layers missing', bytes(image({ layers: undefined })), MEDIA_TYPES.dockerManifest, 'layers'],
    ['annotations nested 40 deep', Buffer.from(JSON.stringify(image()).replace(/}$/, `,"x":${'['.repeat(40)}${']'.repeat(40)}}`)), MEDIA_TYPES.dockerManifest, 'more than 32 levels'],
    ['a body nested 100,000 deep', Buffer.from(`{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}`), MEDIA_TYPES.ociManifest, 'refused'],
  ])('refuses %s as MANIFEST_INVALID', (_case, body, contentType, message) => {
    expect(() => parseManifest(body, contentType)).toThrow(expect.objectContaining({ code: 'MANIFEST_INVALID', message: expect.stringContaining(message) }));
  });
});

describe('assertManifestContentType', () => {
  it('takes a manifest media type, plain JSON or none', () => {
    for (const type of [MEDIA_TYPES.ociManifest, `${MEDIA_TYPES.dockerManifestList}; charset=utf-8`, 'application/json', undefined]) expect(() => assertManifestContentType(type)).not.toThrow();
  });

  it('refuses any other Content-Type with 415, naming what to send', () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/vnd.docker.distribution.manifest.v1+prettyjws']) {
      expect(() => assertManifestContentType(type)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_MEDIA_TYPE', status: 415, message: expect.stringContaining(MEDIA_TYPES.ociManifest) }));
    }
  });
});
