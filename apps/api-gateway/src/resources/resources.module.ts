import { Module } from '@nestjs/common';
import { NamespacesModule } from '../namespaces/namespaces.module';
import { ResourceGateway } from './resource-gateway';
import { ResourcesController } from './resources.controller';

@Module({ imports: [NamespacesModule], controllers: [ResourcesController], providers: [ResourceGateway], exports: [ResourceGateway] })
export class ResourcesModule {}
