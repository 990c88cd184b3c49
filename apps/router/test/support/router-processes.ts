import { EventBus } from '@paas/platform/events';
import { loadConfig } from '@paas/platform/config';
import { databaseName } from '@paas/platform/mongo';
import { RpcClient } from '@paas/platform/rpc';
import { eventually, freePort } from '@paas/platform/testing';
import mongoose from 'mongoose';
import { connect, type NatsConnection } from 'nats';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, openSync, closeSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * Real processes for the router's resilience tests: a private nats-server, router
 * processes started from the built `main.js`, node:http backends, and a client on the
 * private bus that creates Routes and publishes Endpoints as the platform does.
 */

export const REPO = path.resolve(__dirname, '../../../..');

export interface Answer {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

/** One request to 127.0.0.1 with a Host header (`*.localhost` does not resolve in Node here). */
export function get(port: number, host: string, urlPath = '/', agent: http.Agent | false = false, timeoutMs = 5_000): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: urlPath, headers: { host }, agent, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from 127.0.0.1:${port} in ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/** Polls until `check` accepts an answer; a request that fails counts as not yet. */
export function until(ask: () => Promise<Answer>, check: (answer: Answer) => boolean, what: string, timeoutMs = 30_000): Promise<Answer> {
  return eventually(
    what,
    async () => {
      const answer = await ask();
      if (!check(answer)) throw new Error(`last answer: ${answer.status} ${answer.body.slice(0, 200)}`);
      return answer;
    },
    timeoutMs,
    100,
  );
}


export interface Backend {
  name: string;
  port: number;
  close(): Promise<void>;
}

/** A tiny application that answers its own name; after `delayMs` when the path has `?slow`. */
export async function backend(name: string, delayMs = 0): Promise<Backend> {
  const server = http.createServer((req, res) => {
    req.resume();
    if (req.url?.includes('?slow')) setTimeout(() => res.end(name), delayMs);
    else res.end(name);
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    name,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A nats-server of the test's own with JetStream (its store in `storeDir`), killed by pid. */
export class NatsProcess {
  private process?: ChildProcess;

  constructor(
    readonly port: number,
    readonly storeDir: string,
  ) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  async start(): Promise<void> {
    this.process = spawn('nats-server', ['-a', '127.0.0.1', '-p', String(this.port), '-js', '-sd', this.storeDir], { stdio: 'ignore' });
    await eventually(
      `nats-server on ${this.port}`,
      async () => {
        const probe = await connect({ servers: this.url, reconnect: false });
        await probe.close();
        return true;
      },
      10_000,
      100,
    );
  }

  /** Sends `signal` to the server's pid and waits for it to be gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.process;
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    process.kill(child.pid, signal);
    await exited;
  }
}

/** Compiles the router (as `npm run up` does) so that tests run the code under test as a process. */
export function buildRouter(): void {
  execFileSync(path.join(REPO, 'node_modules/.bin/tsc'), ['-b', 'apps/router/tsconfig.app.json'], { cwd: REPO, stdio: 'pipe' });
}

export interface RouterProcessOptions {
  home: string;
  natsUrl: string;
  dbPrefix: string;
  env?: NodeJS.ProcessEnv;
}

/** A router process (apps/router/dist/main.js) on free ports; its output goes to `<home>/router-<n>.log`. */
export class RouterProcess {
  private static started = 0;
  private process?: ChildProcess;
  httpPort = 0;
  adminPort = 0;
  logFile = '';

  constructor(private readonly options: RouterProcessOptions) {}

  get pid(): number | undefined {
    return this.process?.pid;
  }

  get running(): boolean {
    return !!this.process && this.process.exitCode === null && this.process.signalCode === null;
  }

  /** Starts it and waits until its data plane answers (the control plane may still be waiting). */
  async start(): Promise<void> {
    [this.httpPort, this.adminPort] = [await freePort(), await freePort()];
    this.logFile = path.join(this.options.home, `router-${++RouterProcess.started}.log`);
    const log = openSync(this.logFile, 'a');
    this.process = spawn(process.execPath, [path.join(REPO, 'apps/router/dist/main.js')], {
      env: {
        ...process.env,
        PAAS_HOME: this.options.home,
        NATS_URL: this.options.natsUrl,
        PAAS_DB_PREFIX: this.options.dbPrefix,
        PAAS_BUS_PREFIX: '',
        ROUTER_HTTP_PORT: String(this.httpPort),
        ROUTER_TLS_PORT: String(await freePort()),
        PORT: String(this.adminPort),
        ROUTER_RESYNC_SECONDS: '3600',
        ZIPKIN_URL: '',
        ...this.options.env,
      },
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    await eventually(`the router's data plane on ${this.httpPort}`, async () => {
      if (!this.running) throw new Error(`the router exited (${this.process?.exitCode ?? this.process?.signalCode}); see ${this.logFile}`);
      return (await get(this.httpPort, 'probe.invalid')).status > 0 ? true : undefined;
    }, 20_000, 100);
  }

  /** Waits for the admin port's `/readyz` to say 200 (NATS and Mongo reached). */
  async ready(): Promise<void> {
    await until(() => get(this.adminPort, 'localhost', '/readyz'), (a) => a.status === 200, `the router on ${this.adminPort} to be ready`);
  }

  /** SIGTERM, and SIGKILL after `graceMs`; answers whether it ended by itself in time. */
  async stop(graceMs = 10_000): Promise<boolean> {
    const child = this.process;
    if (!child?.pid || !this.running) return true;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    process.kill(child.pid, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const inTime = await Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), graceMs)))]);
    clearTimeout(timer);
    if (!inTime) {
      process.kill(child.pid, 'SIGKILL');
      await exited;
    }
    return inTime;
  }
}

/** The test's own view of the private bus: Routes over RPC and endpoints.changed events, as the platform sends them. */
export class ControlClient {
  private constructor(
    readonly nats: NatsConnection,
    readonly rpc: RpcClient,
    readonly bus: EventBus,
  ) {}

  static async connect(url: string): Promise<ControlClient> {
    const nats = await connect({ servers: url, name: 'router-resilience-test' });
    return new ControlClient(nats, new RpcClient(nats), new EventBus(nats, 'router-resilience-test'));
  }

  private generation = Date.now();

  /** Publishes the ready endpoints of Service `namespace/name` with a new generation. */
  async endpoints(namespace: string, name: string, backends: Backend[]): Promise<void> {
    await this.bus.publish('endpoints.changed', {
      namespace,
      name,
      generation: ++this.generation,
      addresses: backends.map((b) => ({ ip: '127.0.0.1', port: b.port, pod: b.name })),
    });
  }

  async close(): Promise<void> {
    await this.bus.onApplicationShutdown();
    await this.nats.close();
  }
}

/** A private PAAS_HOME and database prefix, removed by `remove`. */
export class Isolation {
  readonly home = mkdtempSync(path.join(tmpdir(), 'router-resilience-'));
  readonly dbPrefix = `test_router_${randomUUID().slice(0, 8)}`;

  async remove(): Promise<void> {
    const connection = await mongoose.createConnection(loadConfig().mongoUrl, { dbName: databaseName('paas_router', this.dbPrefix), serverSelectionTimeoutMS: 5_000 }).asPromise();
    try {
      await connection.dropDatabase();
    } finally {
      await connection.close();
    }
    rmSync(this.home, { recursive: true, force: true });
  }
}

/**
 * What most router tests start from: a NATS of their own, one router process on it, ready, and
 * a control client to publish endpoints and ask over RPC; `stop` stops and removes it all.
 */
export class RouterHarness {
  readonly isolation = new Isolation();
  nats?: NatsProcess;
  router?: RouterProcess;
  control?: ControlClient;

  async start(env: Record<string, string> = {}): Promise<{ nats: NatsProcess; router: RouterProcess; control: ControlClient }> {
    buildRouter();
    const nats = (this.nats = new NatsProcess(await freePort(), path.join(this.isolation.home, 'jetstream')));
    await nats.start();
    const router = (this.router = new RouterProcess({ home: this.isolation.home, natsUrl: nats.url, dbPrefix: this.isolation.dbPrefix, env }));
    await router.start();
    await router.ready();
    const control = (this.control = await ControlClient.connect(nats.url));
    return { nats, router, control };
  }

  async stop(): Promise<void> {
    await this.control?.close();
    await this.router?.stop(2_000);
    await this.nats?.kill();
    await this.isolation.remove();
  }
}
