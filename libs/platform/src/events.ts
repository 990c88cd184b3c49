import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  durableName,
  eventSchemas,
  type EventEnvelope,
  type EventMap,
  type EventType,
} from '@paas/contracts/events';
import {
  AckPolicy,
  ConsumerDebugEvents,
  ConsumerEvents,
  DeliverPolicy,
  ErrorCode,
  nanos,
  type ConsumerMessages,
  type JetStreamManager,
  type JsMsg,
  type NatsConnection,
  type NatsError,
} from 'nats';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { busNames } from './bus-names';
import { BUS_JSON_LIMITS, jsonShapeProblem } from './json-limits';
import { busSettings, SettingError } from './bus-settings';
import { isNotFound, setUpEventStream } from './event-stream';
import { HandledEvents } from './handled-events';
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
  /**
   * Fail at once when the consumer cannot be opened (NATS or JetStream unavailable), instead
   * of waiting until it can: for a caller that serves meanwhile and subscribes again in the
   * background (the router's table feeds).
   */
  failFast?: boolean;
}

export interface PublishOptions {
  /** The envelope id (and JetStream message id): a publish sent again with it is dropped as a duplicate. */
  id?: string;
  /**
   * How long to go on trying while no server takes the event: 0 by default, since every
   * event that announces a stored change goes through its write's outbox, whose relay tries
   * again soon. A caller without an outbox (a test publishing by hand) passes
   * STREAM_ELECTION_MS to ride out a leader election.
   */
  retryMs?: number;
}

/** Long enough for a NATS cluster to elect a new leader of the stream (5-6 s measured with nats-server 2.9.10, three servers on loopback). */
export const STREAM_ELECTION_MS = 15_000;
const PUBLISH_RETRY_DELAY_MS = 250;
const ACK_WAIT_MS = 30_000;
const MAX_BACKOFF_MS = 30_000;
const RESUBSCRIBE_DELAY_MS = 1_000;
/**
 * How long one pull request waits on the server. The server sends heartbeats every half of it,
 * and two missed ones make the client pull again: a pull lost with a server (or with a consumer
 * leader in a cluster) is noticed within this, not within nats.js's default 30 s.
 */
const PULL_EXPIRES_MS = 5_000;
/** An ack's confirmation: how long to wait for it, and how soon to ask again when none came (see `acknowledge`). */
const ACK_CONFIRM_TIMEOUT_MS = 2_000;
const ACK_RETRY_MS = 250;
const ACK = '+ACK';
/** The longest wait between tries for the stream or a consumer while NATS is not ready (starting, electing). */
const MAX_SETUP_RETRY_MS = 5_000;
const tracer = trace.getTracer('paas-events');

/**
 * Domain events over JetStream: typed publish (payload checked against its schema, message
 * id = envelope id for dedup, trace context in the headers) and durable subscriptions
 * (explicit ack confirmed by the server, nak with backoff when a handler throws, heartbeats
 * while it works; a redelivery of an event this replica has just handled is only acked, see
 * handled-events.ts). The stream is set up at start, on as many servers as
 * `PAAS_STREAM_REPLICAS` asks (bus-settings.ts); a count NATS cannot keep stops the start
 * with a SettingError that says why.
 */
