import { REGISTRY_ERRORS, RegistryError, renderError } from './errors';

describe('registry errors', () => {
  it('renders a RegistryError in the spec envelope with the status of its code', () => {
    expect(renderError(new RegistryError('DIGEST_INVALID', 'wrong digest', { digest: 'sha256:x' }))).toEqual({
      status: 400,
      body: { errors: [{ code: 'DIGEST_INVALID', message: 'wrong digest', detail: { digest: 'sha256:x' } }] },
      headers: {},
    });
    expect(renderError(new RegistryError('MANIFEST_UNKNOWN'))).toEqual({
      status: 404,
      body: { errors: [{ code: 'MANIFEST_UNKNOWN', message: 'manifest unknown to registry' }] },
      headers: {},
    });
    const challenge = { 'www-authenticate': 'Bearer realm="r",service="s"' };
    expect(renderError(new RegistryError('UNAUTHORIZED', undefined, undefined, challenge))).toMatchObject({ status: 401, headers: challenge });
  });

  it('renders anything else as a 500 without its internals', () => {
    const rendered = renderError(new Error('ENOENT /secret/path'));
    expect(rendered).toEqual({ status: 500, body: { errors: [{ code: 'UNKNOWN', message: 'unknown error' }] }, headers: {} });
  });

  it('renders a database it cannot reach as a 503 with Retry-After, without its internals', () => {
    const lost = Object.assign(new Error('connection 8 to 127.0.0.1:27017 closed'), { name: 'MongoNetworkError' });
    expect(renderError(lost)).toEqual({ status: 503, body: { errors: [{ code: 'UNAVAILABLE', message: 'service unavailable' }] }, headers: { 'retry-after': '1' } });
  });

  it('gives the spec codes the statuses the spec names', () => {
    const status = (code: keyof typeof REGISTRY_ERRORS) => REGISTRY_ERRORS[code].status;
    expect([status('BLOB_UNKNOWN'), status('BLOB_UPLOAD_UNKNOWN'), status('MANIFEST_UNKNOWN'), status('NAME_UNKNOWN')]).toEqual([404, 404, 404, 404]);
    expect([status('DIGEST_INVALID'), status('MANIFEST_BLOB_UNKNOWN'), status('MANIFEST_INVALID'), status('NAME_INVALID')]).toEqual([400, 400, 400, 400]);
    expect([status('UNAUTHORIZED'), status('DENIED'), status('UNSUPPORTED'), status('TOO_MANY_REQUESTS')]).toEqual([401, 403, 405, 429]);
  });
});
