import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { trace } from '@opentelemetry/api';
import type { EventEnvelope } from '@paas/contracts/events';
import { eventually } from '@paas/platform/testing';
import { EventBus } from '@paas/platform/events';
import { RpcClient } from '@paas/platform/rpc';
import { startTracing, stopTracing } from '@paas/platform/tracing';
import { getModelToken } from '@nestjs/mongoose';
import Docker from 'dockerode';
import type { Model } from 'mongoose';
import { OutboxRelay } from '@paas/platform/outbox';
import type { StoredResource } from '@paas/platform/resource-repository';
import { execFile } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startRegistry } from './support/in-process-registry';
import { RegistryMaintenance } from '../src/distribution/registry-maintenance';
import { BLOB_LINKS, RegistryMetadataRepository, type BlobLinkDoc } from '../src/distribution/registry-metadata.repository';
import { IMAGESTREAMS_COLLECTION, ImageStreamRepository } from '../src/imagestreams/imagestream.repository';
import { ImageStreamsService } from '../src/imagestreams/imagestreams.service';

const SUITE_LABEL = 'paas.dev/test=registry-service';
/** Asynchronous on purpose: the registry under test serves the engine from this very process. */
const run = async (command: string, args: string[]) => (await promisify(execFile)(command, args)).stdout;
const sha256 = (content: string | Buffer) => `sha256:${createHash('sha256').update(content).digest('hex')}`;

/**
 * The registry in this process on a free port, with a temporary PAAS_HOME, against the
 * real NATS, Mongo-compatible server and Docker engine (which may push to any 127.0.0.0/8
 * registry over plain HTTP).
 */
