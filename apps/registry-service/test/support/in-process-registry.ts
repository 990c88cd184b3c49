import { getConnectionToken } from '@nestjs/mongoose';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createHttpService } from '@paas/platform/bootstrap';
import { dropIsolatedBus, freePort, isolateBus } from '@paas/platform/testing';
import { NATS_CONNECTION } from '@paas/platform/tokens';
import type { Connection } from 'mongoose';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { AppModule, REGISTRY_OPTIONS } from '../../src/app.module';

/**
 * A registry in this process on a free port, with a temporary PAAS_HOME, its own database
 * (garbage collection reads every manifest in it) and an isolated bus, against the real
 * NATS, Mongo-compatible server and Docker engine (which may push to any 127.0.0.0/8
 * registry over plain HTTP). `env` is set before it is created (its settings are read then);
 * `beforeCreate` runs just before. `listen` when the test has answered what it must on the bus.
 */
export async function startRegistry(suite: string, env: Record<string, string>, beforeCreate?: () => void) {
  isolateBus(suite);
  const home = await mkdtemp(path.join(os.tmpdir(), `${suite}-`));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  Object.assign(process.env, { PAAS_HOME: home, REGISTRY_HOST: host, ZIPKIN_URL: '', ...env });
  beforeCreate?.();
  const app: NestFastifyApplication = await createHttpService(AppModule, { ...REGISTRY_OPTIONS, logger: false });
  return {
    app,
    host,
    home,
    listen: () => app.listen(port, '127.0.0.1'),
    /** Removes the images labelled `label`, the database, the bus stream and PAAS_HOME. */
    close: async (label: string) => {
      const run = promisify(execFile);
      const images = (await run('docker', ['images', '-q', '--filter', `label=${label}`])).stdout.split('\n').filter(Boolean);
      if (images.length) await run('docker', ['rmi', '-f', ...new Set(images)]);
      await app.get<Connection>(getConnectionToken()).dropDatabase();
      await dropIsolatedBus(app.get(NATS_CONNECTION));
      await app.close();
      await rm(home, { recursive: true, force: true });
    },
  };
}
