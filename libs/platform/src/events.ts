import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  durableName,
  eventSchemas,
  type EventEnvelope,
  type EventMap,
  type EventType,
} from '@paas/contracts/events';
import { AckPolicy, ConsumerEvents, DeliverPolicy, nanos, StorageType, type ConsumerMessages, type JsMsg, type NatsConnection } from 'nats';
import { randomUUID } from 'node:crypto';
import { busNames } from './bus-names';
import { BUS_JSON_LIMITS, jsonShapeProblem } from './json-limits';
import { NATS_CONNECTION, SERVICE_NAME } from './tokens';
import { extractTraceContext, injectTraceHeaders } from './trace-headers';

/** Thrown by a handler for an event that can never succeed: it is terminated, not redelivered. */
export class TerminalEventError extends Error {}

/**
 * Thrown by a handler of a replica that does not own the event's key (see shard-ownership.ts):
 * the event goes back to the shared consumer at once, for the replica that does. Nothing is
 * lost while ownership moves: it comes back until someone owns the key.
 */
export class HandledElsewhereError extends Error {}

/** How soon an event handed back by a replica that does not own it is delivered again. */
const ELSEWHERE_REDELIVERY_MS = 100;

export type EventHandler<T extends EventType> = (event: EventEnvelope<T>) => Promise<void>;

export interface SubscribeOptions {
  /** Events of this type handled at once by this replica. */
  concurrency?: number;
  /**
   * Every replica gets every event from now on (a router's table, a cache), through its own
   * ephemeral consumer that the server drops a minute after the replica is gone. The
   * default is one durable consumer per service, shared by its replicas.
   */
  everyReplica?: boolean;
}

const ACK_WAIT_MS = 30_000;
const MAX_BACKOFF_MS = 30_000;
const RESUBSCRIBE_DELAY_MS = 1_000;
const tracer = trace.getTracer('paas-events');

/**
 * Domain events over JetStream: typed publish (payload checked against its schema, message
 * id = envelope id for dedup, trace context in the headers) and durable subscriptions
 * (explicit ack, nak with backoff when a handler throws, heartbeats while it works).
 */
