import { databaseName } from '@paas/platform/mongo';
import { busNames } from '@paas/platform/bus-names';
import { busConnectionOptions } from '@paas/platform/bus-settings';
import { loadConfig } from '@paas/platform/config';
import mongoose from 'mongoose';
import { connect, nkeyAuthenticator, type ConnectionOptions } from 'nats';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * A private copy of the platform's process management for the scale-out tests: its own
 * PAAS_HOME, port offset, bus prefix and database prefix, driven through
 * `up-steps.mjs`, i.e. through scripts/lib as `npm run up` uses it.
 */
export class PrivateCopy {
  readonly home = mkdtempSync(path.join(tmpdir(), 'paas-scale-'));
  readonly busPrefix: string;
  readonly dbPrefix: string;
  readonly env: NodeJS.ProcessEnv;

  /**
   * A copy with NATS servers of its own (`NATS_PORT` in `env`) makes its own keys and gives its
   * services theirs; one on the platform's NATS hands its services the operator key the test
   * runs with (NATS_NKEY_FILE).
   */
  constructor(suite: string, env: NodeJS.ProcessEnv) {
    const id = randomUUID().slice(0, 8);
    this.busPrefix = `test-${suite}-${id}`;
    this.dbPrefix = `test_${suite}_${id}`;
    const ownNats = env.NATS_PORT !== undefined;
    // The addresses of the platform the test runs against are not the copy's: its own follow its PAAS_PORT_OFFSET.
    const inherited = { ...process.env };
    for (const name of ['REGISTRY_HOST', 'GATEWAY_URL', 'ROUTER_URL', 'PAAS_GATEWAY_URL']) delete inherited[name];
    this.env = {
      ...inherited,
      PAAS_HOME: this.home, PAAS_BUS_PREFIX: this.busPrefix, PAAS_DB_PREFIX: this.dbPrefix, ZIPKIN_URL: '',
      ...(ownNats ? { NATS_NKEY_FILE: '', NATS_URL: '' } : {}),
      ...env,
    };
  }

  /** The NKey file of `name` (a service, or `admin`) that the copy's up made. */
  natsKey(name: string): string {
    return path.join(this.home, 'secrets', 'nats', `${name}.nk`);
  }

  /** How the test connects to the copy's own NATS: as its operator. */
  natsOptions(servers: string[], name: string): ConnectionOptions {
    return { servers, name, authenticator: nkeyAuthenticator(new TextEncoder().encode(readFileSync(this.natsKey('admin'), 'utf8').trim())) };
  }

  /** Runs a step of up (see up-steps.mjs); rejects with its output when it fails. */
  upStep(...args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(process.execPath, [path.join(__dirname, 'up-steps.mjs'), ...args], { env: this.env, encoding: 'utf8', timeout: 180_000, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
        if (error) reject(new Error(`up step ${args[0]} failed: ${error.message}\n${stdout}\n${stderr}`));
        else resolve(stdout);
      });
    });
  }

  pid(name: string): number {
    return Number(readFileSync(path.join(this.home, 'run', `${name}.pid`), 'utf8'));
  }

  /**
   * Drops what the copy's services wrote to the shared NATS (unless `dropStream` is false: a
   * NATS of the copy's own goes with its home) and Mongo, and its home.
   */
  async remove(databases: string[], { dropStream = true } = {}): Promise<void> {
    if (dropStream) {
      const nats = await connect(busConnectionOptions('integration-test'));
      const jsm = await nats.jetstreamManager();
      await jsm.streams.delete(busNames(this.busPrefix).stream).catch(() => undefined);
      await nats.close();
    }
    for (const name of databases) {
      const connection = await mongoose.createConnection(loadConfig().mongoUrl, { dbName: databaseName(name, this.dbPrefix), serverSelectionTimeoutMS: 5_000 }).asPromise();
      await connection.dropDatabase();
      await connection.close();
    }
    rmSync(this.home, { recursive: true, force: true });
  }
}

/** Fails with a clear message when a port the test needs is taken (another copy, another test). */
export async function assertFree(ports: number[]): Promise<void> {
  for (const port of ports) {
    const taken = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ port, host: '127.0.0.1' });
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (taken) throw new Error(`port ${port} is taken: the test needs it for its own copy of the platform`);
  }
}
