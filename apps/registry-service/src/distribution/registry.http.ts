import { Injectable, Logger } from '@nestjs/common';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Readable } from 'node:stream';
import { RegistryAuth } from '../auth/registry-auth';
import type { Caller, Need } from '../auth/token-access';
import { ForgetDeletedImage } from '../imagestreams/forget-deleted-image.usecase';
import { inClientTrace } from '../tracing/client-trace';
import { BlobUploads } from './blob-uploads';
import { Blobs } from './blobs';
import { RegistryError, renderError } from './errors';
import { chunkStart, requestedRange, uploadRange } from './http-ranges';
import { assertManifestContentType, MANIFEST_SIZE_LIMIT, MEDIA_TYPES } from './manifest-format';
import { Manifests } from './manifests';
import { matchRoute, type RegistryRoute } from './names';
import { PushManifest } from './push-manifest.usecase';
import { RegistryMetadataRepository, type Page } from './registry-metadata.repository';

type Request = FastifyRequest<{ Querystring: Record<string, string | undefined> }>;
type Handler<R extends RegistryRoute> = (route: R, request: Request, reply: FastifyReply, caller: Caller) => Promise<unknown>;
type Routes = { [K in RegistryRoute['kind']]: Partial<Record<string, Handler<Extract<RegistryRoute, { kind: K }>>>> };

const API_VERSION_HEADER = { 'docker-distribution-api-version': 'registry/2.0' };

/**
 * The OCI Distribution API (`/v2/...`) on the service's Fastify instance. Fastify routes
 * cannot express names of any number of segments, so one catch-all route matches the path
 * against the spec's patterns (`matchRoute`) and dispatches by route and method. Request
 * bodies stay streams (blobs go to disk as they arrive), and every error leaves in the
 * spec's envelope from the one error table.
 */
@Injectable()
export class RegistryHttp {
  private readonly logger = new Logger('RegistryHttp');

  private readonly routes: Routes = {
    base: { GET: async () => ({}), HEAD: async () => ({}) },
    catalog: { GET: (_route, request, reply) => this.catalog(request, reply) },
    tags: { GET: (route, request, reply) => this.tags(route.name, request, reply) },
    manifest: {
      GET: (route, _request, reply) => this.getManifest(route.name, route.reference, reply, true),
      HEAD: (route, _request, reply) => this.getManifest(route.name, route.reference, reply, false),
      PUT: (route, request, reply) => this.putManifest(route.name, route.reference, request, reply),
      DELETE: async (route, _request, reply) => {
        await this.forgetDeletedImage.execute(route.name, await this.manifests.delete(route.name, route.reference));
        return reply.code(202).send();
      },
    },
    blob: {
      GET: (route, request, reply) => this.getBlob(route.name, route.digest, request, reply, true),
      HEAD: (route, request, reply) => this.getBlob(route.name, route.digest, request, reply, false),
      DELETE: async (route, _request, reply) => {
        await this.blobs.unlink(route.name, route.digest);
        return reply.code(202).header('content-length', 0).send();
      },
    },
    referrers: { GET: (route, request, reply) => this.referrers(route.name, route.digest, request, reply) },
    uploads: { POST: (route, request, reply, caller) => this.startUpload(route.name, request, reply, caller) },
    upload: {
      GET: async (route, _request, reply) => this.uploadProgress(reply.code(204), route.name, await this.uploads.status(route.name, route.uuid)),
      PATCH: async (route, request, reply) => {
        const start = chunkStart(request.headers['content-range']);
        return this.uploadProgress(reply.code(202), route.name, await this.uploads.append(route.name, route.uuid, bodyOf(request), start));
      },
      PUT: async (route, request, reply) => {
        const start = chunkStart(request.headers['content-range']);
        return this.created(reply, route.name, await this.uploads.complete(route.name, route.uuid, request.query.digest, bodyOf(request), start));
      },
      DELETE: async (route, _request, reply) => {
        await this.uploads.cancel(route.name, route.uuid);
        return reply.code(204).send();
      },
    },
  };

  constructor(
    private readonly blobs: Blobs,
    private readonly uploads: BlobUploads,
    private readonly manifests: Manifests,
    private readonly pushManifest: PushManifest,
    private readonly metadata: RegistryMetadataRepository,
    private readonly auth: RegistryAuth,
    private readonly forgetDeletedImage: ForgetDeletedImage,
  ) {}

  /** Registers `/v2` and `/v2/*` in a plugin scope of their own (body parsing, error rendering). */
  async register(app: FastifyInstance): Promise<void> {
    await app.register(async (scope) => {
      scope.removeAllContentTypeParsers();
      // Every body is handed over as the raw stream: blobs are never buffered.
      scope.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
      scope.setErrorHandler((error, _request, reply) => this.sendError(error, reply));
      const handler = (request: FastifyRequest, reply: FastifyReply) => this.dispatch(request as Request, reply);
      const method = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
      scope.route({ method, url: '/v2', handler });
      scope.route({ method, url: '/v2/*', handler });
    });
  }

