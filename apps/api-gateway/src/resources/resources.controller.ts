import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Readable } from 'node:stream';
import type { DeploymentLogOptions, PodLogOptions } from '@paas/contracts/deployments';
import { ApiError } from '@paas/platform/api-error';
import { Authorize } from '../auth/authorize.decorator';
import { CurrentPrincipal, type Principal } from '../auth/principal';
import { ResourceGateway } from './resource-gateway';

/** `/api/v1/namespaces/{namespace}/{plural}[/{name}[/{subresource}]]`, Kubernetes style. */
@Controller('api/v1/namespaces/:namespace')
export class ResourcesController {
  constructor(private readonly resources: ResourceGateway) {}

  @Get(':plural')
  @Authorize('list')
  list(
    @Param('namespace') namespace: string,
    @Param('plural') plural: string,
    @Query('labelSelector') labelSelector?: string,
    @Query('limit') limit?: string,
    @Query('continue') continueToken?: string,
  ) {
    return this.resources.list(namespace, plural, { labelSelector, limit: limitOf(limit), continue: continueToken || undefined });
  }

  @Post(':plural')
  @HttpCode(201)
  @Authorize('create')
  create(
    @Param('namespace') namespace: string,
    @Param('plural') plural: string,
    @Body() body: unknown,
    @CurrentPrincipal() principal: Principal,
    @Query('dryRun') dryRun?: string,
  ) {
    return this.resources.create(namespace, plural, body, dryRun === 'All', principal);
  }

  @Get(':plural/:name')
  @Authorize('get')
  get(@Param('namespace') namespace: string, @Param('plural') plural: string, @Param('name') name: string) {
    return this.resources.get(namespace, plural, name);
  }

  @Put(':plural/:name')
  @Authorize('update')
  update(@Param('namespace') namespace: string, @Param('plural') plural: string, @Param('name') name: string, @Body() body: unknown) {
    return this.resources.update(namespace, plural, name, body);
  }

  @Delete(':plural/:name')
  @Authorize('delete')
  delete(@Param('namespace') namespace: string, @Param('plural') plural: string, @Param('name') name: string) {
    return this.resources.delete(namespace, plural, name);
  }

  @Post('buildconfigs/:name/instantiate')
  @HttpCode(201)
  @Authorize('instantiate', 'buildconfigs')
  instantiate(@Param('namespace') namespace: string, @Param('name') name: string, @Body() body?: unknown) {
    return this.resources.instantiate(namespace, name, instantiateMessage(name, body));
  }

  /** `oc cancel-build`: a build that has not ended stops (its container too) and ends as Cancelled; 400 once it has ended. */
  @Post('builds/:name/cancel')
  @HttpCode(200)
  @Authorize('cancel', 'builds')
  cancelBuild(@Param('namespace') namespace: string, @Param('name') name: string) {
    return this.resources.cancelBuild(namespace, name);
  }

  /** `oc rollout latest`: a new revision of the current template (a DeploymentRequest body, if any, changes nothing). */
  @Post('deploymentconfigs/:name/instantiate')
  @HttpCode(201)
  @Authorize('instantiate', 'deploymentconfigs')
  rollOut(@Param('namespace') namespace: string, @Param('name') name: string) {
    return this.resources.rollOut(namespace, name);
  }

  /**
   * `oc rollback` / `oc rollout undo`: a new revision of an earlier revision's template; the body
   * a DeploymentConfigRollback (`spec.revision`; none or 0, the last Complete one before the latest).
   */
  @Post('deploymentconfigs/:name/rollback')
  @HttpCode(201)
  @Authorize('rollback', 'deploymentconfigs')
  rollBack(@Param('namespace') namespace: string, @Param('name') name: string, @Body() body?: unknown) {
    return this.resources.rollBack(namespace, name, body);
  }

  /** `oc rollout cancel`: the rollout in progress stops and the last complete revision serves again (400 when none is in progress). */
  @Post('deploymentconfigs/:name/cancel')
  @HttpCode(200)
  @Authorize('cancel', 'deploymentconfigs')
  cancelRollout(@Param('namespace') namespace: string, @Param('name') name: string) {
    return this.resources.cancelRollout(namespace, name);
  }

  @Put('deploymentconfigs/:name/scale')
  @Authorize('scale', 'deploymentconfigs')
  scale(@Param('namespace') namespace: string, @Param('name') name: string, @Body() body: unknown) {
    return this.resources.scale(namespace, name, body);
  }

  /** Plain text; `?follow=true` keeps the response open until the build ends. */
  @Get('builds/:name/log')
  @Authorize('log', 'builds')
  async log(@Param('namespace') namespace: string, @Param('name') name: string, @Query('follow') follow: string | undefined, @Res() reply: FastifyReply) {
    return sendText(reply, (signal) => this.resources.buildLog(namespace, name, follow === 'true', signal));
  }

