import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { storedResourceSchema } from '@paas/platform/resource-repository';
import { IMAGESTREAMS_COLLECTION, ImageStreamRepository } from './imagestream.repository';
import { RegistryStorageModule } from '../storage/registry-storage.module';
import { ForgetDeletedImage } from './forget-deleted-image.usecase';
import { FollowTagReferences } from './follow-tag-references.usecase';
import { ImageStreamCache } from './imagestream-cache';
import { ImageStreamsRpc } from './imagestreams.rpc';
import { ImageStreamsService } from './imagestreams.service';
import { RecordImageTag } from './record-image-tag.usecase';

@Module({
  imports: [MongooseModule.forFeature([{ name: IMAGESTREAMS_COLLECTION, schema: storedResourceSchema(IMAGESTREAMS_COLLECTION) }]), RegistryStorageModule],
  providers: [ImageStreamRepository, ImageStreamCache, ImageStreamsService, ImageStreamsRpc, RecordImageTag, FollowTagReferences, ForgetDeletedImage],
  exports: [ImageStreamsService, RecordImageTag, FollowTagReferences, ForgetDeletedImage],
})
export class ImageStreamsModule {}
