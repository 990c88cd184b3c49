import { Module } from '@nestjs/common';
import { AdminBootstrap } from './admin-bootstrap';
import { UsersController } from './users.controller';
import { UsersService } from './users.service';

@Module({ controllers: [UsersController], providers: [UsersService, AdminBootstrap] })
export class UsersModule {}
