import { Logger, type DynamicModule } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import type { Connection, Model, QueryFilter, UpdateQuery } from 'mongoose';
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
 * The service's own database on the shared Mongo-compatible server (FerretDB here, any
 * MongoDB through MONGO_URL). An error listener is attached, since an unhandled
 * connection `error` event would kill the process.
 */
export function mongoRoot(dbName: string): DynamicModule {
  return MongooseModule.forRootAsync({
    useFactory: () => ({
      uri: loadConfig().mongoUrl,
      dbName: databaseName(dbName),
      serverSelectionTimeoutMS: 5_000,
      retryAttempts: 20,
      retryDelay: 1_000,
      connectionFactory: (connection: Connection) => {
        const logger = new Logger('Mongo');
        connection.on('error', (error: Error) => logger.error({ msg: `mongo connection error: ${error.message}` }));
        return connection;
      },
    }),
  });
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
