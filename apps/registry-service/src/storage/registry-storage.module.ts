import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import path from 'node:path';
import { loadConfig } from '@paas/platform/config';
import { BLOB_STORE } from '../adapters/blob-store';
import { FilesystemBlobStore } from '../adapters/filesystem-blob-store';
import { REGISTRY_MODELS, RegistryMetadataRepository } from '../distribution/registry-metadata.repository';
import { REGISTRY_SETTINGS, loadRegistrySettings } from '../registry-settings';

/** Where the filesystem driver keeps blobs and uploads. */
export function registryDataDir(): string {
  return path.join(loadConfig().home, 'data', 'registry');
}

/** What the registry stores, shared by the Distribution API and the ImageStreams: blob bytes, metadata and settings. */
@Module({
  imports: [MongooseModule.forFeature(REGISTRY_MODELS)],
  providers: [
    { provide: BLOB_STORE, useFactory: () => new FilesystemBlobStore(registryDataDir()) },
    { provide: REGISTRY_SETTINGS, useFactory: loadRegistrySettings },
    RegistryMetadataRepository,
  ],
  exports: [BLOB_STORE, REGISTRY_SETTINGS, RegistryMetadataRepository],
})
export class RegistryStorageModule {}
