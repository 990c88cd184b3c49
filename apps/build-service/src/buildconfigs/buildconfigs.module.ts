import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { storedResourceSchema } from '@paas/platform/resource-repository';
import { BuildsModule } from '../builds/builds.module';
import { BuildConfigCache } from './buildconfig-cache';
import { BUILDCONFIGS_COLLECTION, BuildConfigRepository } from './buildconfig.repository';
import { BuilderImageChangedHandler } from './builder-image-changed.handler';
import { BuildConfigsRpc } from './buildconfigs.rpc';
import { CheckBuildSource } from './check-build-source';
import { CreateBuildConfig } from './create-buildconfig.usecase';
import { DeleteBuildConfig } from './delete-buildconfig.usecase';
import { DescribeBuilders } from './describe-builders.usecase';
import { DetectBuildStrategy } from './detect-strategy.usecase';
import { InstantiateBuild } from './instantiate-build.usecase';
import { ReceiveWebhook } from './receive-webhook.usecase';
import { UpdateBuildConfig } from './update-buildconfig.usecase';

@Module({
  imports: [MongooseModule.forFeature([{ name: BUILDCONFIGS_COLLECTION, schema: storedResourceSchema(BUILDCONFIGS_COLLECTION) }]), BuildsModule],
  providers: [BuildConfigRepository, BuildConfigCache, CheckBuildSource, CreateBuildConfig, UpdateBuildConfig, DeleteBuildConfig, DetectBuildStrategy, DescribeBuilders, InstantiateBuild, ReceiveWebhook, BuildConfigsRpc, BuilderImageChangedHandler],
})
export class BuildConfigsModule {}
