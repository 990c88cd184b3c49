import { busNames } from '@paas/platform/bus-names';
import { busConnectionOptions } from '@paas/platform/bus-settings';
import { loadConfig } from '@paas/platform/config';
import { databaseName } from '@paas/platform/mongo';
import mongoose, { type Connection } from 'mongoose';
import { connect, type NatsConnection } from 'nats';
import { rmSync } from 'node:fs';

/**
 * What a test needs of a deploy-service copy it spawns on a bus and database of their own
 * (`prefix` as PAAS_BUS_PREFIX and PAAS_DB_PREFIX): the platform's NATS, to ask the copy, and the
 * copy's database.
 */
export async function connectToCopy(prefix: string): Promise<{ nats: NatsConnection; db: Connection }> {
  const nats = await connect(busConnectionOptions('integration-test'));
  const db = await mongoose.createConnection(loadConfig().mongoUrl, { dbName: databaseName('paas_deploy', prefix) }).asPromise();
  return { nats, db };
}

/** Drops what the copy of `prefix` leaves once its processes are stopped: its database, its event stream and the folder of its logs. */
export async function dropCopy(prefix: string, connections: { nats?: NatsConnection; db?: Connection }, logs: string): Promise<void> {
  await connections.db?.dropDatabase();
  await connections.db?.close();
  await connections.nats?.jetstreamManager().then((jsm) => jsm.streams.delete(busNames(prefix).stream)).catch(() => undefined);
  await connections.nats?.drain();
  rmSync(logs, { recursive: true, force: true });
}