  private async dispatch(request: Request, reply: FastifyReply) {
    reply.headers(API_VERSION_HEADER);
    const path = request.url.split('?')[0];
    const route = matchRoute(path);
    if (!route) {
      const invalidName = /^\/v2\/(.+)\/(?:tags|manifests|blobs)\//.exec(path);
      throw invalidName ? new RegistryError('NAME_INVALID', `invalid repository name "${invalidName[1]}"`) : new RegistryError('NAME_UNKNOWN', `no such endpoint ${path}`);
    }
    const handler = this.routes[route.kind][request.method] as Handler<RegistryRoute> | undefined;
    if (!handler) throw new RegistryError('UNSUPPORTED', `${request.method} is not supported on ${path}`);
    const attributes = { 'registry.operation': `${request.method} ${route.kind}`, ...('name' in route ? { 'registry.repository': route.name } : {}) };
    return inClientTrace(request.headers, `registry ${request.method} ${route.kind}`, attributes, async () => {
      const caller = await this.auth.authorize(request.headers.authorization, needOf(route, request.method));
      return handler(route, request, reply, caller);
    });
  }

  private sendError(error: unknown, reply: FastifyReply) {
    const { status, headers, body } = this.errorResponse(error);
    void reply.code(status).headers(headers).send(body);
  }

  /** The answer to an error, in the spec's envelope; what we did not expect is logged. */
  private errorResponse(error: unknown) {
    const { status, body, headers } = renderError(error);
    if (status >= 500) this.logger.error(error instanceof Error ? error : String(error));
    return { status, body, headers: { ...API_VERSION_HEADER, 'content-type': 'application/json', ...headers } };
  }

  private async catalog(request: Request, reply: FastifyReply) {
    const page = pageOf(request);
    const names = await this.metadata.listRepositories(withOneMore(page));
    return paginated(reply, '/v2/_catalog', page, names, (repositories) => ({ repositories }));
  }

  private async tags(name: string, request: Request, reply: FastifyReply) {
    if (!(await this.metadata.repositoryExists(name))) throw new RegistryError('NAME_UNKNOWN', `repository ${name} not known to registry`, { name });
    const page = pageOf(request);
    const tags = await this.metadata.listTags(name, withOneMore(page));
    return paginated(reply, `/v2/${name}/tags/list`, page, tags, (shown) => ({ name, tags: shown }));
  }

  private async getManifest(name: string, reference: string, reply: FastifyReply, withBody: boolean) {
    const manifest = withBody ? await this.manifests.read(name, reference) : { ...(await this.manifests.stat(name, reference)), content: undefined };
    reply.headers({ 'content-type': manifest.mediaType, 'content-length': manifest.size, 'docker-content-digest': manifest.digest, etag: `"${manifest.digest}"` });
    return reply.send(manifest.content);
  }

  private async putManifest(name: string, reference: string, request: Request, reply: FastifyReply) {
    if (Number(request.headers['content-length']) > MANIFEST_SIZE_LIMIT) throw tooLarge();
    assertManifestContentType(request.headers['content-type']);
    const body = await readManifestBody(bodyOf(request));
    const stored = await this.pushManifest.execute(name, reference, body, request.headers['content-type']);
    reply.headers({ location: `/v2/${name}/manifests/${stored.digest}`, 'docker-content-digest': stored.digest, 'content-length': 0 });
    // Tells the client this registry indexed the subject, so it need not maintain a referrers tag itself.
    if (stored.subject) reply.header('oci-subject', stored.subject);
    return reply.code(201).send();
  }

