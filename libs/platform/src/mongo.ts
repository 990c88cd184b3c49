import { Inject, Injectable, Logger, Module, type DynamicModule, type OnApplicationShutdown } from '@nestjs/common';
import { getConnectionToken } from '@nestjs/mongoose';
import mongoose, { type Connection, type Model, type QueryFilter, type UpdateQuery } from 'mongoose';
import { setTimeout } from 'node:timers/promises';
import { loadConfig } from './config';

/**
 * A service's database name: `<prefix>_<name>` under a database prefix (`PAAS_DB_PREFIX`),
 * so that a second copy of a service (a benchmark's, say) keeps its data apart from the
 * running platform's on the same server; the name unchanged without one.
 */
export function databaseName(name: string, prefix = loadConfig().dbPrefix): string {
  return prefix ? `${prefix.replace(/[^A-Za-z0-9_-]/g, '_')}_${name}` : name;
}

/**
 * How often an idle connection pool looks for connections to add or prune when no minimum
 * size is asked for. The driver's default (an internal option, 100 ms) wakes every idle
 * service ten times a second to find nothing to do: about 2 ms of CPU a second per process
 * here (scripts/experiments/idle-wakeups.mjs). Perished connections are also pruned at
 * checkout, so nothing waits on this check; with `minPoolSize` in MONGO_URL the default stays.
 */
const IDLE_POOL_CHECK_MS = 60_000;
const CONNECT_ATTEMPTS = 20;
const CONNECT_RETRY_MS = 1_000;

@Injectable()
class MongoLifecycle implements OnApplicationShutdown {
  constructor(@Inject(getConnectionToken()) private readonly connection: Connection) {}

  async onApplicationShutdown() {
    await this.connection.close();
  }
}

@Module({})
class MongoRootModule {}

/**
 * The service's own database on the shared Mongo-compatible server (FerretDB here, any
 * MongoDB through MONGO_URL), as the connection `MongooseModule.forFeature` models use. The
 * client is made here rather than by MongooseModule.forRoot so that its pool can be told to
 * stay quiet when idle (IDLE_POOL_CHECK_MS), which no public option does. An error listener
 * is attached, since an unhandled connection `error` event would kill the process.
 */
export function mongoRoot(dbName: string): DynamicModule {
  return {
    module: MongoRootModule,
    global: true,
    providers: [{ provide: getConnectionToken(), useFactory: () => openDatabase(databaseName(dbName)) }, MongoLifecycle],
    exports: [getConnectionToken()],
  };
}

async function openDatabase(dbName: string): Promise<Connection> {
  const logger = new Logger('Mongo');
  for (let attempt = 1; ; attempt++) {
    const client = new mongoose.mongo.MongoClient(loadConfig().mongoUrl, { serverSelectionTimeoutMS: 5_000 });
    const options = client.options as { minPoolSize: number; minPoolSizeCheckFrequencyMS?: number };
    if (options.minPoolSize === 0) options.minPoolSizeCheckFrequencyMS = IDLE_POOL_CHECK_MS;
    try {
      await client.connect();
    } catch (error) {
      await client.close().catch(() => undefined);
      if (attempt === CONNECT_ATTEMPTS) throw error;
      logger.warn({ msg: `cannot reach the database (attempt ${attempt} of ${CONNECT_ATTEMPTS}): ${(error as Error).message}` });
      await setTimeout(CONNECT_RETRY_MS);
      continue;
    }
    const server = mongoose.createConnection().setClient(client);
    server.on('error', (error: Error) => logger.error({ msg: `mongo connection error: ${error.message}` }));
    return server.useDb(dbName);
  }
}

const DUPLICATE_KEY = 11000;

/**
 * An upsert by `_id` that survives a race: when two writers insert the same new document at
 * once (two pushes of one layer into a new repository, two replicas starting together), the
 * loser's insert fails on the duplicate key, and its update is applied to the document the
 * winner made. (Two such updates race as any FerretDB update does: last writer wins.)
 */
export async function upsertById<T extends { _id: string }>(model: Model<T>, id: string, update: UpdateQuery<T>): Promise<void> {
  try {
    await model.updateOne({ _id: id } as QueryFilter<T>, update, { upsert: true }).exec();
  } catch (error) {
    if ((error as { code?: number }).code !== DUPLICATE_KEY) throw error;
    await model.updateOne({ _id: id } as QueryFilter<T>, update).exec();
  }
}
