import { BUS_ROLES, EVENT_PUBLISHERS, presenceSubject, type ServiceName } from '@paas/contracts/bus-roles';
import { durableName, EVENT_TYPES } from '@paas/contracts/events';
import { RPC_SUBJECT_PREFIX } from '@paas/contracts/rpc';
import { watchSubject } from '@paas/contracts/watch';
import { busNames } from './bus-names';

/** What a NATS user may publish and subscribe to, as nats-server's `permissions` block takes it. */
export interface BusPermissions {
  publish: string[];
  /** Taken out of `publish`: the other services' durable consumers, which a `*` would reach. */
  publishDeny: string[];
  subscribe: string[];
  /** It may answer a request it received (to the requester's inbox), once. */
  allowResponses: boolean;
}

/**
 * Where a service's requests get their replies: an inbox of its own (`_INBOX.<prefix>.<service>.…`),
 * so that no other service may subscribe to them (a registry token is a reply).
 */
export function inboxPrefix(service: string, prefix: string): string {
  return ['_INBOX', ...(prefix ? [prefix] : []), service].join('.');
}

/**
 * The subjects `service` may use on the bus of `prefix` (BUS_ROLES, libs/contracts/src/bus-roles.ts):
 * publish its own events, its requests, its presence, its kinds' changes, and the JetStream
 * API for its stream and its own consumers (create bound to the event type it consumes, read,
 * ack; never another service's durable consumer);
 * subscribe to the requests it answers, its kinds' changes (and those it watches), the presence
 * of the services it observes and its own inbox; answer what it was asked. The stream may be created (by whichever service starts first) but not changed or
 * deleted: a stream over other subjects would read them.
 */
export function busPermissions(service: ServiceName, prefix: string): BusPermissions {
  const names = busNames(prefix);
  const role = BUS_ROLES[service];
  const stream = names.stream;
  const rpc = (pattern: string) => names.scoped(`${RPC_SUBJECT_PREFIX}.${pattern}`);
  const watch = role.kinds.map((kind) => names.scoped(watchSubject(kind, '*')));
  const consumers = role.consumes.flatMap(({ type, everyReplica }) => {
    const consumer = everyReplica ? '*' : durableName(service, type);
    return [
      `$JS.API.CONSUMER.CREATE.${stream}.${consumer}.${names.event(type)}`,
      `$JS.API.CONSUMER.INFO.${stream}.${consumer}`,
      `$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`,
      `$JS.ACK.${stream}.${consumer}.>`,
    ];
  });
  // A consumer of each replica's own has a generated name, so those may use any consumer name;
  // every durable consumer of another service is then taken out, so that none is read or acked.
  const othersDurables = role.consumes.some(({ everyReplica }) => everyReplica)
    ? (Object.keys(BUS_ROLES) as ServiceName[])
        .filter((other) => other !== service)
        .flatMap((other) => BUS_ROLES[other].consumes.filter(({ everyReplica }) => !everyReplica).map(({ type }) => durableName(other, type)))
    : [];
  const publishDeny = othersDurables.flatMap((consumer) => [
    `$JS.API.CONSUMER.INFO.${stream}.${consumer}`,
    `$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`,
    `$JS.ACK.${stream}.${consumer}.>`,
  ]);
  const publish = [
    ...EVENT_TYPES.filter((type) => EVENT_PUBLISHERS[type] === service).map((type) => names.event(type)),
    ...role.asks.map(rpc),
    names.scoped(presenceSubject(service)),
    ...watch,
    '$JS.API.INFO',
    `$JS.API.STREAM.INFO.${stream}`,
    `$JS.API.STREAM.CREATE.${stream}`,
    ...consumers,
    ...(role.objectStores ?? []).flatMap((bucket) => objectStoreSubjects(names.bucket(bucket))),
  ];
  const watched = (role.watches ?? []).map((kind) => names.scoped(watchSubject(kind, '*')));
  const observed = (role.observes ?? []).map((other) => names.scoped(presenceSubject(other)));
  const subscribe = [...role.serves.map(rpc), ...(role.answersEach ?? []).map(rpc), ...watch, ...watched, ...observed, `${inboxPrefix(service, prefix)}.>`];
  return { publish: [...new Set(publish)], publishDeny, subscribe: [...new Set(subscribe)], allowResponses: true };
}

/**
 * What a client of a JetStream object store bucket publishes (nats.js's object store): its
 * chunks and metadata (`$O.<bucket>.>`); the JetStream API on the bucket's stream `OBJ_<bucket>`
 * (create, info, purge for a delete, message and direct gets for an object's metadata); the
 * ordered consumers a read uses (create, info, delete, and the flow-control replies); and the
 * stream names lookup those consumers begin with. Nothing of any other stream.
 */
export function objectStoreSubjects(bucket: string): string[] {
  const stream = `OBJ_${bucket}`;
  return [
    `$O.${bucket}.>`,
    ...['INFO', 'CREATE', 'PURGE', 'MSG.GET'].map((verb) => `$JS.API.STREAM.${verb}.${stream}`),
    `$JS.API.DIRECT.GET.${stream}`,
    `$JS.API.DIRECT.GET.${stream}.>`,
    `$JS.API.CONSUMER.CREATE.${stream}`,
    `$JS.API.CONSUMER.CREATE.${stream}.>`,
    `$JS.API.CONSUMER.INFO.${stream}.>`,
    `$JS.API.CONSUMER.DELETE.${stream}.>`,
    `$JS.FC.${stream}.>`,
    '$JS.API.STREAM.NAMES',
  ];
}