  /**
   * Plain text, as `kubectl logs` asks for it: `tailLines`, `timestamps`, `previous` (the
   * container before the current one), `sinceSeconds` or `sinceTime`, and `follow=true`,
   * which keeps the response open while the container runs.
   */
  @Get('pods/:name/log')
  @Authorize('log', 'pods')
  async podLog(@Param('namespace') namespace: string, @Param('name') name: string, @Query() query: Record<string, unknown>, @Res() reply: FastifyReply) {
    const options = podLogOptions(query);
    return sendText(reply, (signal) => this.resources.podLog(namespace, name, options, query.follow === 'true', signal));
  }

  /**
   * Plain text, as `oc logs dc/<name>` asks for it: the rollout of the newest revision, or of
   * `version`, step by step; `tailLines`, `timestamps`, and `follow=true`, which keeps the
   * response open until that revision is Complete or Failed.
   */
  @Get('deploymentconfigs/:name/log')
  @Authorize('log', 'deploymentconfigs')
  async deploymentLog(@Param('namespace') namespace: string, @Param('name') name: string, @Query() query: Record<string, unknown>, @Res() reply: FastifyReply) {
    const options = deploymentLogOptions(query);
    return sendText(reply, (signal) => this.resources.deploymentLog(namespace, name, options, query.follow === 'true', signal));
  }
}

/** Streams text chunks; the first is read before answering, so a missing object is a 404 rather than a broken stream. */
async function sendText(reply: FastifyReply, read: (clientGone: AbortSignal) => AsyncGenerator<string>) {
  const clientGone = new AbortController();
  reply.raw.on('close', () => clientGone.abort());
  const chunks = read(clientGone.signal);
  const first = await chunks.next();
  const body = Readable.from(
    (async function* () {
      if (!first.done) yield first.value;
      yield* chunks;
    })(),
  );
  return reply.code(200).type('text/plain; charset=utf-8').send(body);
}

/** A query flag: absent, `true` or `false`; anything else is a 400 naming it. */
function flag(query: Record<string, unknown>, key: string): boolean {
  const value = query[key];
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw ApiError.of('BadRequest', `${key} must be true or false, not "${String(value)}"`);
}

/** A query number: absent or a whole number; anything else is a 400 naming it. */
function whole(query: Record<string, unknown>, key: string): number | undefined {
  const value = query[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d{1,9}$/.test(value)) throw ApiError.of('BadRequest', `${key} must be a whole number, not "${String(value)}"`);
  return Number(value);
}

/** The query of `deploymentconfigs/{name}/log`; a value it cannot read is a 400 naming it. */
function deploymentLogOptions(query: Record<string, unknown>): DeploymentLogOptions {
  flag(query, 'follow');
  const version = whole(query, 'version');
  if (version === 0) throw ApiError.of('BadRequest', 'version must be 1 or more (revisions count from 1)');
  const tailLines = whole(query, 'tailLines');
  return {
    ...(version !== undefined ? { version } : {}),
    ...(tailLines !== undefined ? { tailLines } : {}),
    ...(flag(query, 'timestamps') ? { timestamps: true } : {}),
  };
}

/** The query of `pods/{name}/log`; a value it cannot read is a 400 naming it. */
function podLogOptions(query: Record<string, unknown>): PodLogOptions {
  flag(query, 'follow');
  const tailLines = whole(query, 'tailLines');
  const sinceSeconds = whole(query, 'sinceSeconds');
  const sinceTime = query.sinceTime;
  if (sinceTime !== undefined && (typeof sinceTime !== 'string' || Number.isNaN(Date.parse(sinceTime)))) throw ApiError.of('BadRequest', `sinceTime must be an RFC 3339 time, not "${String(sinceTime)}"`);
  if (sinceTime !== undefined && sinceSeconds !== undefined) throw ApiError.of('BadRequest', 'sinceSeconds and sinceTime cannot both be given');
  const since = sinceSeconds !== undefined ? new Date(Date.now() - sinceSeconds * 1000).toISOString() : (sinceTime as string | undefined);
  return {
    ...(tailLines !== undefined ? { tailLines } : {}),
    ...(flag(query, 'timestamps') ? { timestamps: true } : {}),
    ...(flag(query, 'previous') ? { previous: true } : {}),
    ...(since !== undefined ? { sinceTime: since } : {}),
  };
}

/** `{"message": "..."}` (optional, cut to 1 KiB): why the build was started, shown on the Build. */
function instantiateMessage(name: string, body: unknown): string | undefined {
  if (body === undefined) return undefined;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw ApiError.of('BadRequest', 'the request body must be a JSON object');
  const { message } = body as { message?: unknown };
  if (message !== undefined && typeof message !== 'string') throw ApiError.invalid('BuildRequest', name, 'message', 'must be a string');
  return message?.slice(0, 1024);
}

/** `?limit=N`: a whole number from 0 (0: no limit); anything else is a 400. */
function limitOf(limit: string | undefined): number | undefined {
  if (limit === undefined || limit === '') return undefined;
  if (!/^\d{1,9}$/.test(limit)) throw ApiError.of('BadRequest', `invalid limit "${limit}": must be a whole number from 0`);
  return Number(limit);
}
