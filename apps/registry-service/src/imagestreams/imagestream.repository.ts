import { Injectable } from '@nestjs/common';
import { InjectModel } from '@nestjs/mongoose';
import type { Model } from 'mongoose';
import type { ImageStream } from '@paas/contracts/images';
import { ResourceRepository, type StoredResource } from '@paas/platform/resource-repository';

export const IMAGESTREAMS_COLLECTION = 'imagestreams';

@Injectable()
export class ImageStreamRepository extends ResourceRepository<ImageStream> {
  constructor(@InjectModel(IMAGESTREAMS_COLLECTION) model: Model<StoredResource>) {
    super(model, 'ImageStream');
  }
}
