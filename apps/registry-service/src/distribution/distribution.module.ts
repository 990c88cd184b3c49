import { Module } from '@nestjs/common';
import { RegistryAuth } from '../auth/registry-auth';
import { ImageStreamsModule } from '../imagestreams/imagestreams.module';
import { NamespaceQuotas } from '../quota/namespace-quotas';
import { StorageQuota } from '../quota/storage-quota';
import { RegistryStorageModule } from '../storage/registry-storage.module';
import { BlobUploads } from './blob-uploads';
import { Blobs } from './blobs';
import { Manifests } from './manifests';
import { PushManifest } from './push-manifest.usecase';
import { RegistryMaintenance } from './registry-maintenance';
import { RegistryHttp } from './registry.http';

@Module({
  imports: [RegistryStorageModule, ImageStreamsModule],
  providers: [RegistryAuth, Blobs, BlobUploads, Manifests, PushManifest, RegistryMaintenance, RegistryHttp, NamespaceQuotas, StorageQuota],
  exports: [RegistryHttp, RegistryMaintenance],
})
export class DistributionModule {}
