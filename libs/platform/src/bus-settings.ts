/**
 * Where the event bus is and how far its stream is replicated (docs/architecture.md, "State
 * and bus beyond one machine"). Read from the environment and checked before anything
 * connects, so that a typo is one clear line at start rather than a stack trace or a silent
 * fallback to the first server.
 */

import { readFileSync } from 'node:fs';
import { nkeyAuthenticator, type ConnectionOptions } from 'nats';
import { inboxPrefix } from './bus-permissions';
import { loadConfig } from './config';

/** A setting the process cannot work with: the message says which and why, and is all that is shown. */
export class SettingError extends Error {
  override name = 'SettingError';
}

export interface BusSettings {
  /** Every server of the NATS cluster the client may use (`NATS_URL`, comma-separated); it reconnects to a survivor. */
  servers: string[];
  /**
   * `PAAS_STREAM_REPLICAS`: how many servers keep the event stream. Unset: 1 for a stream this
   * process creates, and a stream that exists is left as it is (a service started by hand
   * must not shrink the platform's replicated stream); set: enforced at start.
   */
  streamReplicas?: number;
  /**
   * `NATS_NKEY_FILE`: the file holding the NKey seed this process authenticates with (`npm run up`
   * writes one per service, `.paas/secrets/nats/<service>.nk`). Unset: no credentials, for a NATS
   * that asks for none (a test's own server).
   */
  nkeyFile?: string;
}

const DEFAULT_NATS_URL = 'nats://127.0.0.1:4222';
/** JetStream keeps a stream on at most five servers. */
export const MAX_STREAM_REPLICAS = 5;

export function busSettings(env: NodeJS.ProcessEnv = process.env): BusSettings {
  busPrefix(env);
  const nkeyFile = env.NATS_NKEY_FILE || undefined;
  if (nkeyFile) readSeed(nkeyFile);
  return { servers: natsServers(env.NATS_URL || DEFAULT_NATS_URL), streamReplicas: streamReplicas(env.PAAS_STREAM_REPLICAS), ...(nkeyFile ? { nkeyFile } : {}) };
}

/**
 * How this process connects as `service`: every server, its name, an inbox of its own (the
 * only one its credentials may read), and its NKey when it has one.
 */
export function busConnectionOptions(service: string, env: NodeJS.ProcessEnv = process.env): ConnectionOptions {
  const settings = busSettings(env);
  return {
    servers: settings.servers,
    name: service,
    inboxPrefix: inboxPrefix(service, loadConfig(env).busPrefix),
    ...(settings.nkeyFile ? { authenticator: nkeyAuthenticator(readSeed(settings.nkeyFile)) } : {}),
  };
}

/** A user's NKey seed (`SU…`, base32): read when needed and never kept, logged or quoted. */
function readSeed(file: string): Uint8Array {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new SettingError(`NATS_NKEY_FILE: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); npm run up writes each service's key into .paas/secrets/nats/`);
  }
  if (!/^SU[A-Z2-7]{56}$/.test(text)) throw new SettingError(`NATS_NKEY_FILE: ${file} holds no NKey user seed (one line starting with SU, as nk -gen user makes)`);
  return new TextEncoder().encode(text);
}

/** `PAAS_BUS_PREFIX` is the first token of every subject: one NATS token, so that permissions can name it. */
function busPrefix(env: NodeJS.ProcessEnv): void {
  const prefix = env.PAAS_BUS_PREFIX;
  if (prefix && !/^[A-Za-z0-9_-]{1,64}$/.test(prefix)) {
    throw new SettingError(`PAAS_BUS_PREFIX must be one NATS subject token (letters, digits, - and _, at most 64), not "${prefix}"`);
  }
}

/** `nats://a:4222,nats://b:4222` (or `host:port`) as the list nats.js takes; a string it would not split. */
export function natsServers(value: string): string[] {
  const entries = value.split(',').map((entry) => entry.trim());
  for (const entry of entries) {
    const problem = addressProblem(entry);
    if (problem) throw new SettingError(`NATS_URL: ${problem}; give one or more servers as nats://host:port, comma-separated (e.g. nats://127.0.0.1:4222,nats://127.0.0.1:4223)`);
  }
  return entries;
}

function addressProblem(entry: string): string | undefined {
  if (entry === '') return 'an empty entry (a doubled or trailing comma)';
  let url: URL;
  try {
    url = new URL(entry.includes('://') ? entry : `nats://${entry}`);
  } catch {
    return `"${entry}" is not an address`;
  }
  if (url.protocol !== 'nats:' && url.protocol !== 'tls:') return `"${entry}" has the scheme ${url.protocol.slice(0, -1)}, not nats or tls`;
  if (!url.hostname) return `"${entry}" names no host`;
  // URL drops a default-looking or empty port silently; a port that is there must be a number.
  const port = /:(\d*)$/.exec(entry.replace(/\/$/, ''))?.[1];
  if (port === '' || (port !== undefined && (Number(port) < 1 || Number(port) > 65535))) return `"${entry}" has no valid port`;
  if ((url.pathname && url.pathname !== '/') || url.search || url.hash) return `"${entry}" has a path or query, which NATS addresses do not`;
  return undefined;
}

function streamReplicas(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const count = Number(value);
  if (!Number.isInteger(count) || count < 1 || count > MAX_STREAM_REPLICAS) {
    throw new SettingError(`PAAS_STREAM_REPLICAS must be a whole number from 1 to ${MAX_STREAM_REPLICAS} (JetStream's limit), not "${value}"`);
  }
  return count;
}
