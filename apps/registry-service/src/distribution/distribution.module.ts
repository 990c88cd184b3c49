import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import path from 'node:path';
import { loadConfig } from '@paas/platform/config';
import { BLOB_STORE } from '../adapters/blob-store';
import { FilesystemBlobStore } from '../adapters/filesystem-blob-store';
import { REGISTRY_SETTINGS, loadRegistrySettings } from '../registry-settings';
import { ImageStreamsModule } from '../imagestreams/imagestreams.module';
import { BlobUploads } from './blob-uploads';
import { Blobs } from './blobs';
import { Manifests } from './manifests';
import { PushManifest } from './push-manifest.usecase';
import { REGISTRY_MODELS, RegistryMetadataRepository } from './registry-metadata.repository';
import { RegistryMaintenance } from './registry-maintenance';
import { RegistryHttp } from './registry.http';

/** Where the filesystem driver keeps blobs and uploads. */
export function registryDataDir(): string {
  return path.join(loadConfig().home, 'data', 'registry');
}

@Module({
  imports: [MongooseModule.forFeature(REGISTRY_MODELS), ImageStreamsModule],
  providers: [
    { provide: BLOB_STORE, useFactory: () => new FilesystemBlobStore(registryDataDir()) },
    { provide: REGISTRY_SETTINGS, useFactory: loadRegistrySettings },
    RegistryMetadataRepository,
    Blobs,
    BlobUploads,
    Manifests,
    PushManifest,
    RegistryMaintenance,
    RegistryHttp,
  ],
  exports: [RegistryHttp, RegistryMetadataRepository, RegistryMaintenance],
})
export class DistributionModule {}
