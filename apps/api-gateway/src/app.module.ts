import { Module } from '@nestjs/common';
import type { FastifyInstance } from 'fastify';
import type { HttpServiceOptions } from '@paas/platform/bootstrap';
import { HealthModule } from '@paas/platform/health.module';
import { MessagingModule } from '@paas/platform/messaging.module';
import { mongoRoot } from '@paas/platform/mongo';
import { BASE_PORTS } from '@paas/platform/ports';
import { AppsModule } from './apps/apps.module';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { NamespacesModule } from './namespaces/namespaces.module';
import { NodesModule } from './nodes/nodes.module';
import { RegistryTokensModule } from './registry-tokens/registry-tokens.module';
import { ResourcesModule } from './resources/resources.module';
import { RoleBindingsModule } from './rolebindings/rolebindings.module';
import { ServiceAccountsModule } from './serviceaccounts/serviceaccounts.module';
import { StoreModule } from './store.module';
import { TokensModule } from './tokens/tokens.module';
import { UsersModule } from './users/users.module';

@Module({
  imports: [
    MessagingModule.forRoot('api-gateway'),
    mongoRoot('paas_gateway'),
    HealthModule,
    StoreModule,
    AuditModule,
    AuthModule,
    UsersModule,
    TokensModule,
    NamespacesModule,
    ServiceAccountsModule,
    RoleBindingsModule,
    RegistryTokensModule,
    AppsModule,
    ResourcesModule,
    NodesModule,
  ],
})
export class AppModule {}

export const GATEWAY_OPTIONS: HttpServiceOptions = {
  name: 'api-gateway',
  defaultPort: BASE_PORTS.gateway,
  defaultAdminPort: BASE_PORTS.gatewayAdmin,
  /** Bodies above this get 413: resources are small; sources come from git, not the API. */
  bodyLimitBytes: 512 * 1024,
  configure: (app) => acceptEmptyJsonBodies(app.getHttpAdapter().getInstance()),
};

/**
 * Clients (kubectl among them) send `Content-Type: application/json` on a DELETE or an
 * instantiate with no body; Fastify would refuse that with 400. An empty body is no body.
 */
function acceptEmptyJsonBodies(fastify: FastifyInstance) {
  fastify.addHook('onRequest', async (request) => {
    const { headers } = request.raw;
    const hasBody = Number(headers['content-length'] ?? 0) > 0 || headers['transfer-encoding'] !== undefined;
    if (!hasBody) delete headers['content-type'];
  });
}