  /** The referrers API: an OCI index of the manifests whose subject is `digest`, empty when there are none. */
  private async referrers(name: string, digest: string, request: Request, reply: FastifyReply) {
    const artifactType = request.query.artifactType;
    const referrers = await this.manifests.referrers(name, digest);
    const shown = artifactType ? referrers.filter((r) => r.artifactType === artifactType) : referrers;
    if (artifactType) reply.header('oci-filters-applied', 'artifactType');
    const index = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociIndex,
      manifests: shown.map((r) => ({ mediaType: r.mediaType, digest: r.digest, size: r.size, artifactType: r.artifactType, annotations: r.annotations })),
    };
    // As bytes: Fastify would add `; charset=utf-8` to a serialized object's media type.
    return reply.header('content-type', MEDIA_TYPES.ociIndex).send(Buffer.from(JSON.stringify(index)));
  }

  private async getBlob(name: string, digest: string, request: Request, reply: FastifyReply, withBody: boolean) {
    const blob = withBody ? await this.blobs.stat(name, digest) : await this.blobs.check(name, digest);
    const range = requestedRange(request.headers.range, blob.size);
    reply.headers({
      'content-type': 'application/octet-stream',
      'docker-content-digest': blob.digest,
      etag: `"${blob.digest}"`,
      'accept-ranges': 'bytes',
      'cache-control': 'max-age=31536000',
      'content-length': range ? range.end - range.start + 1 : blob.size,
    });
    if (range) reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${blob.size}`);
    if (!withBody) return reply.send();
    return this.sendBlob(reply, blob.digest, range);
  }

  /**
   * Blob bytes bypass Fastify's stream handling: the store copies them to the socket
   * through reused buffers (see `copyFileRange`). The status and headers set on `reply`
   * go out with the first byte, so a blob that vanished before it (garbage collection)
   * still gets its error envelope.
   */
  private async sendBlob(reply: FastifyReply, digest: string, range: { start: number; end: number } | undefined) {
    reply.hijack();
    const response = reply.raw;
    response.statusCode = reply.statusCode;
    for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) response.setHeader(name, value);
    try {
      await this.blobs.copyTo(digest, response, range);
      response.end();
    } catch (error) {
      if (response.headersSent) return void response.destroy(error as Error);
      const { status, headers, body } = this.errorResponse(error);
      response.writeHead(status, headers).end(JSON.stringify(body));
    }
  }

  private async startUpload(name: string, request: Request, reply: FastifyReply, caller: Caller) {
    const { mount, from, digest } = request.query;
    if (mount) {
      // From `from` when the caller may pull from it; else from any repository it may pull
      // from that holds the blob; else an ordinary upload (never a mount from one it may not read).
      const mayPull = (source: string) => caller.can('repository', source, 'pull');
      const mounted = (from && mayPull(from) && (await this.uploads.mount(name, mount, from))) || (await this.uploads.mountFromAny(name, mount, mayPull));
      if (mounted) return this.created(reply, name, mounted);
    }
    if (digest) return this.created(reply, name, await this.uploads.monolithic(name, digest, bodyOf(request)));
    return this.uploadProgress(reply.code(202), name, await this.uploads.start(name));
  }

  private uploadProgress(reply: FastifyReply, name: string, upload: { id: string; size: number }) {
    reply.headers({ location: `/v2/${name}/blobs/uploads/${upload.id}`, range: uploadRange(upload.size), 'docker-upload-uuid': upload.id, 'content-length': 0 });
    return reply.send();
  }

  private created(reply: FastifyReply, name: string, blob: { digest: string }) {
    reply.headers({ location: `/v2/${name}/blobs/${blob.digest}`, 'docker-content-digest': blob.digest, 'content-length': 0 });
    return reply.code(201).send();
  }
}

/** What the caller's token must grant for `method` on `route`. */
function needOf(route: RegistryRoute, method: string): Need {
  switch (route.kind) {
    case 'base':
      return { type: 'login' };
    case 'catalog':
      return { type: 'registry', name: 'catalog', actions: ['*'] };
    case 'uploads':
    case 'upload':
      return { type: 'repository', name: route.name, actions: ['pull', 'push'] };
    default: {
      if (method === 'DELETE') return { type: 'repository', name: route.name, actions: ['delete'] };
      return { type: 'repository', name: route.name, actions: method === 'PUT' ? ['pull', 'push'] : ['pull'] };
    }
  }
}

/** The request body as a stream; an empty one when the request has none. */
function bodyOf(request: FastifyRequest): Readable {
  return request.body instanceof Readable ? request.body : Readable.from([]);
}

async function readManifestBody(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > MANIFEST_SIZE_LIMIT) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function tooLarge() {
  return new RegistryError('MANIFEST_TOO_LARGE', `manifests are limited to ${MANIFEST_SIZE_LIMIT} bytes`, { limit: MANIFEST_SIZE_LIMIT });
}

function pageOf(request: Request): Page {
  const { n, last } = request.query;
  if (n !== undefined && !/^\d+$/.test(n)) throw new RegistryError('PAGINATION_NUMBER_INVALID', `n must be a non-negative integer, not "${n}"`, { n });
  return { n: n === undefined ? undefined : Number(n), last: last || undefined };
}

/** One more than asked for, to know whether there is a next page. */
function withOneMore(page: Page): Page {
  return page.n === undefined ? page : { ...page, n: page.n + 1 };
}

/** The first `n` entries, with an RFC 5988 `Link` to the next page when there are more. */
function paginated(reply: FastifyReply, path: string, page: Page, entries: string[], body: (shown: string[]) => object) {
  const shown = page.n === undefined ? entries : entries.slice(0, page.n);
  if (page.n !== undefined && entries.length > page.n && shown.length) {
    reply.header('link', `<${path}?n=${page.n}&last=${encodeURIComponent(shown[shown.length - 1])}>; rel="next"`);
  }
  return reply.send(body(shown));
}
