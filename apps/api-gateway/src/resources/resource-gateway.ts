import { Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { TERMINAL_BUILD_PHASES } from '@paas/contracts/builds';
import type { DeploymentLogOptions, PodLogOptions } from '@paas/contracts/deployments';
import { allows, RESOURCE_OWNERS, RESOURCE_VERBS, resourceMethod, type ListRequest, type Plural, type RpcRequest, type Verb } from '@paas/contracts/rpc';
import { ApiError } from '@paas/platform/api-error';
import { RpcClient } from '@paas/platform/rpc';
import type { Principal } from '../auth/principal';
import { NamespacesService, assertNamespaceName } from '../namespaces/namespaces.service';
import { CREATE_TIMEOUT_MS } from '../timeouts';
import { ResourceWakeups } from './resource-wakeups';

const LOG_POLL_INTERVAL_MS = 250;
/**
 * After a read that brought output, how long a follower waits before the next: a busy log
 * reaches its client in batches, not at one read (two processes' work) per line written.
 */
const LOG_BATCH_MS = 100;

/**
 * The REST verbs on `/api/v1/namespaces/{ns}/{plural}` as requests to the service that
 * owns the plural; the owner's Status errors pass through with their codes.
 */
@Injectable()
export class ResourceGateway {
  constructor(
    private readonly rpc: RpcClient,
    private readonly namespaces: NamespacesService,
    private readonly wakeups: ResourceWakeups,
  ) {}

  /** One page when `page.limit` is set (`metadata.continue` of the answer asks for the next). */
  list(namespace: string, plural: string, page: Omit<ListRequest, 'namespace'> = {}) {
    return this.call(namespace, plural, 'list', { ...page, namespace });
  }

  get(namespace: string, plural: string, name: string) {
    return this.call(namespace, plural, 'get', { namespace, name });
  }

  /** A create in a namespace that does not exist yet creates it, with `creator` as its admin. */
  async create(namespace: string, plural: string, body: unknown, dryRun: boolean, creator?: Principal) {
    assertBodyNamespace(namespace, body);
    await this.namespaces.assertWritable(namespace);
    const created = await this.call(namespace, plural, 'create', { namespace, body, dryRun }, CREATE_TIMEOUT_MS);
    // Recorded only once something exists in it: a refused create leaves no namespace behind.
    if (!dryRun) await this.namespaces.ensure(namespace, creator);
    return created;
  }

  update(namespace: string, plural: string, name: string, body: unknown) {
    assertBodyNamespace(namespace, body);
    const bodyName = (body as { metadata?: { name?: unknown } })?.metadata?.name;
    if (bodyName !== undefined && bodyName !== name) {
      throw ApiError.of('BadRequest', `the name of the object (${String(bodyName)}) does not match the name on the URL (${name})`);
    }
    return this.call(namespace, plural, 'update', { namespace, name, body });
  }

  delete(namespace: string, plural: string, name: string) {
    return this.call(namespace, plural, 'delete', { namespace, name });
  }

  instantiate(namespace: string, name: string, message?: string) {
    assertNamespaceName(namespace);
    return this.rpc.request('buildconfigs.instantiate', { namespace, name, message });
  }

  cancelBuild(namespace: string, name: string) {
    assertNamespaceName(namespace);
    return this.rpc.request('builds.cancel', { namespace, name });
  }

  rollOut(namespace: string, name: string) {
    assertNamespaceName(namespace);
    return this.rpc.request('deploymentconfigs.instantiate', { namespace, name });
  }

  rollBack(namespace: string, name: string, body: unknown) {
    assertNamespaceName(namespace);
    return this.rpc.request('deploymentconfigs.rollback', { namespace, name, body });
  }

  cancelRollout(namespace: string, name: string) {
    assertNamespaceName(namespace);
    return this.rpc.request('deploymentconfigs.cancel', { namespace, name });
  }

  scale(namespace: string, name: string, body: unknown) {
    assertNamespaceName(namespace);
    const replicas = (body as { spec?: { replicas?: unknown } })?.spec?.replicas;
    if (!Number.isInteger(replicas) || (replicas as number) < 0 || (replicas as number) > 100) {
      throw ApiError.invalid('Scale', name, 'spec.replicas', 'must be an integer from 0 to 100');
    }
    return this.rpc.request('deploymentconfigs.scale', { namespace, name, replicas: replicas as number });
  }

  /**
   * The build log; with `follow`, new output as it is written until the build ends or
   * `signal` aborts (the client went away).
   */
  async *buildLog(namespace: string, name: string, follow: boolean, signal?: AbortSignal): AsyncGenerator<string> {
    assertNamespaceName(namespace);
    // Followed from before the first read: the build's end (a change of it) wakes the follower at once.
    const wakeup = follow ? this.wakeups.follow('Build', namespace, name) : undefined;
    try {
      let offset = 0;
      while (!signal?.aborted) {
        const chunk = await this.rpc.request('builds.log', { namespace, name, offset });
        if (chunk.log) yield chunk.log;
        offset = chunk.nextOffset;
        const finished = TERMINAL_BUILD_PHASES.includes(chunk.phase);
        if (!wakeup || (finished && !chunk.log)) return;
        // A build that ended is read to its end at once.
        if (!finished) await wakeup.next(chunk.log ? LOG_BATCH_MS : LOG_POLL_INTERVAL_MS, signal);
      }
    } finally {
      wakeup?.stop();
    }
  }

  /**
   * What a pod's container wrote; with `follow`, what it writes next, read again from the
   * last line's time on (LOG_BATCH_MS after output, the poll interval after none), until it
   * stops and nothing more comes or `signal` aborts. Across a restart the follower goes on
   * with the new container.
   */
  async *podLog(namespace: string, name: string, options: PodLogOptions, follow: boolean, signal?: AbortSignal): AsyncGenerator<string> {
    assertNamespaceName(namespace);
    if (!follow) {
      yield (await this.rpc.request('pods.log', { namespace, name, ...options })).log;
      return;
    }
    let request: PodLogOptions = { ...options, timestamps: true };
    while (!signal?.aborted) {
      const chunk = await this.rpc.request('pods.log', { namespace, name, ...request });
      const lines = chunk.log.split('\n').filter(Boolean);
      const last = lines.at(-1);
      if (last) {
        request = { previous: options.previous, timestamps: true, sinceTime: last.slice(0, last.indexOf(' ')) };
        yield `${lines.map((line) => (options.timestamps ? line : line.slice(line.indexOf(' ') + 1))).join('\n')}\n`;
      }
      if (!chunk.running && !last) return;
      await sleep(last ? LOG_BATCH_MS : LOG_POLL_INTERVAL_MS, undefined, { signal }).catch(() => undefined);
    }
  }

  /**
   * A revision's rollout log; with `follow`, what its next steps add, read again from where
   * the last read ended (as a pod's log is), until the log is complete and nothing more
   * comes or `signal` aborts. A follower stays with the revision it first read.
   */
  async *deploymentLog(namespace: string, name: string, options: DeploymentLogOptions, follow: boolean, signal?: AbortSignal): AsyncGenerator<string> {
    assertNamespaceName(namespace);
    let request: DeploymentLogOptions & { offset?: number } = options;
    while (!signal?.aborted) {
      const chunk = await this.rpc.request('deploymentconfigs.log', { namespace, name, ...request });
      if (chunk.log) yield chunk.log;
      request = { version: chunk.version, offset: chunk.nextOffset, ...(options.timestamps ? { timestamps: true } : {}) };
      if (!follow || (chunk.complete && !chunk.log)) return;
      await sleep(chunk.log ? LOG_BATCH_MS : LOG_POLL_INTERVAL_MS, undefined, { signal }).catch(() => undefined);
    }
  }

  private call(namespace: string, plural: string, verb: Verb, request: object, timeoutMs?: number) {
    assertNamespaceName(namespace);
    const known = knownPlural(plural);
    if (!allows(known, verb)) {
      throw ApiError.of('MethodNotAllowed', `${plural} cannot be ${PAST_TENSE[verb]} through the API; allowed: ${RESOURCE_VERBS[known].join(', ')}`);
    }
    const method = resourceMethod(known, verb);
    return this.rpc.request(method, request as RpcRequest<typeof method>, { timeoutMs });
  }
}

const PAST_TENSE: Record<Verb, string> = { get: 'read', list: 'listed', create: 'created', update: 'updated', delete: 'deleted' };

function knownPlural(plural: string): Plural {
  if (!Object.hasOwn(RESOURCE_OWNERS, plural)) {
    throw ApiError.of('NotFound', `the server could not find the requested resource: unknown resource type "${plural}"`);
  }
  return plural as Plural;
}

function assertBodyNamespace(namespace: string, body: unknown): void {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw ApiError.of('BadRequest', 'the request body must be a JSON object');
  const bodyNamespace = (body as { metadata?: { namespace?: unknown } }).metadata?.namespace;
  if (bodyNamespace !== undefined && bodyNamespace !== namespace) {
    throw ApiError.of('BadRequest', `the namespace of the object (${String(bodyNamespace)}) does not match the namespace on the URL (${namespace})`);
  }
}
