import { Module } from '@nestjs/common';
import { NamespacesModule } from '../namespaces/namespaces.module';
import { RoleBindingsController } from './rolebindings.controller';
import { RoleBindingsService } from './rolebindings.service';

@Module({ imports: [NamespacesModule], controllers: [RoleBindingsController], providers: [RoleBindingsService] })
export class RoleBindingsModule {}
