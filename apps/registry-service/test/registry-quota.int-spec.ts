import type { Namespace } from '@paas/contracts/namespaces';
import { ApiError } from '@paas/platform/api-error';
import { RpcServer } from '@paas/platform/rpc';
import { execFile } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startRegistry } from './support/in-process-registry';

const SUITE_LABEL = 'paas.dev/test=registry-quota';
const QUOTA_ANNOTATION = 'paas.dev/registry-storage-quota';
const sha256 = (content: Buffer) => `sha256:${createHash('sha256').update(content).digest('hex')}`;
const run = async (command: string, args: string[]) => promisify(execFile)(command, args);

/**
 * The registry's storage quota per namespace, with the registry in this process against the
 * real NATS, Mongo-compatible server and Docker engine. The test plays the api-gateway: it
 * answers `namespaces.get` on the isolated bus with namespaces whose annotations it sets.
 */
describe('registry-service namespace storage quota', () => {
  const id = randomUUID().slice(0, 8);
  const [small, large, unknown] = [`rq-small-${id}`, `rq-large-${id}`, `rq-unknown-${id}`];
  /** What the gateway would answer: namespace → its quota annotation (absent: none). */
  const annotations = new Map<string, string | undefined>([
    [small, '1Ki'],
    [large, '8Mi'],
  ]);
  let registry: Awaited<ReturnType<typeof startRegistry>>;
  let host: string;

  beforeAll(async () => {
    registry = await startRegistry('registry-quota', { PAAS_DB_PREFIX: `test_rq_${id}`, REGISTRY_AUTH: 'none', REGISTRY_NAMESPACE_QUOTA: '4Ki', REGISTRY_QUOTA_CACHE_SECONDS: '1' });
    host = registry.host;
    registry.app.get(RpcServer).handle('namespaces.get', async ({ name }) => {
      if (!annotations.has(name)) throw ApiError.notFound('Namespace', name);
      const quota = annotations.get(name);
      return { metadata: { name, annotations: quota === undefined ? {} : { [QUOTA_ANNOTATION]: quota } } } as Namespace;
    });
    await registry.listen();
  });
  afterAll(() => registry?.close(SUITE_LABEL));

  const api = (urlPath: string, init?: RequestInit) => fetch(`http://${host}${urlPath}`, init);
  const errorOf = async (res: Response) => ((await res.json()) as { errors: { code: string; message: string; detail: Record<string, unknown> }[] }).errors[0];
  const push = (repository: string, content: Buffer) =>
    api(`/v2/${repository}/blobs/uploads/?digest=${sha256(content)}`, { method: 'POST', body: content, headers: { 'content-type': 'application/octet-stream' } });

  it('refuses a blob that does not fit its namespace\'s quota with DENIED, saying how much is used', async () => {
    expect((await push(`${small}/app`, randomBytes(700))).status).toBe(201);
    const refused = await push(`${small}/app`, randomBytes(700));
    expect(refused.status).toBe(403);
    const error = await errorOf(refused);
    expect(error).toMatchObject({ code: 'DENIED', detail: { namespace: small, quota: 1024, used: 700, size: 700 } });
    expect(error.message).toBe(`the registry quota of namespace "${small}" is 1 KiB, 700 B of it used: this blob of 700 B does not fit (delete images there, or ask a cluster-admin to raise ${QUOTA_ANNOTATION})`);
  });

  it('counts a blob once in its namespace, however many repositories hold it, and anew in another', async () => {
    const layer = randomBytes(600);
    expect((await push(`${large}/one`, layer)).status).toBe(201);
    expect((await push(`${small}/app`, layer)).status).toBe(403); // 700 + 600 > 1 KiB
    const firstNamespaceAgain = await push(`${large}/two`, layer);
    expect(firstNamespaceAgain.status).toBe(201);
    const mounted = await api(`/v2/${large}/three/blobs/uploads/?mount=${sha256(layer)}&from=${large}/one`, { method: 'POST' });
    expect(mounted.status).toBe(201);
    const mountedAcross = await api(`/v2/${small}/other/blobs/uploads/?mount=${sha256(layer)}&from=${large}/one`, { method: 'POST' });
    expect([mountedAcross.status, (await errorOf(mountedAcross)).code]).toEqual([403, 'DENIED']);
  });

  it('gives a namespace the gateway does not know, or one without the annotation, the default; an annotation change counts within the cache time', async () => {
    expect((await push(`${unknown}/app`, randomBytes(3000))).status).toBe(201);
    expect((await push(`${unknown}/app`, randomBytes(3000))).status).toBe(403); // default 4 KiB
    annotations.set(unknown, '16Ki');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await push(`${unknown}/app`, randomBytes(3000))).status).toBe(201);
  });

  it('stops a chunked upload that grows past the whole quota while it streams', async () => {
    const started = await api(`/v2/${small}/big/blobs/uploads/`, { method: 'POST' });
    const location = started.headers.get('location') as string;
    const chunk = await api(location, { method: 'PATCH', body: randomBytes(2048), headers: { 'content-type': 'application/octet-stream' } });
    expect([chunk.status, (await errorOf(chunk)).message]).toEqual([403, expect.stringContaining('larger than the whole registry quota')]);
    expect((await api(location)).status).toBe(404);
  });

  it('fails a docker push over the quota with the registry\'s message, and takes one within it', async () => {
    const image = `${host}/${large}/img:v1`;
    await importImage(image);
    await run('docker', ['push', image]);
    const refused = `${host}/${small}/img:v1`;
    await run('docker', ['tag', image, refused]);
    const failure = await run('docker', ['push', refused]).then(
      () => undefined,
      (error: { stdout?: string; stderr?: string }) => `${error.stdout}\n${error.stderr}`,
    );
    // Refused as it streams (larger than the whole quota) or, mounted from the other namespace, when it would link.
    expect(failure).toMatch(new RegExp(`denied: .*registry quota of namespace "${small}" (is |\\()1 KiB`));
  });

  /** A one-layer image of busybox (some 1 MiB compressed), with a file of random bytes so its layer is new. */
  async function importImage(reference: string) {
    const root = await mkdtemp(path.join(os.tmpdir(), 'registry-quota-img-'));
    await mkdir(path.join(root, 'bin'));
    await copyFile('/bin/busybox', path.join(root, 'bin', 'busybox'));
    await run('sh', ['-c', `head -c 1024 /dev/urandom > "${root}/random" && tar -C "${root}" -c . | docker import --change 'LABEL ${SUITE_LABEL}' - "${reference}"`]);
    await rm(root, { recursive: true, force: true });
  }
});
