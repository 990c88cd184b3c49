import { Module } from '@nestjs/common';
import { NamespacesModule } from '../namespaces/namespaces.module';
import { AppsController } from './apps.controller';
import { CreateAppUseCase } from './create-app.usecase';

@Module({ imports: [NamespacesModule], controllers: [AppsController], providers: [CreateAppUseCase] })
export class AppsModule {}
