import { randomUUID } from 'node:crypto';
import type { RpcMethod } from '@paas/contracts/rpc';
import { failureStatus } from '@paas/contracts/status';
import type { NatsConnection, Subscription } from 'nats';
import { busNames } from './bus-names';

/**
 * For integration tests: from now on this process talks on its own bus prefix, so the
 * services it starts in-process stay apart from a platform running on the same NATS.
 * Call it before creating any Nest application; returns the prefix.
 */
export function isolateBus(suite: string): string {
  const prefix = `test-${suite}-${randomUUID().slice(0, 8)}`;
  process.env.PAAS_BUS_PREFIX = prefix;
  return prefix;
}

/**
 * Answers `method` on this isolated bus by asking the running platform (the empty prefix):
 * a service tested in-process gets, say, its registry tokens from the platform's real
 * api-gateway. Unsubscribe when done.
 */
export function relayToPlatform(nats: NatsConnection, method: RpcMethod): Subscription {
  const platform = busNames('');
  return nats.subscribe(busNames().rpc(method), {
    callback: (error, message) => {
      if (error) return;
      nats.request(platform.rpc(method), message.data, { timeout: 10_000, headers: message.headers }).then(
        (reply) => message.respond(reply.data),
        (failure: Error) => message.respond(JSON.stringify({ ok: false, status: failureStatus('ServiceUnavailable', `relay to the platform failed: ${failure.message}`) })),
      );
    },
  });
}

/** Deletes the isolated bus's event stream (and with it its consumers). */
export async function dropIsolatedBus(nats: NatsConnection): Promise<void> {
  const names = busNames();
  if (!process.env.PAAS_BUS_PREFIX) throw new Error('dropIsolatedBus: this process is not on an isolated bus');
  const jsm = await nats.jetstreamManager();
  await jsm.streams.delete(names.stream).catch(() => undefined);
}

/**
 * Polls `probe` until it returns a value (undefined means "not yet") or `timeoutMs` passes.
 * A probe may throw to say why not yet; the last reason is in the timeout's message.
 */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 120_000, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}
