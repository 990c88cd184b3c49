import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { storedResourceSchema } from '@paas/platform/resource-repository';
import { AdmitDomain } from './admit-domain.usecase';
import { CreateRoute } from './create-route.usecase';
import { DeleteRoute } from './delete-route.usecase';
import { RouteSync } from './route-sync';
import { RouteWrites } from './route-writes';
import { ROUTES_COLLECTION, RouteRepository } from './route.repository';
import { RoutesRpc } from './routes.rpc';
import { UpdateRoute } from './update-route.usecase';

@Module({
  imports: [MongooseModule.forFeature([{ name: ROUTES_COLLECTION, schema: storedResourceSchema(ROUTES_COLLECTION) }])],
  providers: [RouteRepository, RouteWrites, AdmitDomain, CreateRoute, UpdateRoute, DeleteRoute, RoutesRpc, RouteSync],
})
export class RoutesModule {}
