import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { EventsModule } from '../events/events.module';
import { DeleteNamespaceUseCase } from './delete-namespace.usecase';
import { NamespacesController } from './namespaces.controller';
import { NamespacesRpc } from './namespaces.rpc';
import { NamespacesService } from './namespaces.service';

@Module({
  imports: [AuthModule, EventsModule],
  controllers: [NamespacesController],
  providers: [NamespacesService, DeleteNamespaceUseCase, NamespacesRpc],
  exports: [NamespacesService],
})
export class NamespacesModule {}
