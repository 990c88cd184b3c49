/** Injection tokens of the messaging module. */
export const NATS_CONNECTION = Symbol('NATS_CONNECTION');
export const SERVICE_NAME = Symbol('SERVICE_NAME');