@Injectable()
export class EventBus implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(EventBus.name);
  /** Resolves to the number of servers the stream is kept on. */
  private streamReady?: Promise<number>;
  private readonly subscriptions = new Set<ConsumerMessages>();
  private readonly names = busNames();
  private readonly wantedReplicas = busSettings().streamReplicas;
  private readonly handledEvents = new HandledEvents();
  private stopped = false;

  constructor(
    @Inject(NATS_CONNECTION) private readonly nats: NatsConnection,
    @Inject(SERVICE_NAME) private readonly service: string,
  ) {}

  async publish<T extends EventType>(type: T, data: EventMap[T], options: PublishOptions = {}): Promise<EventEnvelope<T>> {
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
        await this.store(envelope, performance.now() + (options.retryMs ?? 0));
      } finally {
        span.end();
      }
    });
    return envelope;
  }

  /**
   * Sends the envelope to the stream, again until `deadline` after a 503 (no server took it) or
   * a timeout (a server took it, but the stream's leader died before acknowledging it: a NATS
   * cluster electing a new one). The msgID makes a copy the stream did store a duplicate it drops.
   */
  private async store(envelope: EventEnvelope, deadline: number): Promise<void> {
    const message = JSON.stringify(envelope);
    for (;;) {
      try {
        await this.nats.jetstream().publish(this.names.event(envelope.type), message, { msgID: envelope.id, headers: injectTraceHeaders() });
        return;
      } catch (error) {
        const code = (error as NatsError).code;
        if (code !== ErrorCode.NoResponders && code !== ErrorCode.Timeout) throw error;
        if (code === ErrorCode.Timeout && performance.now() >= deadline) throw error;
        if (performance.now() >= deadline) {
          throw new Error(`no server stored ${envelope.type}: the event stream has no leader (a NATS cluster electing one) or JetStream is down`);
        }
        await sleep(PUBLISH_RETRY_DELAY_MS);
      }
    }
  }

  /**
   * Handles every event of `type` once per service (durable consumer shared by replicas), or
   * once per replica with `everyReplica`. Resolves once the consumer exists (waiting while NATS
   * is not ready); consuming then resumes by itself if the consumer goes away (a NATS restart,
   * an expired ephemeral one) or its pull is lost (a server or consumer leader lost in a cluster).
   */
  async subscribe<T extends EventType>(type: T, handler: EventHandler<T>, options: SubscribeOptions = {}): Promise<void> {
    const open = () => this.openConsumer(type, options);
    const first = options.failFast ? await open() : await this.patiently(`the consumer of ${type}`, open);
    void this.consumeForever(type, handler, options, first);
  }

  /**
   * Sets the stream up before the service reports ready: a replica count NATS cannot keep
   * fails the start here. A NATS or JetStream that does not answer yet does not: the stream
   * is set up by the first publish or subscription then (a router serves meanwhile).
   */
  async onApplicationBootstrap() {
    await this.ensureStream().catch((error: unknown) => {
      if (error instanceof SettingError) throw error;
      this.logger.warn({ msg: `the event stream is not set up yet (${(error as Error).message}); the first publish or subscription will` });
    });
  }

  /** Opens the consumer `name` (an everyReplica one that is gone is made anew) and starts pulling from it. */
  private async openConsumer(type: EventType, options: SubscribeOptions, name?: string): Promise<{ name: string; messages: ConsumerMessages }> {
    const replicas = await this.ensureStream();
    const consumerName = await this.ensureConsumer(type, options.everyReplica ?? false, replicas, name);
    const consumer = await this.nats.jetstream().consumers.get(this.names.stream, consumerName);
    const messages = await consumer.consume({ max_messages: 64, expires: PULL_EXPIRES_MS });
    this.subscriptions.add(messages);
    void this.stopWhenStalled(messages);
    return { name: consumerName, messages };
  }

  /**
   * Ends the iterator (so that `consumeForever` opens the consumer again) when nats.js would
   * not go on by itself: the consumer was deleted, or its pull went with a server or a
   * consumer leader of the cluster (heartbeats missed; the server says "leadership change").
   */
  private async stopWhenStalled(messages: ConsumerMessages) {
    for await (const status of await messages.status()) {
      const gone = status.type === ConsumerEvents.ConsumerDeleted || status.type === ConsumerEvents.ConsumerNotFound;
      const stalled = status.type === ConsumerEvents.HeartbeatsMissed || (status.type === ConsumerDebugEvents.DebugEvent && /leadership change/i.test(String(status.data)));
      if (gone || stalled) {
        messages.stop();
        return;
      }
    }
  }

  private async consumeForever<T extends EventType>(type: T, handler: EventHandler<T>, options: SubscribeOptions, first: { name: string; messages: ConsumerMessages }) {
    let messages: ConsumerMessages | undefined = first.messages;
    let name = first.name;
    while (!this.stopped) {
      try {
        if (!messages) ({ name, messages } = await this.openConsumer(type, options, name));
        await this.dispatchAll(type, messages, handler, options.concurrency ?? 16);
      } catch (error) {
        this.logger.warn({ msg: `consuming ${type} stopped: ${(error as Error).message}; resuming` });
      }
      if (messages) this.subscriptions.delete(messages);
      messages = undefined;
      if (!this.stopped) await sleep(RESUBSCRIBE_DELAY_MS);
    }
  }

  /**
   * The durable consumer of (service, type), created if missing; with `everyReplica`, the
   * ephemeral one this replica had (`previous`) while the server keeps it, else a new one. Both
   * are kept on as many servers as the stream, so that losing one server keeps them.
   */
  private async ensureConsumer(type: EventType, everyReplica: boolean, replicas: number, previous?: string): Promise<string> {
    const jsm = await this.nats.jetstreamManager();
    const common = { filter_subject: this.names.event(type), ack_policy: AckPolicy.Explicit, ack_wait: nanos(ACK_WAIT_MS), max_ack_pending: 1000 };
    if (everyReplica) {
      if (previous && (await this.consumerExists(jsm, previous))) return previous;
      const info = await jsm.consumers.add(this.names.stream, {
        ...common,
        name: `${durableName(this.service, type)}--${randomUUID().slice(0, 8)}`,
        deliver_policy: DeliverPolicy.New,
        inactive_threshold: nanos(60_000),
        // Ephemeral consumers are kept on one server unless told otherwise.
        num_replicas: replicas,
      });
      return info.name;
    }
    const durable = durableName(this.service, type);
    if (!(await this.consumerExists(jsm, durable))) {
      await jsm.consumers.add(this.names.stream, { ...common, durable_name: durable, deliver_policy: DeliverPolicy.All });
    }
    return durable;
  }

  /** Whether the consumer exists; any answer but "not found" (a timeout while a leader is elected) is thrown. */
  private async consumerExists(jsm: JetStreamManager, name: string): Promise<boolean> {
    try {
      await jsm.consumers.info(this.names.stream, name);
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  /**
   * Tries `attempt` until it succeeds, logging each failure: NATS that is starting, or a
   * cluster electing a leader, answers with timeouts and 503s for a while. A SettingError is
   * final; so is shutdown.
   */
  private async patiently<T>(what: string, attempt: () => Promise<T>): Promise<T> {
    for (let tries = 1; ; tries++) {
      try {
        return await attempt();
      } catch (error) {
        if (error instanceof SettingError || this.stopped) throw error;
        const delay = Math.min(RESUBSCRIBE_DELAY_MS * tries, MAX_SETUP_RETRY_MS);
        this.logger.warn({ msg: `${what} is not ready (${(error as Error).message}); trying again in ${delay} ms` });
        await sleep(delay);
      }
    }
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
    const key = `${message.info.consumer}/${message.info.streamSequence}`;
    const seen = this.handledEvents.check(key);
    if (seen === 'handled') {
      this.logger.debug({ msg: `${type} (stream sequence ${message.seq}) came again after this replica handled it: acked, not handled again` });
      return this.acknowledge(type, message);
    }
    if (seen === 'in-hand') return;
    const envelope = this.decode(type, message);
    if (!envelope) return;
    this.handledEvents.take(key);
    let handled = false;
    const parent = extractTraceContext(message.headers);
    await context.with(parent, () =>
      tracer.startActiveSpan(`process ${type}`, { kind: SpanKind.CONSUMER, attributes: eventAttributes(envelope) }, async (span) => {
        const heartbeat = setInterval(() => message.working(), ACK_WAIT_MS / 3);
        try {
          await handler(envelope);
          handled = true;
          await this.acknowledge(type, message);
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
          this.handledEvents.settle(key, handled);
          span.end();
        }
      }),
    );
  }

  /**
   * Acks a handled message and waits for the consumer's leader to confirm it, asking again
   * while there is none: in a cluster, an ack sent while the leader is being re-elected is
   * dropped, and the event would be handled a second time after the ack wait. Gives up (the
   * event comes again, handlers are idempotent) once the ack wait has passed.
   */
  private async acknowledge(type: EventType, message: JsMsg): Promise<void> {
    // nats.js's ackAck() sends only once; the ack subject is the message's reply subject.
    const ackSubject = (message as unknown as { reply: string }).reply;
    const deadline = performance.now() + ACK_WAIT_MS;
    for (;;) {
      try {
        await this.nats.request(ackSubject, ACK, { timeout: ACK_CONFIRM_TIMEOUT_MS });
        return;
      } catch (error) {
        if (this.stopped || performance.now() > deadline) {
          this.logger.warn({ msg: `the ack of ${type} (stream sequence ${message.seq}) was not confirmed: ${(error as Error).message}; it may be delivered again` });
          return;
        }
        await sleep(ACK_RETRY_MS);
      }
    }
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

  /** The stream, set up once (again after a failure); resolves to the number of servers that keep it. */
  private ensureStream(): Promise<number> {
    this.streamReady ??= setUpEventStream(this.nats, this.names, this.wantedReplicas, this.logger).catch((error) => {
      this.streamReady = undefined;
      throw error;
    });
    return this.streamReady;
  }
}

function subjectOf(data: object): string {
  const { namespace, name } = data as { namespace?: string; name?: string };
  return `${namespace}/${name}`;
}

function eventAttributes(envelope: EventEnvelope) {
  return { 'messaging.system': 'nats', 'paas.event.id': envelope.id, 'paas.event.subject': envelope.subject };
}
