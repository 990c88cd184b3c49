import { Module } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { HttpServiceOptions } from '@paas/platform/bootstrap';
import { acceptJsonBodiesOnly, drainUnreadBodies, refuseOversizedContinue } from '@paas/platform/http-edge';
import { HTTP_JSON_LIMITS } from '@paas/platform/json-limits';
import { HealthModule } from '@paas/platform/health.module';
import { MetricsModule } from '@paas/platform/metrics.module';
import { MessagingModule } from '@paas/platform/messaging.module';
import { mongoRoot } from '@paas/platform/mongo';
import { BASE_PORTS } from '@paas/platform/ports';
import { AppsModule } from './apps/apps.module';
import { AuditModule } from './audit/audit.module';
import { AuthModule } from './auth/auth.module';
import { EventsModule } from './events/events.module';
import { BinaryBuildsModule } from './binary-builds/binary-builds.module';
import { acceptBinaryUploads, isBinaryUpload } from './edge/binary-uploads';
import { addCors } from './edge/cors';
import { acceptEmptyJsonBodies } from './edge/empty-bodies';
import { addSecurityHeaders } from './edge/security-headers';
import { GATEWAY_SETTINGS, type GatewaySettings } from './gateway-settings';
import { NamespacesModule } from './namespaces/namespaces.module';
import { BuildersModule } from './builders/builders.module';
import { NodesModule } from './nodes/nodes.module';
import { RegistryTokensModule } from './registry-tokens/registry-tokens.module';
import { ResourcesModule } from './resources/resources.module';
import { RoleBindingsModule } from './rolebindings/rolebindings.module';
import { ServiceAccountsModule } from './serviceaccounts/serviceaccounts.module';
import { SettingsModule } from './settings.module';
import { StoreModule } from './store.module';
import { TokensModule } from './tokens/tokens.module';
import { UsersModule } from './users/users.module';
import { WebhooksModule } from './webhooks/webhooks.module';

@Module({
  imports: [
    MessagingModule.forRoot('api-gateway'),
    mongoRoot('paas_gateway'),
    HealthModule,
    MetricsModule,
    SettingsModule,
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
    EventsModule,
    ResourcesModule,
    NodesModule,
    BuildersModule,
    WebhooksModule,
    BinaryBuildsModule,
  ],
})
export class AppModule {}

/** Bodies above this get 413: resources are small; sources come from git or as a Binary build's upload (its own limit). */
const BODY_LIMIT_BYTES = 512 * 1024;

export const GATEWAY_OPTIONS: HttpServiceOptions = {
  name: 'api-gateway',
  defaultPort: BASE_PORTS.gateway,
  defaultAdminPort: BASE_PORTS.gatewayAdmin,
  bodyLimitBytes: BODY_LIMIT_BYTES,
  configure: configureEdge,
};

/** What every request meets before a guard or handler: see docs/security.md, "The HTTP edge". */
function configureEdge(app: NestFastifyApplication) {
  const fastify = app.getHttpAdapter().getInstance();
  const settings = app.get<GatewaySettings>(GATEWAY_SETTINGS);
  addCors(fastify, settings.corsOrigins);
  addSecurityHeaders(fastify);
  acceptEmptyJsonBodies(fastify);
  acceptJsonBodiesOnly(app, HTTP_JSON_LIMITS);
  acceptBinaryUploads(fastify, settings.binaryMaxBytes);
  drainUnreadBodies(fastify);
  refuseOversizedContinue(fastify.server, (request) => (isBinaryUpload(request) ? settings.binaryMaxBytes : BODY_LIMIT_BYTES));
}
