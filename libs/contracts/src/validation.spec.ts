import { newAppRequest } from './apps';
import { buildConfigInput } from './builds';
import { isOwnedBy, parseLabelSelector } from './meta';
import { validate } from './validation';

describe('validate', () => {
  it('names every offending field with its JSON path and answers 422', () => {
    const result = validate(newAppRequest, { name: 'Hello_World', source: { git: 'not a url' }, builder: 'nodejs' }, 'App');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.status.code).toBe(422);
    expect(result.status.reason).toBe('Invalid');
    expect(result.status.details?.causes?.map((c) => c.field)).toEqual(['name', 'source.git']);
    expect(result.status.message).toContain('DNS-1123');
  });

  it('fills defaults for a minimal new-app body', () => {
    const result = validate(newAppRequest, { name: 'hello', source: { git: '/srv/git/hello' }, builder: 'nodejs' }, 'App');
    expect(result).toEqual({
      ok: true,
      value: expect.objectContaining({ port: 8080, replicas: 1, source: { git: '/srv/git/hello', ref: 'main' } }),
    });
  });

  it('rejects unknown fields in a new-app body instead of ignoring them', () => {
    const result = validate(newAppRequest, { name: 'hello', source: { git: '/r' }, builder: 'nodejs', replica: 2 }, 'App');
    expect(result.ok).toBe(false);
  });

  it.each(['--upload-pack=evil', 'a..b', 'has space', 'x:y'])('refuses the git ref %p', (ref) => {
    const body = {
      metadata: { name: 'hello' },
      spec: {
        source: { git: { uri: 'https://example.invalid/r.git', ref } },
        strategy: { sourceStrategy: { from: { kind: 'Builder', name: 'nodejs' } } },
        output: { to: { kind: 'ImageStreamTag', name: 'hello:latest' } },
      },
    };
    expect(validate(buildConfigInput, body, 'BuildConfig').ok).toBe(false);
  });
});

describe('parseLabelSelector', () => {
  it('reads equality terms and refuses anything else', () => {
    expect(parseLabelSelector('app=hello, deployment=hello-2')).toEqual({ app: 'hello', deployment: 'hello-2' });
    expect(parseLabelSelector(undefined)).toEqual({});
    expect(() => parseLabelSelector('app')).toThrow(/key=value/);
  });
});

describe('isOwnedBy', () => {
  it('matches owners by uid, not by name', () => {
    const child = { metadata: { ownerReferences: [{ apiVersion: 'v1', kind: 'DeploymentConfig', name: 'web', uid: 'u1' }] } };
    expect(isOwnedBy(child, { metadata: { uid: 'u1' } })).toBe(true);
    expect(isOwnedBy(child, { metadata: { uid: 'u2' } })).toBe(false);
    expect(isOwnedBy(child, undefined)).toBe(false);
    expect(isOwnedBy({ metadata: {} }, { metadata: { uid: 'u1' } })).toBe(false);
  });
});
