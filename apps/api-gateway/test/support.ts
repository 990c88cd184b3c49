import { getConnectionToken } from '@nestjs/mongoose';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { ADMIN_USER } from '@paas/contracts/auth';
import { createHttpService } from '@paas/platform/bootstrap';
import { dropIsolatedBus, isolateBus } from '@paas/platform/testing';
import { NATS_CONNECTION } from '@paas/platform/tokens';
import type { Connection } from 'mongoose';
import request from 'supertest';
import { AppModule, GATEWAY_OPTIONS } from '../src/app.module';
import { CLUSTER_SCOPE } from '../src/cluster-scope';
import { NamespaceRepository } from '../src/namespaces/namespace.repository';
import { RoleBindingRepository } from '../src/rolebindings/rolebinding.repository';
import { ServiceAccountRepository } from '../src/serviceaccounts/serviceaccount.repository';
import { ApiTokenRepository } from '../src/tokens/api-token.repository';
import { adminPassword } from '../src/users/admin-bootstrap';

export interface GatewayOptions {
  /**
   * A database of its own, dropped at close. Without it a gateway uses the database of the
   * test file's isolated prefix (isolateBus), shared with the file's other gateways (a second
   * replica, a restart); with it, none of their records (login failures, say) reach it.
   */
  ownDatabase?: boolean;
  /** Another gateway's own database (`dbPrefix` of its handle), as a second replica uses it; not dropped at close. */
  dbPrefix?: string;
  /** Environment set while the gateway is created (settings are read then). */
  env?: Record<string, string>;
}

/**
 * A gateway in-process on an isolated bus and database (isolateBus), against the real NATS
 * and Mongo-compatible server, with the admin whose password is in
 * `<PAAS_HOME>/secrets/admin-password`.
 */
export async function startGateway(suite: string, options: GatewayOptions = {}) {
  const prefix = isolateBus(suite);
  const saved = { ...process.env };
  const dbPrefix = options.dbPrefix ?? (options.ownDatabase ? prefix.replace(/-/g, '_') : undefined);
  Object.assign(process.env, options.env, dbPrefix ? { PAAS_DB_PREFIX: dbPrefix } : {});
  const app = await createHttpService(AppModule, { ...GATEWAY_OPTIONS, logger: false }).finally(() => {
    for (const key of [...Object.keys(options.env ?? {}), 'PAAS_DB_PREFIX']) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  });
  // Listening on a port of its own: given a server that does not listen, supertest binds and
  // closes it around every request, and requests sent in parallel then close it under each other.
  await app.listen(0, '127.0.0.1');
  const server = app.getHttpServer();
  const url = await app.getUrl();
  return {
    app,
    server,
    dbPrefix,
    /** Without credentials. */
    anonymous: request(url),
    /** Every request with Basic credentials. */
    as: (user: string, password: string) => request.agent(url).auth(user, password),
    /** Every request with `Authorization: Bearer <token>`. */
    withToken: (token: string) => request.agent(url).set('Authorization', `Bearer ${token}`),
    admin: request.agent(url).auth(ADMIN_USER, adminPassword()),
    close: async () => {
      process.env.PAAS_BUS_PREFIX = prefix; // a later startGateway moved it on
      await dropIsolatedBus(app.get(NATS_CONNECTION));
      if (options.ownDatabase) await app.get<Connection>(getConnectionToken()).dropDatabase();
      await app.close();
    },
  };
}

/**
 * Removes a test namespace with what the gateway keeps of it (DELETE would ask the other
 * services, which are not on the isolated bus).
 */
export async function forgetNamespace(app: NestFastifyApplication, namespace: string): Promise<void> {
  const ignore = () => undefined;
  for (const account of await app.get(ServiceAccountRepository).list({ namespace })) await app.get(ServiceAccountRepository).delete(namespace, account.metadata.name).catch(ignore);
  await app.get(ApiTokenRepository).deleteOfServiceAccounts(namespace);
  for (const binding of await app.get(RoleBindingRepository).list(namespace)) await app.get(RoleBindingRepository).delete(namespace, binding.metadata.name).catch(ignore);
  await app.get(NamespaceRepository).delete(CLUSTER_SCOPE, namespace).catch(ignore);
}
