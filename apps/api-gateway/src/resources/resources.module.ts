import { Module } from '@nestjs/common';
import { NamespacesModule } from '../namespaces/namespaces.module';
import { ResourceGateway } from './resource-gateway';
import { ResourceWakeups } from './resource-wakeups';
import { ResourcesController } from './resources.controller';

@Module({ imports: [NamespacesModule], controllers: [ResourcesController], providers: [ResourceGateway, ResourceWakeups], exports: [ResourceGateway] })
export class ResourcesModule {}
