import { randomUUID } from 'node:crypto';
import type { RpcMethod, RpcReply, RpcRequest, RpcResponse } from '@paas/contracts/rpc';
import { failureStatus } from '@paas/contracts/status';
import mongoose from 'mongoose';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { NatsConnection, Subscription } from 'nats';
import { busNames } from './bus-names';
import { busSettings } from './bus-settings';
import { loadConfig } from './config';
import { databaseName } from './mongo';

/**
 * For integration tests: from now on this process talks on its own bus prefix and (unless the
 * test chose one) its own database prefix, so the services it starts in-process stay apart
 * from a platform running on the same NATS and Mongo: no shared queue groups, consumers,
 * records or leases (a test's replica would otherwise take shards of the platform's). Its
 * containers carry the prefix as their instance. Call it before creating any Nest
 * application; returns the prefix.
 */
export function isolateBus(suite: string): string {
  const prefix = `test-${suite}-${randomUUID().slice(0, 8)}`;
  process.env.PAAS_BUS_PREFIX = prefix;
  process.env.PAAS_DB_PREFIX ??= prefix;
  return prefix;
}

/**
 * The bus of the platform `npm run up` runs, whatever this process's own prefix: the empty
 * prefix, or `copy<offset>` for a copy on moved ports (PAAS_PORT_OFFSET, see config.ts).
 */
export function platformBus() {
  return busNames(loadConfig({ ...process.env, PAAS_BUS_PREFIX: '' }).busPrefix);
}

/**
 * Answers `method` on this isolated bus by asking the running platform (platformBus): a
 * service tested in-process gets, say, its registry tokens from the platform's real
 * api-gateway. Unsubscribe when done.
 */
export function relayToPlatform(nats: NatsConnection, method: RpcMethod): Subscription {
  const platform = platformBus();
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

/** Deletes the isolated bus's event stream (and with it its consumers), and the databases of the isolated prefix. */
export async function dropIsolatedBus(nats: NatsConnection): Promise<void> {
  const names = busNames();
  const { busPrefix, dbPrefix, mongoUrl } = loadConfig();
  if (!busPrefix) throw new Error('dropIsolatedBus: this process is not on an isolated bus');
  const jsm = await nats.jetstreamManager();
  await jsm.streams.delete(names.stream).catch(() => undefined);
  if (dbPrefix === busPrefix) await dropDatabases(mongoUrl, databaseName('', dbPrefix));
}

/** Drops every database whose name starts with `prefix`. */
async function dropDatabases(mongoUrl: string, prefix: string): Promise<void> {
  const connection = await mongoose.createConnection(mongoUrl).asPromise();
  try {
    const { databases } = await connection.listDatabases();
    for (const { name } of databases.filter((database) => database.name.startsWith(prefix))) await connection.useDb(name).dropDatabase();
  } finally {
    await connection.close();
  }
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

/**
 * One replica of a service as a real process (its built `main.js`), with `env` on top of this
 * one's and its output appended to `logFile`; the test stops it by its pid (SIGTERM, or SIGKILL
 * to play a crash). Short lease timings make takeovers quick: pass them in `env`.
 */
export function spawnService(main: string, env: NodeJS.ProcessEnv, logFile: string): ChildProcess {
  const out = openSync(logFile, 'a');
  try {
    return spawn(process.execPath, [main], { env: { ...process.env, ZIPKIN_URL: '', ...env }, stdio: ['ignore', out, out] });
  } finally {
    closeSync(out);
  }
}

/** A TCP port free on loopback right now (for a process the test starts and must name a port for). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** Whether a process of this user with this pid still exists (a SIGKILL test waits for its victim to be gone). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * How many clients of the platform's NATS subscribe to `subject`, from each server's monitor
 * (`/connz`; its port lies as far from NATS_MONITOR_PORT as the server's from NATS_PORT, as `npm
 * run up` places them). A killed process's exit is not the server's forgetting it: the server
 * reads the closed socket when it gets to it, and a request published meanwhile may go to the
 * dead member of a queue group and be lost. A test that kills one waits for this count to drop.
 */
export async function subscribersOf(subject: string): Promise<number> {
  const portShift = Number(process.env.NATS_MONITOR_PORT ?? 8222) - Number(process.env.NATS_PORT ?? 4222);
  let count = 0;
  for (const server of busSettings().servers) {
    const { hostname, port } = new URL(server);
    const response = await fetch(`http://${hostname}:${Number(port || 4222) + portShift}/connz?subs=1&limit=4096`);
    const connz = (await response.json()) as { connections?: { subscriptions_list?: string[] }[] };
    count += (connz.connections ?? []).filter((connection) => connection.subscriptions_list?.includes(subject)).length;
  }
  return count;
}

/** Asks `method` on the bus of `prefix` (a service started with `spawnService`); throws the Status of a refusal. */
export async function requestOn<M extends RpcMethod>(nats: NatsConnection, prefix: string, method: M, request: RpcRequest<M>): Promise<RpcResponse<M>> {
  const message = await nats.request(busNames(prefix).rpc(method), JSON.stringify(request), { timeout: 15_000 });
  const reply = message.json<RpcReply<RpcResponse<M>>>();
  if (!reply.ok) throw new Error(`${method}: ${reply.status.code} ${reply.status.message}`);
  return reply.result;
}

/**
 * A tiny web server image made without any registry (none is reachable here): the host's
 * static busybox, its httpd on 8080 serving one page that says `text`. `changes` are more
 * `docker import --change` instructions (a LABEL to find the image by, say); `command` replaces
 * the httpd (a shell command line).
 */
export function buildWebImage(tag: string, text: string, changes: string[] = [], command?: string): void {
  const root = mkdtempSync(path.join(tmpdir(), 'paas-web-image-'));
  const tar = `${root}.tar`;
  try {
    mkdirSync(path.join(root, 'bin'));
    mkdirSync(path.join(root, 'www'));
    copyFileSync('/bin/busybox', path.join(root, 'bin/busybox'));
    symlinkSync('busybox', path.join(root, 'bin/sh'));
    writeFileSync(path.join(root, 'www/index.html'), text);
    execFileSync('tar', ['-C', root, '-cf', tar, '.']);
    const cmd = command ? `CMD ${JSON.stringify(['/bin/sh', '-c', command])}` : 'CMD ["/bin/busybox","httpd","-f","-p","8080","-h","/www"]';
    const args = [...changes, cmd].flatMap((change) => ['--change', change]);
    execFileSync('docker', ['import', ...args, tar, tag], { stdio: 'pipe' });
  } finally {
    rmSync(tar, { force: true });
    rmSync(root, { recursive: true, force: true });
  }
}