describe('registry-service', () => {
  const namespace = `rt-${randomUUID().slice(0, 8)}`;
  let registry: Awaited<ReturnType<typeof startRegistry>>;
  let app: NestFastifyApplication;
  let registryHost: string;
  let home: string;
  let base: string;

  beforeAll(async () => {
    // Tokens are checked in registry-auth.int-spec.ts; here the protocol is under test.
    // Spans are not exported, but trace context is real: the trace test reads it back from events.
    registry = await startRegistry('registry-int', { PAAS_DB_PREFIX: `test_${namespace.replace(/-/g, '_')}`, REGISTRY_AUTH: 'none' }, () => startTracing('registry-service-test'));
    ({ app, host: registryHost, home } = registry);
    base = `http://${registryHost}`;
    await registry.listen();
  });

  afterAll(async () => {
    await registry?.close(SUITE_LABEL);
    await stopTracing();
  });

  const api = (urlPath: string, init?: RequestInit) => fetch(`${base}${urlPath}`, init);
  const errorCode = async (res: Response) => ((await res.json()) as { errors: { code: string }[] }).errors[0].code;

  async function pushBlob(repository: string, content: string | Buffer): Promise<string> {
    const digest = sha256(content);
    const res = await api(`/v2/${repository}/blobs/uploads/?digest=${digest}`, { method: 'POST', body: content, headers: { 'content-type': 'application/octet-stream' } });
    expect(res.status).toBe(201);
    return digest;
  }

  describe('Distribution API', () => {
    it('answers the version check', async () => {
      const res = await api('/v2/');
      expect(res.status).toBe(200);
      expect(res.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
      expect(await res.json()).toEqual({});
    });

    it('takes a blob in chunks, serves it whole and in ranges, and mounts it into another repository', async () => {
      const repository = `${namespace}/chunks`;
      const started = await api(`/v2/${repository}/blobs/uploads/`, { method: 'POST' });
      expect(started.status).toBe(202);
      expect(started.headers.get('range')).toBe('0-0');
      const location = started.headers.get('location') as string;
      expect(location).toBe(`/v2/${repository}/blobs/uploads/${started.headers.get('docker-upload-uuid')}`);

      const chunk = await api(location, { method: 'PATCH', body: 'hello ', headers: { 'content-type': 'application/octet-stream', 'content-range': '0-5' } });
      expect([chunk.status, chunk.headers.get('range')]).toEqual([202, '0-5']);
      const outOfOrder = await api(location, { method: 'PATCH', body: 'x', headers: { 'content-type': 'application/octet-stream', 'content-range': '2-2' } });
      expect(outOfOrder.status).toBe(416);
      expect((await api(location)).headers.get('range')).toBe('0-5');

      const digest = sha256('hello world');
      const done = await api(`${location}?digest=${digest}`, { method: 'PUT', body: 'world', headers: { 'content-type': 'application/octet-stream' } });
      expect([done.status, done.headers.get('docker-content-digest'), done.headers.get('location')]).toEqual([201, digest, `/v2/${repository}/blobs/${digest}`]);

      const head = await api(`/v2/${repository}/blobs/${digest}`, { method: 'HEAD' });
      expect([head.status, head.headers.get('content-length'), head.headers.get('docker-content-digest')]).toEqual([200, '11', digest]);
      expect(await (await api(`/v2/${repository}/blobs/${digest}`)).text()).toBe('hello world');
      const range = await api(`/v2/${repository}/blobs/${digest}`, { headers: { range: 'bytes=6-' } });
      expect([range.status, range.headers.get('content-range'), await range.text()]).toEqual([206, 'bytes 6-10/11', 'world']);

      const other = `${namespace}/mounted`;
      expect((await api(`/v2/${other}/blobs/${digest}`, { method: 'HEAD' })).status).toBe(404);
      const mounted = await api(`/v2/${other}/blobs/uploads/?mount=${digest}&from=${repository}`, { method: 'POST' });
      expect([mounted.status, mounted.headers.get('docker-content-digest')]).toEqual([201, digest]);
      expect((await api(`/v2/${other}/blobs/${digest}`, { method: 'HEAD' })).status).toBe(200);
    });

    it('refuses an upload whose digest does not match with DIGEST_INVALID and stores nothing', async () => {
      const repository = `${namespace}/wrong`;
      const started = await api(`/v2/${repository}/blobs/uploads/`, { method: 'POST' });
      const location = started.headers.get('location') as string;
      await api(location, { method: 'PATCH', body: 'actual bytes', headers: { 'content-type': 'application/octet-stream' } });

      const res = await api(`${location}?digest=${sha256('claimed bytes')}`, { method: 'PUT' });
      expect(res.status).toBe(400);
      expect(await errorCode(res)).toBe('DIGEST_INVALID');
      const hex = sha256('actual bytes').slice('sha256:'.length);
      expect(existsSync(path.join(home, 'data', 'registry', 'blobs', 'sha256', hex.slice(0, 2), hex))).toBe(false);
      expect(await errorCode(await api(`/v2/${repository}/blobs/sha256:${hex}`, { method: 'HEAD' }).then(() => api(`/v2/${repository}/blobs/sha256:${hex}`)))).toBe('BLOB_UNKNOWN');
      expect(await errorCode(await api(location))).toBe('BLOB_UPLOAD_UNKNOWN');
    });

    it('stores manifests by the digest of their exact bytes, refusing ones that name missing blobs', async () => {
      const repository = `${namespace}/manifests`;
      const config = await pushBlob(repository, '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}');
      const layer = await pushBlob(repository, randomBytes(64));
      const manifest = (layers: string[]) =>
        JSON.stringify(
          {
            schemaVersion: 2,
            mediaType: 'application/vnd.oci.image.manifest.v1+json',
            config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config, size: 80 },
            layers: layers.map((digest) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest, size: 64 })),
          },
          null,
          3,
        );
      const headers = { 'content-type': 'application/vnd.oci.image.manifest.v1+json' };

      const missing = await api(`/v2/${repository}/manifests/v1`, { method: 'PUT', body: manifest([layer, sha256('never pushed')]), headers });
      expect(missing.status).toBe(400);
      expect(await errorCode(missing)).toBe('MANIFEST_BLOB_UNKNOWN');

      const body = manifest([layer]);
      const put = await api(`/v2/${repository}/manifests/v1`, { method: 'PUT', body, headers });
      expect([put.status, put.headers.get('docker-content-digest')]).toEqual([201, sha256(body)]);
      for (const reference of ['v1', sha256(body)]) {
        const got = await api(`/v2/${repository}/manifests/${reference}`);
        expect([got.status, got.headers.get('content-type'), got.headers.get('docker-content-digest'), await got.text()]).toEqual([200, headers['content-type'], sha256(body), body]);
      }
      const wrongDigest = await api(`/v2/${repository}/manifests/${sha256('other')}`, { method: 'PUT', body, headers });
      expect(await errorCode(wrongDigest)).toBe('DIGEST_INVALID');

      const unknown = await api(`/v2/${repository}/manifests/nope`);
      expect([unknown.status, await errorCode(unknown)]).toEqual([404, 'MANIFEST_UNKNOWN']);

      for (const tag of ['v2', 'a', 'b']) expect((await api(`/v2/${repository}/manifests/${tag}`, { method: 'PUT', body, headers })).status).toBe(201);
      expect(await (await api(`/v2/${repository}/tags/list`)).json()).toEqual({ name: repository, tags: ['a', 'b', 'v1', 'v2'] });
      const page = await api(`/v2/${repository}/tags/list?n=2&last=a`);
      expect(await page.json()).toEqual({ name: repository, tags: ['b', 'v1'] });
      expect(page.headers.get('link')).toBe(`</v2/${repository}/tags/list?n=2&last=v1>; rel="next"`);
      const unknownRepo = await api(`/v2/${namespace}/nothing/tags/list`);
      expect([unknownRepo.status, await errorCode(unknownRepo)]).toEqual([404, 'NAME_UNKNOWN']);

      expect((await api(`/v2/${repository}/manifests/${sha256(body)}`, { method: 'DELETE' })).status).toBe(202);
      expect((await api(`/v2/${repository}/manifests/v1`)).status).toBe(404);
    });

    it('answers malformed manifests with a 4xx in the error envelope, never a 5xx, and stores none', async () => {
      const repository = `${namespace}/malformed`;
      const oci = 'application/vnd.oci.image.manifest.v1+json';
      const cases: [what: string, body: string | Buffer, contentType: string, status: number, code: string][] = [
        ['nested 100,000 deep', `{"schemaVersion":2,"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`, oci, 400, 'MANIFEST_INVALID'],
        ['100,001 keys', `{${Array.from({ length: 100_001 }, (_, i) => `"k${i}":0`).join(',')}}`, oci, 400, 'MANIFEST_INVALID'],
        ['over 4 MiB', Buffer.alloc(5 * 1024 * 1024, ' '), oci, 413, 'MANIFEST_TOO_LARGE'],
        ['sent as text/plain', '{"schemaVersion":2}', 'text/plain', 415, 'UNSUPPORTED_MEDIA_TYPE'],
        ['sent as a form', 'schemaVersion=2', 'application/x-www-form-urlencoded', 415, 'UNSUPPORTED_MEDIA_TYPE'],
        ['not JSON', '{"schemaVersion":', oci, 400, 'MANIFEST_INVALID'],
        ['a JSON array', '[]', oci, 400, 'MANIFEST_INVALID'],
      ];
      for (const [what, body, contentType, status, code] of cases) {
        const res = await api(`/v2/${repository}/manifests/v1`, { method: 'PUT', body, headers: { 'content-type': contentType } });
        expect([what, res.status, await errorCode(res)]).toEqual([what, status, code]);
      }
      expect((await api(`/v2/${repository}/tags/list`)).status).toBe(404);
    });
  });

  describe('content management and discovery', () => {
    const ociHeaders = { 'content-type': 'application/vnd.oci.image.manifest.v1+json' };
    async function pushImage(repository: string, layer: Buffer, extra: object = {}) {
      const config = await pushBlob(repository, '{}');
      const layerDigest = await pushBlob(repository, layer);
      const body = JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config, size: 2 },
        layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length }],
        ...extra,
      });
      const put = await api(`/v2/${repository}/manifests/${sha256(body)}`, { method: 'PUT', body, headers: ociHeaders });
      expect(put.status).toBe(201);
      return { digest: sha256(body), size: body.length, layer: layerDigest, subjectHeader: put.headers.get('oci-subject') };
    }

    it('forgets the repository of a deleted ImageStream: its tags, manifests and blob links', async () => {
      const repository = `${namespace}/forgotten`;
      const image = await pushImage(repository, randomBytes(32));
      const body = await (await api(`/v2/${repository}/manifests/${image.digest}`, { headers: { accept: ociHeaders['content-type'] } })).text();
      expect((await api(`/v2/${repository}/manifests/v1`, { method: 'PUT', body, headers: ociHeaders })).status).toBe(201);
      await app.get(ImageStreamsService).delete({ namespace, name: 'forgotten' });
      expect((await api(`/v2/${repository}/manifests/v1`)).status).toBe(404);
      expect((await api(`/v2/${repository}/manifests/${image.digest}`)).status).toBe(404);
      expect((await api(`/v2/${repository}/blobs/${image.layer}`, { method: 'HEAD' })).status).toBe(404);
      expect((await api(`/v2/${repository}/tags/list`)).status).toBe(404);
    });

    it("answers a namespace's blobs for its quota from one read a second, with this process's links and unlinks", async () => {
      const metadata = app.get(RegistryMetadataRepository);
      const links = app.get<Model<BlobLinkDoc>>(getModelToken(BLOB_LINKS));
      const held = `${namespace}-held`;
      const reads = jest.spyOn(links, 'find');
      const readsOfHeld = () => reads.mock.calls.filter(([filter]) => JSON.stringify(filter).includes(held)).length;
      await metadata.linkBlob(`${held}/a`, 'sha256:aa', 10);
      expect(await metadata.namespaceBlobs(held)).toEqual(new Map([['sha256:aa', 10]]));
      // Another replica's link is not seen within the second; this process's own are.
      await links.create({ _id: `${held}/b@sha256:bb`, repository: `${held}/b`, digest: 'sha256:bb', size: 20 });
      await metadata.linkBlob(`${held}/a`, 'sha256:cc', 30);
      expect(await metadata.namespaceBlobs(held)).toEqual(new Map([['sha256:aa', 10], ['sha256:cc', 30]]));
      expect(readsOfHeld()).toBe(1);
      // An unlink here reads again.
      await metadata.unlinkBlob(`${held}/a`, 'sha256:aa');
      expect(await metadata.namespaceBlobs(held)).toEqual(new Map([['sha256:bb', 20], ['sha256:cc', 30]]));
      await links.create({ _id: `${held}/b@sha256:dd`, repository: `${held}/b`, digest: 'sha256:dd', size: 40 });
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      expect((await metadata.namespaceBlobs(held)).get('sha256:dd')).toBe(40);
      expect(readsOfHeld()).toBe(3);
      reads.mockRestore();
    });

    it('indexes manifests by subject for the referrers API, filtered by artifact type on request', async () => {
      const repository = `${namespace}/referrers`;
      const subject = await pushImage(repository, randomBytes(32));
      expect(subject.subjectHeader).toBeNull();
      const about = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: subject.digest, size: subject.size };
      const signature = await pushImage(repository, randomBytes(16), { artifactType: 'application/vnd.example.signature', subject: about, annotations: { signer: 'ci' } });
      expect(signature.subjectHeader).toBe(subject.digest);
      const sbom = await pushImage(repository, randomBytes(16), { artifactType: 'application/vnd.example.sbom', subject: about });

      const all = await api(`/v2/${repository}/referrers/${subject.digest}`);
      expect([all.status, all.headers.get('content-type'), all.headers.get('oci-filters-applied')]).toEqual([200, 'application/vnd.oci.image.index.v1+json', null]);
      const index = (await all.json()) as { manifests: { digest: string; artifactType: string; annotations?: object }[] };
      expect(index).toMatchObject({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json' });
      expect(index.manifests.map((m) => [m.digest, m.artifactType])).toEqual([
        [signature.digest, 'application/vnd.example.signature'],
        [sbom.digest, 'application/vnd.example.sbom'],
      ]);
      expect(index.manifests[0].annotations).toEqual({ signer: 'ci' });

      const filtered = await api(`/v2/${repository}/referrers/${subject.digest}?artifactType=application/vnd.example.sbom`);
      expect(filtered.headers.get('oci-filters-applied')).toBe('artifactType');
      expect(((await filtered.json()) as { manifests: { digest: string }[] }).manifests.map((m) => m.digest)).toEqual([sbom.digest]);
      expect(await (await api(`/v2/${repository}/referrers/${sha256('nothing refers to this')}`)).json()).toMatchObject({ manifests: [] });
      expect(await errorCode(await api(`/v2/${repository}/referrers/sha256:nope`))).toBe('DIGEST_INVALID');
    });

    it('deletes a blob from a repository, and collects the bytes no manifest needs once the grace period is over', async () => {
      const repository = `${namespace}/collected`;
      const image = await pushImage(repository, randomBytes(64));
      const orphan = await pushBlob(repository, randomBytes(48));
      const unlinked = await pushBlob(`${namespace}/other`, randomBytes(40));
      expect((await api(`/v2/${namespace}/other/blobs/${unlinked}`, { method: 'DELETE' })).status).toBe(202);
      expect((await api(`/v2/${namespace}/other/blobs/${unlinked}`, { method: 'HEAD' })).status).toBe(404);
      expect(await errorCode(await api(`/v2/${namespace}/other/blobs/${unlinked}`, { method: 'DELETE' }))).toBe('BLOB_UNKNOWN');

      const maintenance = app.get(RegistryMaintenance);
      const now = await maintenance.collectGarbage();
      expect(now.deleted).toEqual([]);
      expect(now.spared).toBeGreaterThanOrEqual(2);

      const later = await maintenance.collectGarbage(new Date(Date.now() + 2 * 3600_000));
      expect(later.deleted).toEqual(expect.arrayContaining([orphan, unlinked]));
      expect(later.deleted).not.toContain(image.layer);
      expect((await api(`/v2/${repository}/blobs/${orphan}`, { method: 'HEAD' })).status).toBe(404);
      const layer = await api(`/v2/${repository}/blobs/${image.layer}`);
      expect([layer.status, (await layer.arrayBuffer()).byteLength]).toEqual([200, 64]);
      expect((await api(`/v2/${repository}/manifests/${image.digest}`)).status).toBe(200);

      expect((await api(`/v2/${repository}/manifests/${image.digest}`, { method: 'DELETE' })).status).toBe(202);
      expect((await maintenance.collectGarbage(new Date(Date.now() + 2 * 3600_000))).deleted).toEqual(expect.arrayContaining([image.digest, image.layer]));
    });

    it('takes what the registry deletes out of the ImageStream, so a stream never offers an image it cannot serve', async () => {
      const repository = `${namespace}/gone`;
      const first = await pushImage(repository, randomBytes(24));
      const second = await pushImage(repository, randomBytes(24));
      const manifestOf = async (digest: string) => (await api(`/v2/${repository}/manifests/${digest}`)).text();
      for (const [tag, image] of [['v1', first], ['v2', second], ['v3', second]] as const) {
        expect((await api(`/v2/${repository}/manifests/${tag}`, { method: 'PUT', body: await manifestOf(image.digest), headers: ociHeaders })).status).toBe(201);
      }
      const tagsOfStream = async () => (await app.get(ImageStreamsService).get({ namespace, name: 'gone' })).status.tags.map((t) => t.tag);
      expect(await tagsOfStream()).toEqual(['v1', 'v2', 'v3']);

      expect((await api(`/v2/${repository}/manifests/v1`, { method: 'DELETE' })).status).toBe(202);
      expect(await tagsOfStream()).toEqual(['v2', 'v3']);
      expect((await api(`/v2/${repository}/manifests/${second.digest}`, { method: 'DELETE' })).status).toBe(202);
      expect(await tagsOfStream()).toEqual([]);
      expect((await api(`/v2/${repository}/manifests/v2`)).status).toBe(404);
    });

    it('expires upload sessions nobody wrote to for a day', async () => {
      const started = await api(`/v2/${namespace}/abandoned/blobs/uploads/`, { method: 'POST' });
      const location = started.headers.get('location') as string;
      await api(location, { method: 'PATCH', body: 'half a layer', headers: { 'content-type': 'application/octet-stream' } });
      const maintenance = app.get(RegistryMaintenance);
      expect(await maintenance.expireUploads()).toEqual([]);
      expect(await maintenance.expireUploads(new Date(Date.now() + 25 * 3600_000))).toContain(started.headers.get('docker-upload-uuid'));
      expect(await errorCode(await api(location))).toBe('BLOB_UPLOAD_UNKNOWN');
    });
  });

  describe('ImageStreams', () => {
    it('publishes an event a write recorded but did not send, once, from the relay', async () => {
      const received: string[] = [];
      await app.get(EventBus).subscribe(
        'imagestream.updated',
        async (event) => {
          if (event.data.namespace === namespace && event.data.name === 'owed') received.push(event.data.image);
        },
        { everyReplica: true },
      );
      await app.get(ImageStreamsService).create({ namespace, body: { metadata: { name: 'owed' } } });
      const image = sha256('owed image');
      const item = { created: new Date().toISOString(), dockerImageReference: `${registryHost}/${namespace}/owed@${image}`, image, generation: 1 };
      // The write of a push whose process died before it published: the version it inserted owes the event.
      const stream = await app.get(ImageStreamRepository).get(namespace, 'owed');
      const written = { ...stream, metadata: { ...stream.metadata, resourceVersion: String(Number(stream.metadata.resourceVersion) + 1) }, status: { ...stream.status, tags: [{ tag: 'v1', items: [item] }] } };
      const owed = { id: `test-${written.metadata.uid}-${written.metadata.resourceVersion}`, type: 'imagestream.updated', data: { namespace, name: 'owed', tag: 'v1', ...item } };
      await app.get<Model<StoredResource>>(getModelToken(IMAGESTREAMS_COLLECTION)).create({
        _id: `${namespace}/owed@${written.metadata.resourceVersion}`,
        namespace,
        name: 'owed',
        rv: Number(written.metadata.resourceVersion),
        labels: [],
        doc: JSON.stringify(written),
        outbox: [JSON.stringify(owed)],
      });

      const relay = app.get(OutboxRelay);
      expect(await relay.sweep()).toBe(1);
      expect(await relay.sweep()).toBe(0);
      await eventually('the owed event to arrive', async () => (received.length ? received : undefined), 10_000);
      expect(received).toEqual([image]);
    });

    it('validates input and creates a stream that names its registry repository', async () => {
      const service = app.get(ImageStreamsService);
      await expect(service.create({ namespace, body: { metadata: { name: 'Bad_Name' } } })).rejects.toMatchObject({ status: { code: 422, details: { causes: [expect.objectContaining({ field: 'metadata.name' })] } } });
      const created = await service.create({ namespace, body: { metadata: { name: 'created', labels: { app: 'x' } } } });
      expect(created.status).toEqual({ dockerImageRepository: `${registryHost}/${namespace}/created`, tags: [] });
      expect((await service.list({ namespace, labelSelector: 'app=x' })).items.map((s) => s.metadata.name)).toEqual(['created']);
      const stale = { metadata: { name: 'created', resourceVersion: '0' }, spec: { tags: [] } };
      await expect(service.update({ namespace, name: 'created', body: stale })).rejects.toMatchObject({ status: { code: 409 } });
      await expect(service.delete({ namespace, name: 'created' })).resolves.toMatchObject({ status: 'Success' });
      await expect(service.get({ namespace, name: 'created' })).rejects.toMatchObject({ status: { code: 404 } });
    });
  });

  describe('with the Docker engine', () => {
    const image = () => `${registryHost}/${namespace}/img:v1`;

    it('takes a docker push, serves a docker pull that runs, and moves the ImageStream tag', async () => {
      await importImage(image(), 'one');
      const digest = await dockerPush(image());
      await run('docker', ['rmi', image()]);
      await run('docker', ['pull', image()]);
      await run('docker', ['run', '--rm', '--label', SUITE_LABEL, image(), '/bin/busybox', 'true']);

      const stream = await app.get(ImageStreamsService).get({ namespace, name: 'img' });
      expect(stream.status.tags).toEqual([{ tag: 'v1', items: [expect.objectContaining({ image: digest, dockerImageReference: `${registryHost}/${namespace}/img@${digest}` })] }]);
    });

    it('keeps the tag history newest first and continues the pushing client\'s trace from its User-Agent', async () => {
      const traceId = randomBytes(16).toString('hex');
      const userAgent = `paas-build-service/0.1.0 traceparent/00-${traceId}-${randomBytes(8).toString('hex')}-01`;
      const updated = new Promise<{ event: EventEnvelope<'imagestream.updated'>; traceId?: string }>((resolve) =>
        app.get(EventBus).subscribe(
          'imagestream.updated',
          async (event) => {
            if (event.data.namespace === namespace) resolve({ event, traceId: trace.getActiveSpan()?.spanContext().traceId });
          },
          { everyReplica: true },
        ),
      );

      await importImage(image(), 'two');
      const docker = new Docker({ headers: { 'User-Agent': userAgent } });
      const progress = await docker.getImage(`${registryHost}/${namespace}/img`).push({ tag: 'v1' });
      const events: { error?: string; aux?: { Digest?: string } }[] = await new Promise((resolve, reject) => docker.modem.followProgress(progress, (error, out) => (error ? reject(error) : resolve(out))));
      expect(events.filter((e) => e.error)).toEqual([]);
      const digest = events.find((e) => e.aux?.Digest)?.aux?.Digest;

      const { event, traceId: seenTraceId } = await updated;
      expect(event.data).toMatchObject({ name: 'img', tag: 'v1', image: digest });
      expect(seenTraceId).toBe(traceId);
      const stream = await app.get(ImageStreamsService).get({ namespace, name: 'img' });
      expect(stream.status.tags[0].items.map((item) => item.image)).toEqual([digest, expect.not.stringMatching(digest as string)]);
    });
  });

  describe('tag references', () => {
    it('moves a tag that follows another stream tag with each push, and serves it from its own repository', async () => {
      const service = app.get(ImageStreamsService);
      const source = `${registryHost}/${namespace}/img:v1`;
      const current = (await service.get({ namespace, name: 'img' })).status.tags[0].items[0].image;
      const promo = await service.create({ namespace, body: { metadata: { name: 'promo' }, spec: { tags: [{ name: 'prod', from: { kind: 'ImageStreamTag', name: 'img:v1' } }] } } });
      expect(promo.status.tags).toEqual([{ tag: 'prod', items: [expect.objectContaining({ image: current, dockerImageReference: `${registryHost}/${namespace}/promo@${current}` })] }]);
      expect((await api(`/v2/${namespace}/promo/manifests/prod`)).headers.get('docker-content-digest')).toBe(current);

      await importImage(source, 'three');
      const pushed = await dockerPush(source);
      const followed = await service.get({ namespace, name: 'promo' });
      expect(followed.status.tags[0].items.map((item) => item.image)).toEqual([pushed, current]);
      // Over the bus, as the deploy-service asks: the name passes the RPC edge check.
      expect(await app.get(RpcClient).request('imagestreamtags.get', { namespace, name: 'promo:prod' })).toMatchObject({
        kind: 'ImageStreamTag',
        metadata: { name: 'promo:prod', uid: followed.metadata.uid, resourceVersion: followed.metadata.resourceVersion },
        tag: { from: { name: 'img:v1' } },
        image: { image: pushed },
        historyLength: 2,
      });
      await expect(service.getTag({ namespace, name: 'promo:none' })).rejects.toMatchObject({ status: { code: 404 } });
      await expect(service.getTag({ namespace, name: 'no-colon' })).rejects.toMatchObject({ status: { code: 400 } });
      await run('docker', ['pull', `${registryHost}/${namespace}/promo:prod`]);
      expect(await run('docker', ['run', '--rm', '--label', SUITE_LABEL, `${registryHost}/${namespace}/promo:prod`, '/bin/busybox', 'cat', '/variant'])).toBe('three');

      await expect(service.create({ namespace, body: { metadata: { name: 'bad' }, spec: { tags: [{ name: 'x', from: { kind: 'ImageStreamTag', name: 'no-tag' } }] } } })).rejects.toMatchObject({
        status: { code: 422, details: { causes: [expect.objectContaining({ field: 'spec.tags.0.from.name' })] } },
      });
    });
  });

  /** A one-layer image of busybox plus a marker file, so each variant has its own digest. */
  async function importImage(reference: string, variant: string) {
    const root = await mkdtemp(path.join(os.tmpdir(), 'registry-img-'));
    await mkdir(path.join(root, 'bin'));
    await copyFile('/bin/busybox', path.join(root, 'bin', 'busybox'));
    await writeFile(path.join(root, 'variant'), variant);
    await run('sh', ['-c', `tar -C "${root}" -c . | docker import --change 'LABEL ${SUITE_LABEL}' - "${reference}"`]);
    await rm(root, { recursive: true, force: true });
  }
});

/** `docker push`, answering the digest it reports. */
async function dockerPush(reference: string): Promise<string> {
  const output = await run('docker', ['push', reference]);
  const digest = /digest: (sha256:[0-9a-f]{64})/.exec(output)?.[1];
  if (!digest) throw new Error(`docker push reported no digest:\n${output}`);
  return digest;
}
