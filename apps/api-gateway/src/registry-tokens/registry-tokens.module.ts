import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { AuthModule } from '../auth/auth.module';
import { DockerTokenController } from './docker-token.controller';
import { RegistryAuthRpc } from './registry-auth.rpc';
import { RegistryTokenIssuer } from './registry-token.issuer';
import { SIGNING_KEYS_COLLECTION, SigningKeyRepository, signingKeySchema } from './signing-key.repository';

/** The registry's token issuer: Docker's token endpoint, and `auth.keys`/`auth.registryToken` over NATS. */
@Module({
  imports: [AuthModule, MongooseModule.forFeature([{ name: SIGNING_KEYS_COLLECTION, schema: signingKeySchema }])],
  controllers: [DockerTokenController],
  providers: [SigningKeyRepository, RegistryTokenIssuer, RegistryAuthRpc],
})
export class RegistryTokensModule {}
