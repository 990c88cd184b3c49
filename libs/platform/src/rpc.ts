import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { RESOURCE_OWNERS, RESOURCE_VERBS, resourceMethod, type Plural, type RpcMethod, type RpcReply, type RpcRequest, type RpcResponse, type Verb } from '@paas/contracts/rpc';
import { ErrorCode, RequestStrategy, type Msg, type NatsConnection, type NatsError, type Subscription } from 'nats';
import { IMAGE_STREAM_TAG_NAME } from '@paas/contracts/images';
import { dns1123Label } from '@paas/contracts/meta';
import { validate } from '@paas/contracts/validation';
import { z } from 'zod';
import { ApiError, statusOf } from './api-error';
import { busNames } from './bus-names';
import { BUS_JSON_LIMITS, jsonShapeProblem } from './json-limits';
import { NATS_CONNECTION, SERVICE_NAME } from './tokens';
import { extractTraceContext, injectTraceHeaders } from './trace-headers';

export type RpcHandler<M extends RpcMethod> = (request: RpcRequest<M>) => Promise<RpcResponse<M>>;

/** The API of a resource: a method per verb its clients have (RESOURCE_VERBS), named after the verb. */
export type ResourceApi<P extends Plural> = { [V in (typeof RESOURCE_VERBS)[P][number]]: RpcHandler<`${P}.${V}` & RpcMethod> };

const tracer = trace.getTracer('paas-rpc');
const DEFAULT_TIMEOUT_MS = 10_000;

/** Answers `paas.rpc.<method>` requests; replicas of one service share them (queue group). */
@Injectable()
export class RpcServer implements OnApplicationShutdown {
  private readonly logger = new Logger(RpcServer.name);
  private readonly subscriptions: Subscription[] = [];
  private readonly names = busNames();

  constructor(
    @Inject(NATS_CONNECTION) private readonly nats: NatsConnection,
    @Inject(SERVICE_NAME) private readonly service: string,
  ) {}

  handle<M extends RpcMethod>(method: M, handler: RpcHandler<M>): void {
    this.subscribe(method, handler, this.service);
  }

  /** Answers `method` on every replica, each for itself (BusRole.answersEach): see RpcClient.gather. */
  handleEach<M extends RpcMethod>(method: M, handler: RpcHandler<M>): void {
    this.subscribe(method, handler);
  }

  private subscribe<M extends RpcMethod>(method: M, handler: RpcHandler<M>, queue?: string): void {
    const subscription = this.nats.subscribe(this.names.rpc(method), {
      queue,
      callback: (error, message) => {
        if (error) this.logger.error({ msg: `subscription to ${method} failed: ${error.message}` });
        else void this.answer(method, message, handler);
      },
    });
    this.subscriptions.push(subscription);
  }

  /** Every verb clients have on `plural`, each answered by the method of `api` named after it. */
  serve<P extends Plural>(plural: P, api: ResourceApi<P>): void {
    // Checked where it is called (ResourceApi); inside, one method stands for every verb.
    const methods = api as unknown as Record<Verb, RpcHandler<RpcMethod>>;
    const handle = this.handle.bind(this) as (method: RpcMethod, handler: RpcHandler<RpcMethod>) => void;
    for (const verb of RESOURCE_VERBS[plural] as readonly Verb[]) handle(resourceMethod(plural, verb), (request) => methods[verb].call(api, request));
  }

  onApplicationShutdown() {
    for (const subscription of this.subscriptions) subscription.unsubscribe();
  }

  private async answer<M extends RpcMethod>(method: M, message: Msg, handler: RpcHandler<M>) {
    const reply = await context.with(extractTraceContext(message.headers), () =>
      tracer.startActiveSpan(`rpc ${method}`, { kind: SpanKind.SERVER, attributes: { 'rpc.system': 'nats', 'rpc.method': method } }, async (span) => {
        try {
          const request = checkEnvelope(method, parseRequest<RpcRequest<M>>(method, message.data));
          return { ok: true, result: await handler(request) } satisfies RpcReply<RpcResponse<M>>;
        } catch (error) {
          const status = statusOf(error);
          if (status.code >= 500) {
            this.logger.error({ msg: `${method} failed`, error: (error as Error)?.stack ?? String(error) });
            span.setStatus({ code: SpanStatusCode.ERROR, message: status.message });
          }
          return { ok: false, status } satisfies RpcReply<never>;
        } finally {
          span.end();
        }
      }),
    );
    message.respond(JSON.stringify(reply));
  }
}

