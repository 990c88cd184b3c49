import type { BinaryBuildRequest } from '@paas/contracts/builds';
import { ApiError, statusOf } from '@paas/platform/api-error';
import type { BinaryInputs } from '@paas/platform/binary-inputs';
import type { RpcClient } from '@paas/platform/rpc';
import { gzipSync } from 'node:zlib';
import type { GatewaySettings } from '../gateway-settings';
import { looksLikeArchive, UploadBinaryBuild } from './upload-binary-build.usecase';

/** An in-memory bucket: what was put, by name. */
function fakeInputs() {
  const objects = new Map<string, Buffer>();
  const inputs: BinaryInputs = {
    put: async (body) => {
      const chunks: Uint8Array[] = [];
      for await (const chunk of body) chunks.push(chunk);
      const object = `object-${objects.size + 1}`;
      objects.set(object, Buffer.concat(chunks));
      return { object, bytes: objects.get(object)!.length, sha256: 'a'.repeat(64) };
    },
    download: async () => undefined,
    delete: async (object) => void objects.delete(object),
  };
  return { inputs, objects };
}

function uploader(options: { refuse?: ApiError; maxBytes?: number; source?: object } = {}) {
  const { inputs, objects } = fakeInputs();
  const requests: BinaryBuildRequest[] = [];
  const rpc = {
    request: async (method: string, request: BinaryBuildRequest) => {
      if (method === 'buildconfigs.get') return { spec: { source: options.source ?? { type: 'Binary', binary: {} } } };
      requests.push(request);
      if (options.refuse) throw options.refuse;
      return { kind: 'Build', metadata: { name: `${request.name}-1` } };
    },
  } as unknown as RpcClient;
  const upload = new UploadBinaryBuild(rpc, inputs, { binaryMaxBytes: options.maxBytes ?? 1 << 20 } as GatewaySettings);
  return { upload, objects, requests };
}

/** The body in chunks of `size`, as a request stream delivers it. */
async function* chunked(data: Buffer, size = 100): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

const TAR = Buffer.alloc(1024);
TAR.write('ustar', 257, 'latin1');
const request = (body: Buffer | undefined, query: Record<string, unknown> = {}) => ({ namespace: 'demo', name: 'app', query, body: body && chunked(body), uploader: 'ann' });
const refused = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => statusOf(error));

describe('UploadBinaryBuild', () => {
  it('stores the body whole, then asks for the build with the upload, the uploader and the revision the query gives', async () => {
    const { upload, objects, requests } = uploader();
    await expect(upload.execute(request(TAR, { 'revision.commit': 'abc123', 'revision.authorName': 'Ann', 'revision.authorEmail': 'ann@example.com' }))).resolves.toMatchObject({ kind: 'Build' });
    expect([...objects.values()]).toEqual([TAR]);
    expect(requests).toEqual([
      { namespace: 'demo', name: 'app', uploader: 'ann', upload: { object: 'object-1', bytes: 1024, sha256: 'a'.repeat(64) }, revision: { commit: 'abc123', author: 'Ann <ann@example.com>' } },
    ]);
  });

  it('takes any bytes as one file with asFile, and refuses an asFile with a directory', async () => {
    const { upload, requests } = uploader();
    await upload.execute(request(Buffer.from('print("hi")'), { asFile: 'app.py' }));
    expect(requests[0].upload.asFile).toBe('app.py');
    await expect(refused(upload.execute(request(Buffer.from('x'), { asFile: '../app.py' })))).resolves.toMatchObject({ code: 400, message: expect.stringContaining('without a directory') });
    const named = uploader({ source: { type: 'Binary', binary: { asFile: 'main.py' } } });
    await named.upload.execute(request(Buffer.from('print("hi")')));
    expect(named.requests[0].upload.asFile).toBe('main.py');
  });

  it('refuses an upload to a git BuildConfig before reading it', async () => {
    const { upload, objects } = uploader({ source: { type: 'Git', git: { uri: 'https://git.example/app.git' } } });
    await expect(refused(upload.execute(request(TAR)))).resolves.toMatchObject({ code: 400, message: expect.stringContaining('use instantiate') });
    expect(objects.size).toBe(0);
  });

  it('refuses, keeping nothing: no body, a body that is no archive, one over the limit; and deletes an upload no build took', async () => {
    const { upload, objects } = uploader({ maxBytes: 2000 });
    await expect(refused(upload.execute(request(undefined)))).resolves.toMatchObject({ code: 400 });
    await expect(refused(upload.execute(request(Buffer.from('{"json": true}'))))).resolves.toMatchObject({ code: 400, message: expect.stringContaining('not a tar, tar.gz or zip') });
    await expect(refused(upload.execute(request(Buffer.alloc(5000, 1))))).resolves.toMatchObject({ code: 400 });
    await expect(refused(upload.execute(request(Buffer.concat([TAR, Buffer.alloc(2000)]))))).resolves.toMatchObject({ code: 413, message: expect.stringContaining('PAAS_BINARY_MAX_BYTES') });
    expect(objects.size).toBe(0);
    const notBinary = uploader({ refuse: ApiError.of('BadRequest', 'builds from git') });
    await expect(refused(notBinary.upload.execute(request(TAR)))).resolves.toMatchObject({ code: 400, message: 'builds from git' });
    expect(notBinary.objects.size).toBe(0);
  });

  it('knows a gzip, a zip and a tar by their first bytes', () => {
    expect(looksLikeArchive(gzipSync('x'))).toBe(true);
    expect(looksLikeArchive(Buffer.from('PK\x03\x04rest', 'latin1'))).toBe(true);
    expect(looksLikeArchive(TAR)).toBe(true);
    expect(looksLikeArchive(Buffer.from('hello'))).toBe(false);
  });
});