@Injectable()
export class EventBus implements OnApplicationShutdown {
  private readonly logger = new Logger(EventBus.name);
  private streamReady?: Promise<void>;
  private readonly subscriptions = new Set<ConsumerMessages>();
  private readonly names = busNames();
  private stopped = false;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nats: NatsConnection,
    @Inject(SERVICE_NAME) private readonly service: string,
  ) {}

  async publish<T extends EventType>(type: T, data: EventMap[T], options: { id?: string } = {}): Promise<EventEnvelope<T>> {
    const payload = eventSchemas[type].parse(data) as EventMap[T];
    const envelope: EventEnvelope<T> = {
      id: options.id ?? randomUUID(),
      type,
      source: this.service,
      subject: subjectOf(payload),
      time: new Date().toISOString(),
      data: payload,
    };
    await this.ensureStream();
    await tracer.startActiveSpan(`publish ${type}`, { kind: SpanKind.PRODUCER, attributes: eventAttributes(envelope) }, async (span) => {
      try {
        await this.nats.jetstream().publish(this.names.event(type), JSON.stringify(envelope), {
          msgID: envelope.id,
          headers: injectTraceHeaders(),
        });
      } finally {
        span.end();
      }
    });
    return envelope;
  }

  /**
   * Handles every event of `type` once per service (durable consumer shared by replicas), or
   * once per replica with `everyReplica`. Resolves once the consumer exists; consuming then
   * resumes by itself if the consumer goes away (a NATS restart, an expired ephemeral one).
   */
  async subscribe<T extends EventType>(type: T, handler: EventHandler<T>, options: SubscribeOptions = {}): Promise<void> {
    const first = await this.openConsumer(type, options);
    void this.consumeForever(type, handler, options, first);
  }

  private async openConsumer(type: EventType, options: SubscribeOptions): Promise<ConsumerMessages> {
    await this.ensureStream();
    const name = await this.ensureConsumer(type, options.everyReplica ?? false);
    const consumer = await this.nats.jetstream().consumers.get(this.names.stream, name);
    const messages = await consumer.consume({ max_messages: 64 });
    this.subscriptions.add(messages);
    void this.stopWhenConsumerGone(messages);
    return messages;
  }

  /** A deleted consumer does not end the iterator by itself; ending it lets `consumeForever` reopen. */
  private async stopWhenConsumerGone(messages: ConsumerMessages) {
    for await (const status of await messages.status()) {
      if (status.type === ConsumerEvents.ConsumerDeleted || status.type === ConsumerEvents.ConsumerNotFound) {
        messages.stop();
        return;
      }
    }
  }

  private async consumeForever<T extends EventType>(type: T, handler: EventHandler<T>, options: SubscribeOptions, first: ConsumerMessages) {
    let messages: ConsumerMessages | undefined = first;
    while (!this.stopped) {
      try {
        messages ??= await this.openConsumer(type, options);
        await this.dispatchAll(type, messages, handler, options.concurrency ?? 16);
      } catch (error) {
        this.logger.warn({ msg: `consuming ${type} stopped: ${(error as Error).message}; resuming` });
      }
      if (messages) this.subscriptions.delete(messages);
      messages = undefined;
      if (!this.stopped) await new Promise((resolve) => setTimeout(resolve, RESUBSCRIBE_DELAY_MS));
    }
  }

  private async ensureConsumer(type: EventType, everyReplica: boolean): Promise<string> {
    const jsm = await this.nats.jetstreamManager();
    const common = { filter_subject: this.names.event(type), ack_policy: AckPolicy.Explicit, ack_wait: nanos(ACK_WAIT_MS), max_ack_pending: 1000 };
    if (everyReplica) {
      const info = await jsm.consumers.add(this.names.stream, {
        ...common,
        name: `${durableName(this.service, type)}--${randomUUID().slice(0, 8)}`,
        deliver_policy: DeliverPolicy.New,
        inactive_threshold: nanos(60_000),
      });
      return info.name;
    }
    const durable = durableName(this.service, type);
    await jsm.consumers.info(this.names.stream, durable).catch(() => jsm.consumers.add(this.names.stream, { ...common, durable_name: durable, deliver_policy: DeliverPolicy.All }));
    return durable;
  }

  async onApplicationShutdown() {
    this.stopped = true;
    for (const messages of this.subscriptions) messages.stop();
  }

  private async dispatchAll<T extends EventType>(type: T, messages: ConsumerMessages, handler: EventHandler<T>, concurrency: number) {
    const inFlight = new Set<Promise<void>>();
    for await (const message of messages) {
      const work = this.handle(type, message, handler).finally(() => inFlight.delete(work));
      inFlight.add(work);
      if (inFlight.size >= concurrency) await Promise.race(inFlight);
    }
  }

  private async handle<T extends EventType>(type: T, message: JsMsg, handler: EventHandler<T>): Promise<void> {
    const envelope = this.decode(type, message);
    if (!envelope) return;
    const parent = extractTraceContext(message.headers);
    await context.with(parent, () =>
      tracer.startActiveSpan(`process ${type}`, { kind: SpanKind.CONSUMER, attributes: eventAttributes(envelope) }, async (span) => {
        const heartbeat = setInterval(() => message.working(), ACK_WAIT_MS / 3);
        try {
          await handler(envelope);
          message.ack();
        } catch (error) {
          if (error instanceof HandledElsewhereError) {
            span.setAttribute('paas.event.handed_back', true);
            message.nak(ELSEWHERE_REDELIVERY_MS);
            return;
          }
          span.recordException(error as Error);
          span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
          if (error instanceof TerminalEventError) {
            this.logger.error({ msg: `dropping ${type} ${envelope.id}: ${(error as Error).message}` });
            message.term();
          } else {
            const delay = Math.min(MAX_BACKOFF_MS, 250 * 2 ** message.info.redeliveryCount);
            this.logger.warn({ msg: `${type} ${envelope.id} failed, redelivering in ${delay} ms: ${(error as Error).message}` });
            message.nak(delay);
          }
        } finally {
          clearInterval(heartbeat);
          span.end();
        }
      }),
    );
  }

  /** A message that is not a valid envelope of its type can never be handled: terminate it. */
  private decode<T extends EventType>(type: T, message: JsMsg): EventEnvelope<T> | undefined {
    try {
      if (jsonShapeProblem(message.data, BUS_JSON_LIMITS)) throw new Error('beyond the JSON limits');
      const envelope = message.json<EventEnvelope<T>>();
      const data = eventSchemas[type].safeParse(envelope?.data);
      if (envelope?.type === type && data.success) return { ...envelope, data: data.data as EventMap[T] };
    } catch {
      // fall through: not JSON, or not JSON of a shape we take
    }
    this.logger.error({ msg: `terminating malformed ${type} message (stream sequence ${message.seq})` });
    message.term();
    return undefined;
  }

  private ensureStream(): Promise<void> {
    this.streamReady ??= (async () => {
      const jsm = await this.nats.jetstreamManager();
      const config = {
        name: this.names.stream,
        subjects: [this.names.streamSubjects],
        storage: StorageType.File,
        max_age: nanos(7 * 24 * 3600 * 1000),
        duplicate_window: nanos(2 * 60 * 1000),
      };
      await jsm.streams.info(this.names.stream).catch(() => jsm.streams.add(config));
    })().catch((error) => {
      this.streamReady = undefined;
      throw error;
    });
    return this.streamReady;
  }
}

function subjectOf(data: object): string {
  const { namespace, name, repository } = data as { namespace?: string; name?: string; repository?: string };
  return repository ?? `${namespace}/${name}`;
}

function eventAttributes(envelope: EventEnvelope) {
  return { 'messaging.system': 'nats', 'paas.event.id': envelope.id, 'paas.event.subject': envelope.subject };
}