/** Asks the owning service; its Status errors are rethrown as ApiErrors with their code. */
@Injectable()
export class RpcClient {
  private readonly names = busNames();

  constructor(@Inject(NATS_CONNECTION) private readonly nats: NatsConnection) {}

  async request<M extends RpcMethod>(method: M, request: RpcRequest<M>, options: { timeoutMs?: number } = {}): Promise<RpcResponse<M>> {
    return tracer.startActiveSpan(`rpc ${method}`, { kind: SpanKind.CLIENT, attributes: { 'rpc.system': 'nats', 'rpc.method': method } }, async (span) => {
      try {
        const message = await this.nats
          .request(this.names.rpc(method), JSON.stringify(request), { timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS, headers: injectTraceHeaders() })
          .catch((error: NatsError) => {
            throw unavailable(method, error);
          });
        const reply = message.json<RpcReply<RpcResponse<M>>>();
        if (reply.ok) return reply.result;
        throw new ApiError(reply.status);
      } catch (error) {
        if (statusOf(error).code >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
        throw error;
      } finally {
        span.end();
      }
    });
  }

  /**
   * Asks every replica that answers `method` for itself (RpcServer.handleEach) and gathers the
   * replies: until `expected` have come or `timeoutMs` has passed. A replica that answered with
   * an error, or not in time, is simply not among them: the caller knows whom it expected.
   */
  async gather<M extends RpcMethod>(
    method: M,
    request: RpcRequest<M>,
    options: { expected: number; timeoutMs: number },
  ): Promise<RpcResponse<M>[]> {
    const replies: RpcResponse<M>[] = [];
    if (options.expected <= 0) return replies;
    try {
      const messages = await this.nats.requestMany(this.names.rpc(method), JSON.stringify(request), {
        strategy: RequestStrategy.Count,
        maxMessages: options.expected,
        maxWait: options.timeoutMs,
        headers: injectTraceHeaders(),
      });
      for await (const message of messages) {
        const reply = message.json<RpcReply<RpcResponse<M>>>();
        if (reply.ok) replies.push(reply.result);
      }
    } catch {
      // No responders, or the connection went: what came before is what there is.
    }
    return replies;
  }
}

/** The request as JSON of a bounded shape: anything else is the requester's fault (400), not ours. */
function parseRequest<T>(method: RpcMethod, data: Uint8Array): T {
  const problem = jsonShapeProblem(data, BUS_JSON_LIMITS);
  if (problem) throw ApiError.of('BadRequest', `${method}: ${problem}`);
  try {
    return JSON.parse(new TextDecoder().decode(data)) as T;
  } catch {
    throw ApiError.of('BadRequest', `${method}: the request is not valid JSON`);
  }
}

const envelope = z.object({
  namespace: dns1123Label.optional(),
  /** A name, or `<stream>:<tag>` for an ImageStreamTag. */
  name: z.union([dns1123Label, z.string().regex(IMAGE_STREAM_TAG_NAME)]).optional(),
  labelSelector: z.string().max(1024).optional(),
});

/**
 * Every request is checked at the edge, whatever the handler does next: an object whose
 * `namespace` and `name` are names (never a Mongo operator such as `{"$ne": null}`).
 */
function checkEnvelope<T>(method: RpcMethod, request: T): T {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) throw ApiError.of('BadRequest', `${method}: request must be a JSON object`);
  const checked = validate(envelope, request, 'Request');
  if (!checked.ok) throw new ApiError(checked.status);
  return request;
}

function unavailable(method: RpcMethod, error: NatsError): ApiError {
  const owner = RESOURCE_OWNERS[method.split('.')[0] as Plural] ?? 'the owning service';
  if (error.code === ErrorCode.NoResponders) return ApiError.of('ServiceUnavailable', `${owner} is not available to answer ${method}`);
  if (error.code === ErrorCode.Timeout) return ApiError.of('Timeout', `${owner} did not answer ${method} in time`);
  return ApiError.of('ServiceUnavailable', `messaging is unavailable: ${error.message}`);
}
