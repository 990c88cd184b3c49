import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { storedResourceSchema } from '@paas/platform/resource-repository';
import { NAMESPACES_COLLECTION, NamespaceRepository } from './namespace.repository';
import { NamespacesController } from './namespaces.controller';
import { DeleteNamespaceUseCase } from './delete-namespace.usecase';
import { NamespacesService } from './namespaces.service';

@Module({
  imports: [MongooseModule.forFeature([{ name: NAMESPACES_COLLECTION, schema: storedResourceSchema(NAMESPACES_COLLECTION) }])],
  controllers: [NamespacesController],
  providers: [NamespaceRepository, NamespacesService, DeleteNamespaceUseCase],
  exports: [NamespacesService],
})
export class NamespacesModule {}
