import { Logger, type DynamicModule } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import type { Connection } from 'mongoose';
import { loadConfig } from './config';

/**
 * The service's own database on the shared Mongo-compatible server (FerretDB here, any
 * MongoDB through MONGO_URL). An error listener is attached, since an unhandled
 * connection `error` event would kill the process.
 */
export function mongoRoot(dbName: string): DynamicModule {
  return MongooseModule.forRootAsync({
    useFactory: () => ({
      uri: loadConfig().mongoUrl,
      dbName,
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
