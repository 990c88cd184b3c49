import { Module } from '@nestjs/common';
import { NamespacesModule } from '../namespaces/namespaces.module';
import { TokensModule } from '../tokens/tokens.module';
import { ServiceAccountsController } from './serviceaccounts.controller';
import { ServiceAccountsService } from './serviceaccounts.service';

@Module({ imports: [NamespacesModule, TokensModule], controllers: [ServiceAccountsController], providers: [ServiceAccountsService] })
export class ServiceAccountsModule {}
